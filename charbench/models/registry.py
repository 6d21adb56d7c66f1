"""The model registry: reference CNNs built by name for a dataset's class count and image size."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from charbench.errors import OptionError
from charbench.registry import Registry

ModelFactory = Callable[..., nn.Module]

MODELS: Registry[ModelFactory] = Registry("model")


def register_model(fn: ModelFactory) -> ModelFactory:
    """Register a model factory under its function name.

    The factory takes ``num_classes``, ``image_size`` and ``in_chans`` keyword arguments and returns an
    ``nn.Module`` mapping ``float [B, in_chans, S, S]`` to logits ``[B, num_classes]``.
    """
    MODELS.add(fn.__name__, fn)
    return fn


def create_model(name: str, num_classes: int, image_size: int, in_chans: int = 1, **kwargs) -> nn.Module:
    """Build the registered model ``name`` for ``num_classes`` classes on ``image_size`` x ``image_size`` inputs.

    Raises:
        UnknownNameError: ``name`` is not registered (the message lists close matches).
        OptionError: a size or class count the model cannot take.
    """
    factory = MODELS.get(name)
    if num_classes < 2:
        raise OptionError(f"{name} needs at least 2 classes, got {num_classes}")
    if image_size < 8:
        raise OptionError(f"{name} needs images of at least 8x8 pixels, got {image_size}x{image_size}")
    if in_chans < 1:
        raise OptionError(f"{name} needs at least 1 input channel, got {in_chans}")
    return factory(num_classes=num_classes, image_size=image_size, in_chans=in_chans, **kwargs)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
