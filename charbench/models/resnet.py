"""BasicBlock ResNets for one-channel small images: ResNet-18/34 and their pre-activation variants.

Adapted the way the CIFAR / KMNIST-paper code adapts them: a 3x3 stride-1 stem and no early max-pool, so a
28-32 px image keeps its resolution into the first stage (He et al. 2016; pre-activation: He et al. 2016b,
the PreActResNet-18 of Clanuwat et al. 2018).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from charbench.models.registry import register_model

_WIDTHS = (64, 128, 256, 512)


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def _shortcut(cin: int, cout: int, stride: int, norm: bool) -> nn.Module:
    if stride == 1 and cin == cout:
        return nn.Identity()
    conv = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(cout)) if norm else conv


class BasicBlock(nn.Module):
    """conv-BN-ReLU-conv-BN plus shortcut, then ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1, self.bn1 = _conv3x3(cin, cout, stride), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = _conv3x3(cout, cout), nn.BatchNorm2d(cout)
        self.shortcut = _shortcut(cin, cout, stride, norm=True)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class PreActBlock(nn.Module):
    """BN-ReLU-conv-BN-ReLU-conv plus shortcut taken after the first activation."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), _conv3x3(cin, cout, stride)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), _conv3x3(cout, cout)
        self.shortcut = _shortcut(cin, cout, stride, norm=False)

    def forward(self, x):
        out = F.relu(self.bn1(x))
        short = x if isinstance(self.shortcut, nn.Identity) else self.shortcut(out)
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + short


class ResNet(nn.Module):
    """3x3 stem, four stages of ``depths`` blocks (strides 1, 2, 2, 2), global average pool, linear head."""

    def __init__(self, block: type[nn.Module], depths: tuple[int, ...], num_classes: int, in_chans: int = 1):
        super().__init__()
        self.preact = block is PreActBlock
        self.stem = _conv3x3(in_chans, _WIDTHS[0])
        self.stem_bn = nn.Identity() if self.preact else nn.BatchNorm2d(_WIDTHS[0])
        stages, cin = [], _WIDTHS[0]
        for i, (width, depth) in enumerate(zip(_WIDTHS, depths)):
            blocks = [
                block(cin if j == 0 else width, width, (1 if i == 0 else 2) if j == 0 else 1) for j in range(depth)
            ]
            stages.append(nn.Sequential(*blocks))
            cin = width
        self.stages = nn.Sequential(*stages)
        # pre-activation nets end with the BN-ReLU their last block did not apply
        self.final_bn = nn.BatchNorm2d(cin) if self.preact else nn.Identity()
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.stem_bn(self.stem(x))
        if not self.preact:
            x = F.relu(x)
        x = self.stages(x)
        if self.preact:
            x = F.relu(self.final_bn(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


@register_model
def resnet18(num_classes: int, image_size: int, in_chans: int = 1, **kwargs) -> ResNet:
    """ResNet-18 (BasicBlock x [2, 2, 2, 2]) for small one-channel images."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, in_chans, **kwargs)


@register_model
def resnet34(num_classes: int, image_size: int, in_chans: int = 1, **kwargs) -> ResNet:
    """ResNet-34 (BasicBlock x [3, 4, 6, 3]) for small one-channel images."""
    return ResNet(BasicBlock, (3, 4, 6, 3), num_classes, in_chans, **kwargs)


@register_model
def preact_resnet18(num_classes: int, image_size: int, in_chans: int = 1, **kwargs) -> ResNet:
    """PreActResNet-18, the KMNIST paper's strong baseline."""
    return ResNet(PreActBlock, (2, 2, 2, 2), num_classes, in_chans, **kwargs)


@register_model
def preact_resnet34(num_classes: int, image_size: int, in_chans: int = 1, **kwargs) -> ResNet:
    """Pre-activation ResNet-34."""
    return ResNet(PreActBlock, (3, 4, 6, 3), num_classes, in_chans, **kwargs)
