"""Every registered model: forward and backward pass, output shape, sizes and errors."""

import pytest
import torch

from charbench.errors import OptionError, UnknownNameError
from charbench.models import MODELS, count_parameters, create_model

torch.set_num_threads(1)

EXPECTED = {"simple_cnn", "mlp", "omniglot_cnn", "kuzushiji_cnn", "resnet18", "resnet34", "preact_resnet18"}


def test_issue_models_are_registered():
    assert EXPECTED <= set(MODELS.names())


@pytest.mark.parametrize("name", MODELS.names())
def test_forward_backward(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=7, image_size=28)
    x = torch.randn(2, 1, 28, 28, requires_grad=True)
    logits = model(x)
    assert logits.shape == (2, 7)
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 6]))
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("name", ["simple_cnn", "mlp", "omniglot_cnn", "kuzushiji_cnn", "resnet18"])
@pytest.mark.parametrize("size", [32, 64])
def test_other_image_sizes(name, size):
    model = create_model(name, num_classes=3, image_size=size).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 1, size, size)).shape == (1, 3)


def test_in_chans_and_size_dependent_parameters():
    model = create_model("simple_cnn", num_classes=5, image_size=32, in_chans=3).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 5)
    assert count_parameters(create_model("mlp", 10, 28)) == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10


def test_unknown_model_suggests_close_names():
    with pytest.raises(UnknownNameError, match="resnet18"):
        create_model("resnet81", num_classes=10, image_size=28)


@pytest.mark.parametrize("kwargs", [{"num_classes": 1, "image_size": 28}, {"num_classes": 10, "image_size": 4}])
def test_bad_sizes_raise_option_error(kwargs):
    with pytest.raises(OptionError):
        create_model("simple_cnn", **kwargs)


def test_omniglot_cnn_too_small_image():
    with pytest.raises(OptionError, match="at least 16"):
        create_model("omniglot_cnn", num_classes=10, image_size=12)
