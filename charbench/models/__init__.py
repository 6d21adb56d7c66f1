"""Reference CNNs in a registry: ``create_model(name, num_classes, image_size)``; one family per module."""

from charbench.models import kuzushiji_cnn, mlp, omniglot_cnn, resnet, simple_cnn  # noqa: F401  (registration)
from charbench.models.registry import MODELS, count_parameters, create_model, register_model

__all__ = ["MODELS", "count_parameters", "create_model", "register_model"]
