"""The Omniglot notebooks' CNN: four 4x4 stride-2 convolutions 32-64-128-256 with LeakyReLU(0.2), a linear head."""

from __future__ import annotations

from torch import nn

from charbench.errors import OptionError
from charbench.models.registry import register_model


def _out_size(size: int, convs: int) -> int:
    # conv 4x4, stride 2, padding 1 halves the size (floor) each time
    for _ in range(convs):
        size = (size + 2 - 4) // 2 + 1
    return size


class OmniglotCNN(nn.Module):
    """Four strided 4x4 convolutions; the head sees the flattened final feature map."""

    def __init__(self, num_classes: int, image_size: int, in_chans: int = 1, widths=(32, 64, 128, 256)):
        super().__init__()
        layers, prev = [], in_chans
        for width in widths:
            layers += [nn.Conv2d(prev, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            prev = width
        self.features = nn.Sequential(*layers)
        side = _out_size(image_size, len(widths))
        if side < 1:
            raise OptionError(f"omniglot_cnn needs images of at least {2 ** len(widths)} px, got {image_size}")
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(prev * side * side, num_classes))

    def forward(self, x):
        return self.head(self.features(x))


@register_model
def omniglot_cnn(num_classes: int, image_size: int, in_chans: int = 1, **kwargs) -> OmniglotCNN:
    """Four 4x4 stride-2 convolutions 32-64-128-256, LeakyReLU(0.2), linear head."""
    return OmniglotCNN(num_classes, image_size, in_chans, **kwargs)
