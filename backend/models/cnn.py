"""Convolutional encoder branch (branch 1): a ResNet-like stem and four stages at strides 4, 8, 16, 32."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn


def conv_bn_act(in_channels: int, out_channels: int, stride: int = 1, act: bool = True) -> nn.Sequential:
    """3×3 convolution, BatchNorm and (optionally) ReLU: the unit every ResNet-like block is made of."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
    ]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """ResNet basic block (two 3×3 convolutions and an identity or strided 1×1 shortcut).

    Args:
        in_channels: Channels of the input map.
        out_channels: Channels of the output map.
        stride: 2 for the block that opens a downsampling stage, else 1.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = conv_bn_act(in_channels, out_channels, stride)
        self.conv2 = conv_bn_act(out_channels, out_channels, act=False)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        """Return relu(conv2(conv1(x)) + shortcut(x))."""
        return self.act(self.conv2(self.conv1(x)) + self.shortcut(x))


class CNNEncoder(nn.Module):
    """ResNet-like encoder exposing its stem and stages, so the network can fuse between stages.

    The stem (two stride-2 3×3 convolutions) brings the input to stride 4; stage 0 keeps stride 4 and
    stages 1–3 each open with a stride-2 block, giving features at strides 4, 8, 16 and 32 with
    ``channels[i]`` channels.

    Args:
        in_channels: Channels of the input raster (3 for RGB/IRRG, 1 for a DSM).
        channels: Output channels of the four stages.
        depths: Basic blocks per stage.
    """

    strides: tuple[int, ...] = (4, 8, 16, 32)

    def __init__(self, in_channels: int, channels: Sequence[int], depths: Sequence[int]) -> None:
        super().__init__()
        if len(channels) != 4 or len(depths) != 4:
            raise ValueError(f"CNNEncoder needs 4 stages, got channels={channels}, depths={depths}")
        self.channels = tuple(channels)
        stem_channels = channels[0]
        self.stem = nn.Sequential(
            conv_bn_act(in_channels, stem_channels // 2, stride=2),
            conv_bn_act(stem_channels // 2, stem_channels, stride=2),
        )
        stages = []
        previous = stem_channels
        for index, (width, depth) in enumerate(zip(channels, depths, strict=True)):
            stride = 1 if index == 0 else 2
            blocks = [BasicBlock(previous, width, stride)]
            blocks += [BasicBlock(width, width) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
            previous = width
        self.stages = nn.ModuleList(stages)

    def forward(self, x: Tensor) -> list[Tensor]:
        """Run the branch alone (no fusion) and return the four stage outputs, finest first."""
        x = self.stem(x)
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features
