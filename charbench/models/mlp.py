"""The classic PyTorch MNIST tutorial MLP: 784-128-64-10 with ReLU then Tanh, input size taken from the images."""

from __future__ import annotations

from torch import nn

from charbench.models.registry import register_model


class MLP(nn.Module):
    """Flatten -> Linear(S*S*C, 128) -> ReLU -> Linear(128, 64) -> Tanh -> Linear(64, num_classes)."""

    def __init__(self, num_classes: int, image_size: int, in_chans: int = 1, hidden: tuple[int, int] = (128, 64)):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_chans * image_size * image_size, hidden[0]),
            nn.ReLU(inplace=True),
            nn.Linear(hidden[0], hidden[1]),
            nn.Tanh(),
            nn.Linear(hidden[1], num_classes),
        )

    def forward(self, x):
        return self.net(x)


@register_model
def mlp(num_classes: int, image_size: int, in_chans: int = 1, **kwargs) -> MLP:
    """784-128-64-10 style MLP sized to the input."""
    return MLP(num_classes, image_size, in_chans, **kwargs)
