"""The KMNIST paper's baseline: the Keras MNIST example CNN.

conv3x3(32) -> ReLU -> conv3x3(64) -> ReLU -> max-pool 2 -> dropout 0.25 -> dense 128 -> ReLU -> dropout 0.5
-> linear. Valid (unpadded) convolutions, as in Keras. Trained with Adadelta, batch 128, 12 epochs in
Clanuwat et al. 2018 (arXiv:1812.01718), benchmarks/kuzushiji_mnist_cnn.py in github.com/rois-codh/kmnist.
"""

from __future__ import annotations

from torch import nn

from charbench.models.registry import register_model


class SimpleCNN(nn.Module):
    """Two valid 3x3 convolutions, one max-pool, one hidden dense layer."""

    def __init__(self, num_classes: int, image_size: int, in_chans: int = 1, hidden: int = 128):
        super().__init__()
        pooled = (image_size - 4) // 2
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 32, 3),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Dropout(0.25),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * pooled * pooled, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.head(self.features(x))


@register_model
def simple_cnn(num_classes: int, image_size: int, in_chans: int = 1, **kwargs) -> SimpleCNN:
    """The Keras / KMNIST-paper baseline CNN."""
    return SimpleCNN(num_classes, image_size, in_chans, **kwargs)
