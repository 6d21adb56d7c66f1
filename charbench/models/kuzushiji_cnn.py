"""The Kuzushiji write-ups' CNN: conv -> ReLU -> BatchNorm blocks doubling channels to 512 with stride-2 steps.

A stride-1 stem at 32 channels, then one stage per doubling (64, 128, 256, 512), each a stride-2 block and a
stride-1 block; adaptive average pooling and a BatchNorm -> Dropout -> Linear head, so any image size works.
"""

from __future__ import annotations

from torch import nn

from charbench.models.registry import register_model


def _block(cin: int, cout: int, stride: int) -> list[nn.Module]:
    # ReLU before BatchNorm, as in the Keras notebooks this model comes from
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.ReLU(inplace=True), nn.BatchNorm2d(cout)]


class KuzushijiCNN(nn.Module):
    """Stem + four stride-2 stages; global average pooling; BatchNorm-Dropout-Linear head."""

    def __init__(
        self, num_classes: int, image_size: int, in_chans: int = 1, stem: int = 32, depth: int = 4, dropout: float = 0.5
    ):
        super().__init__()
        del image_size  # adaptive pooling makes the head independent of the input size
        layers, width = _block(in_chans, stem, 1), stem
        for _ in range(depth):
            layers += _block(width, width * 2, 2) + _block(width * 2, width * 2, 1)
            width *= 2
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(
            nn.Flatten(), nn.BatchNorm1d(width), nn.Dropout(dropout), nn.Linear(width, num_classes)
        )

    def forward(self, x):
        return self.head(self.pool(self.features(x)))


@register_model
def kuzushiji_cnn(num_classes: int, image_size: int, in_chans: int = 1, **kwargs) -> KuzushijiCNN:
    """Channels 32 -> 64 -> 128 -> 256 -> 512, stride-2 steps, BatchNorm throughout."""
    return KuzushijiCNN(num_classes, image_size, in_chans, **kwargs)
