"""Frequency-aware decoder: the upsampler alone (sharpening measured on step edges) and the decoder."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from geofuse.backend.models.decoder import FrequencyAwareDecoder, FrequencyAwareUpsample

CHANNELS = 4
SIZE = 32


def step_edge(offset: int, contrast: float = 1.0, vertical: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """A sharp step at fine resolution (edge between pixels offset−1 and offset) and its 2× average-pool."""
    ramp = (torch.arange(SIZE) >= offset).float() * contrast
    fine = ramp.expand(SIZE, SIZE) if vertical else ramp[:, None].expand(SIZE, SIZE)
    fine = fine.expand(1, CHANNELS, SIZE, SIZE).clone()
    return F.avg_pool2d(fine, 2), fine


def edge_width(profile: torch.Tensor) -> float:
    """10–90 % rise distance (pixels, linear interpolation) of a rising edge between its two plateaus."""
    low, high = profile[:4].mean().item(), profile[-4:].mean().item()
    values = profile.tolist()

    def crossing(fraction: float) -> float:
        level = low + fraction * (high - low)
        for i in range(len(values) - 1):
            if values[i] < level <= values[i + 1]:
                return i + (level - values[i]) / (values[i + 1] - values[i])
        raise AssertionError(f"profile never crosses {level}")

    return crossing(0.9) - crossing(0.1)


def bilinear(coarse: torch.Tensor) -> torch.Tensor:
    return F.interpolate(coarse, scale_factor=2, mode="bilinear", align_corners=False)


def set_weights(block: FrequencyAwareUpsample, w_low: float, w_high: float) -> None:
    """Make the predictor output constant weights (w = 2·sigmoid(bias), so bias = logit(w / 2))."""
    last = block.weight_head[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([math.log(w / (2 - w)) for w in (w_low, w_high)]))


def test_starts_as_bilinear() -> None:
    coarse = torch.randn(2, CHANNELS, 8, 8)
    block = FrequencyAwareUpsample(CHANNELS, 3)
    out = block(coarse, torch.randn(2, 3, 16, 16))
    torch.testing.assert_close(out, bilinear(coarse))


def test_low_and_high_parts_reconstruct_the_upsampled_map() -> None:
    coarse = torch.randn(1, CHANNELS, 8, 8)
    low, high = FrequencyAwareUpsample(CHANNELS, 1).split(coarse, (16, 16))
    torch.testing.assert_close(low + high, bilinear(coarse))
    # The low-pass part is smoother: its total variation is smaller than the upsampled map's.
    assert low.diff(dim=-1).abs().sum() < (low + high).diff(dim=-1).abs().sum()


@pytest.mark.parametrize("offset", [15, 16])
def test_high_frequency_weight_sharpens_a_step_edge(offset: int) -> None:
    """w_H = 1.9 (unsharp masking with amount 0.9 against the 5×5 binomial) narrows the edge.

    Measured: 10–90 % width 3.40 → 2.83 px (edge through a coarse pixel, offset 15) and 2.20 → 1.50 px
    (edge on a coarse pixel boundary, offset 16); the steepest step grows from 0.25 to 0.29 and 0.50 to
    0.67. The price is a 5–10 % overshoot (asserted below 12 %); flat regions are unchanged. The middle of
    a linear ramp has no high-frequency part, so a constant w_H only steepens the ramp's ends; sharper
    edges need per-pixel weights (see the fitting test).
    """
    coarse, _ = step_edge(offset)
    block = FrequencyAwareUpsample(CHANNELS, 1)
    set_weights(block, w_low=1.0, w_high=1.9)
    sharpened = block(coarse, torch.zeros(1, 1, SIZE, SIZE))[0, 0, SIZE // 2]
    plain = bilinear(coarse)[0, 0, SIZE // 2]
    assert edge_width(sharpened) < 0.9 * edge_width(plain)
    assert sharpened.diff().max() > 1.05 * plain.diff().max()
    assert sharpened.max() - 1.0 < 0.12 and sharpened.min() > -0.12
    torch.testing.assert_close(sharpened[:8], plain[:8])
    torch.testing.assert_close(sharpened[-8:], plain[-8:])


def test_low_frequency_weighting_smooths_noise() -> None:
    """w_H → 0 keeps only the low-pass part: the output of a noisy flat map varies less than bilinear's."""
    torch.manual_seed(0)
    coarse = 0.5 + 0.1 * torch.randn(1, CHANNELS, 16, 16)
    block = FrequencyAwareUpsample(CHANNELS, 1)
    set_weights(block, w_low=1.0, w_high=0.01)
    smoothed = block(coarse, torch.zeros(1, 1, 32, 32))
    assert smoothed.std() < 0.9 * bilinear(coarse).std()


def test_fitted_weights_sharpen_unseen_edges() -> None:
    """After 40 Adam steps on step edges (no help from the guide: it is zero), the learned per-pixel
    weights give a narrower edge and a smaller error to the sharp target than bilinear on an unseen edge.

    Measured on the held-out edge (offset 19, contrast 1.2): 10–90 % width 3.4 → about 2.4 px, L1 error
    to the sharp step down by about a quarter. The per-pixel w_L does most of it (it scales the ramp down
    on the dark side and up on the bright side), which a constant weight cannot do.
    """
    torch.manual_seed(0)
    block = FrequencyAwareUpsample(CHANNELS, 1)
    optimiser = torch.optim.Adam(block.parameters(), lr=0.05)
    guide = torch.zeros(6, 1, SIZE, SIZE)
    for _ in range(40):
        pairs = [
            step_edge(int(torch.randint(6, 26, ())), float(torch.rand(()) + 0.5), bool(torch.rand(()) < 0.5))
            for _ in range(6)
        ]
        coarse, fine = (torch.cat(part) for part in zip(*pairs, strict=True))
        loss = F.l1_loss(block(coarse, guide), fine)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    coarse, fine = step_edge(19, 1.2)
    with torch.no_grad():
        learned = block(coarse, guide[:1])
    plain = bilinear(coarse)
    assert edge_width(learned[0, 0, SIZE // 2]) < 0.85 * edge_width(plain[0, 0, SIZE // 2])
    assert F.l1_loss(learned, fine) < 0.85 * F.l1_loss(plain, fine)


def test_decoder_output_shape_and_scale() -> None:
    strides = (4, 8, 16, 32)
    skips = [torch.randn(2, c, 64 // s, 64 // s) for c, s in zip((8, 16, 24, 32), strides, strict=True)]
    decoder = FrequencyAwareDecoder((8, 16, 24, 32), channels=16, num_classes=5)
    assert decoder(skips, (64, 64)).shape == (2, 5, 64, 64)
    assert len(decoder.upsample) == 3
