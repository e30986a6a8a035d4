"""Frequency-aware decoder: ×2 upsampling steps that re-weight low and high frequencies per pixel."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    """Convolution, BatchNorm and ReLU with 'same' padding."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class FrequencyAwareUpsample(nn.Module):
    """Upsample ×2 and re-weight the low- and high-frequency parts of the result per pixel.

    U = bilinear×2(coarse) is split into L = blur(U) (a fixed 5×5 binomial low-pass) and H = U − L.
    Per-pixel weights w_L, w_H ∈ (0, 2), predicted from U and a guide map at the target resolution (the
    decoder's skip), give w_L·L + w_H·H: w_H > 1 sharpens (unsharp masking), w_H < 1 smooths. The weight
    predictor's last convolution starts at zero, so w_L = w_H = 1 and the block starts as exactly
    bilinear upsampling; training moves it away from that only where it helps.

    Args:
        channels: Channels of the coarse map (and of the output).
        guide_channels: Channels of the guide map.
        hidden: Channels of the weight predictor's hidden layer.
    """

    def __init__(self, channels: int, guide_channels: int, hidden: int = 16) -> None:
        super().__init__()
        self.channels = channels
        binomial = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
        kernel = torch.outer(binomial, binomial) / 256.0
        self.register_buffer("low_pass", kernel.expand(channels, 1, 5, 5).clone(), persistent=False)
        self.weight_head = nn.Sequential(
            nn.Conv2d(channels + guide_channels, hidden, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, 2, 3, padding=1),
        )
        nn.init.zeros_(self.weight_head[-1].weight)
        nn.init.zeros_(self.weight_head[-1].bias)

    def split(self, coarse: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
        """Upsample ``coarse`` bilinearly to ``size`` and return its (low, high) frequency parts."""
        upsampled = F.interpolate(coarse, size=size, mode="bilinear", align_corners=False)
        low = F.conv2d(F.pad(upsampled, (2, 2, 2, 2), mode="replicate"), self.low_pass, groups=self.channels)
        return low, upsampled - low

    def frequency_weights(self, low: Tensor, high: Tensor, guide: Tensor) -> Tensor:
        """Per-pixel weights B×2×H×W (w_L, w_H), each in (0, 2)."""
        return 2.0 * torch.sigmoid(self.weight_head(torch.cat([low + high, guide], dim=1)))

    def forward(self, coarse: Tensor, guide: Tensor) -> Tensor:
        """Upsample ``coarse`` (B×C×h×w) to the guide's size (B×C_g×H×W), returning B×C×H×W."""
        low, high = self.split(coarse, guide.shape[-2:])
        weights = self.frequency_weights(low, high, guide)
        return weights[:, :1] * low + weights[:, 1:] * high


class FrequencyAwareDecoder(nn.Module):
    """Decoder from the four fused skips (strides 4–32) to per-class logits at the input size.

    Each skip is projected to ``channels`` by a 1×1 conv; starting from the stride-32 map, each ×2 step
    is a FrequencyAwareUpsample guided by the next skip, followed by concat with that skip and a 3×3
    conv. A 1×1 classifier gives K logits at stride 4, upsampled bilinearly to the input size.

    Args:
        skip_channels: Channels of the four skips, finest first.
        channels: Decoder width.
        num_classes: K.
    """

    def __init__(self, skip_channels: Sequence[int], channels: int, num_classes: int) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(conv_bn_relu(c, channels, 1) for c in skip_channels)
        steps = len(skip_channels) - 1
        self.upsample = nn.ModuleList(FrequencyAwareUpsample(channels, channels) for _ in range(steps))
        self.fuse = nn.ModuleList(conv_bn_relu(2 * channels, channels, 3) for _ in range(steps))
        self.classifier = nn.Conv2d(channels, num_classes, 1)

    def forward(self, skips: Sequence[Tensor], output_size: tuple[int, int]) -> Tensor:
        """Decode ``skips`` (finest first) to B×K×output_size logits."""
        x = self.lateral[-1](skips[-1])
        for index in reversed(range(len(skips) - 1)):
            skip = self.lateral[index](skips[index])
            x = self.upsample[index](x, skip)
            x = self.fuse[index](torch.cat([x, skip], dim=1))
        logits = self.classifier(x)
        return F.interpolate(logits, size=output_size, mode="bilinear", align_corners=False)
