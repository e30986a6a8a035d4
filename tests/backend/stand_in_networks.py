"""Stand-in networks for the engine tests, with the model cards they run under.

The engine takes any ``network(optical, elevation) -> logits``, so tests that are about tiling, faults or
input handling use these small random networks instead of a GeoFuseNet (seconds instead of minutes on CPU).
They live here, not in a test module, so that tests and the subprocess harnesses import them without
importing another test module.
"""

from __future__ import annotations

import torch
from torch import nn

from geofuse.backend.checkpoint import ModelCard
from geofuse.backend.data.normalize import NormalizationConfig
from geofuse.backend.models.network import ModelConfig

TINY_CARD = ModelCard(ModelConfig(variant="baseline"))
"""The card :class:`TinyNet` runs under: the defaults of a baseline checkpoint."""

PIXELWISE_CARD = ModelCard(
    ModelConfig(variant="baseline"), normalization=NormalizationConfig(elevation_mode="absolute")
)
"""The card :func:`pixelwise` runs under: absolute elevation normalises independently of the window, so
tiling alone is what a tiled-versus-one-pass comparison sees."""


class TinyNet(nn.Module):
    """Two random convolutions: any ``network(optical, elevation) -> logits`` serves the engine."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layers = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 6, 1))

    def forward(self, optical: torch.Tensor, elevation: torch.Tensor) -> torch.Tensor:
        """Logits of the six classes from optical ⊕ elevation."""
        return self.layers(torch.cat([optical, elevation], dim=1))


def pixelwise() -> torch.nn.Module:
    """A 1×1 convolution: each pixel's logits depend on that pixel only."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(4, 6, 1)

    class Pixelwise(torch.nn.Module):
        def forward(self, optical: torch.Tensor, elevation: torch.Tensor) -> torch.Tensor:
            return conv(torch.cat([optical, elevation], dim=1))

    return Pixelwise().eval()
