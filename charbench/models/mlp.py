"""MLPs of the field's notebooks: the PyTorch MNIST tutorial's 784-128-64-10 (ReLU then Tanh), and the Keras
write-ups' 128-128 ReLU MLP; the input size is taken from the images."""

from __future__ import annotations

from torch import nn

from charbench.models.registry import register_model

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


class MLP(nn.Module):
    """Flatten -> Linear -> activation per hidden layer -> Linear(num_classes)."""

    def __init__(self, num_classes: int, image_size: int, in_chans: int = 1, hidden: tuple[int, ...] = (128, 64),
                 activations: tuple[str, ...] = ("relu", "tanh")):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_chans * image_size * image_size
        for size, act in zip(hidden, activations, strict=True):
            layers += [nn.Linear(width, size), _ACTIVATIONS[act]()]
            width = size
        self.net = nn.Sequential(*layers, nn.Linear(width, num_classes))

    def forward(self, x):
        return self.net(x)


@register_model
def mlp(num_classes: int, image_size: int, in_chans: int = 1, **kwargs) -> MLP:
    """784-128-64-10 style MLP sized to the input (ReLU, then Tanh)."""
    return MLP(num_classes, image_size, in_chans, **kwargs)


@register_model
def mlp_128_128(num_classes: int, image_size: int, in_chans: int = 1, **kwargs) -> MLP:
    """Two hidden layers of 128 ReLU units (the Keras EMNIST-digits write-up)."""
    return MLP(num_classes, image_size, in_chans, hidden=(128, 128), activations=("relu", "relu"), **kwargs)
