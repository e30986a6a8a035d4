"""Gaussian MMD²: zero on identical sets, symmetric, positive under a shift, equal to the double sum."""

from __future__ import annotations

import math

import pytest
import torch

from geofuse.backend.models.mmd import mmd2


def _brute_mmd2(x: list[list[float]], y: list[list[float]], sigma: float) -> float:
    def k(a: list[float], b: list[float]) -> float:
        return math.exp(-sum((ai - bi) ** 2 for ai, bi in zip(a, b, strict=True)) / (2.0 * sigma**2))

    def mean_k(xs: list[list[float]], ys: list[list[float]]) -> float:
        return sum(k(a, b) for a in xs for b in ys) / (len(xs) * len(ys))

    return mean_k(x, x) + mean_k(y, y) - 2.0 * mean_k(x, y)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 3.0])
def test_matches_double_python_loop(sigma: float) -> None:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 9, 3, generator=generator, dtype=torch.float64)
    y = torch.randn(2, 6, 3, generator=generator, dtype=torch.float64) + 0.7
    got = mmd2(x, y, sigma)
    expected = [_brute_mmd2(x[b].tolist(), y[b].tolist(), sigma) for b in range(2)]
    assert got.shape == (2,)
    assert got.tolist() == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_zero_for_identical_sets_and_invariant_to_order() -> None:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(20, 4, generator=generator)
    assert mmd2(x, x).item() == 0.0
    assert abs(mmd2(x, x[torch.randperm(20, generator=generator)]).item()) < 1e-6


def test_symmetric() -> None:
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(3, 15, 4, generator=generator)
    y = torch.randn(3, 11, 4, generator=generator) * 2.0
    assert torch.allclose(mmd2(x, y, 1.5), mmd2(y, x, 1.5))


def test_positive_and_growing_for_shifted_gaussians() -> None:
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(200, 2, generator=generator)
    y = torch.randn(200, 2, generator=generator)
    values = [mmd2(x, y + shift, 1.0).item() for shift in (0.0, 0.5, 2.0)]
    assert values[1] > 0.05
    assert values[0] < values[1] < values[2]


def test_gradient_and_bad_sigma() -> None:
    x = torch.randn(5, 3, requires_grad=True)
    mmd2(x, torch.randn(5, 3) + 1.0).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="sigma"):
        mmd2(x, x, 0.0)
