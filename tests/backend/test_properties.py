"""Properties over random shapes (hypothesis): tiling, OT alignment, MMD², the selective scan.

The per-module tests check these on chosen examples; here hypothesis draws the sizes: any raster size
and tile/overlap for the tiling, any token counts for OT and MMD², any batch/width/state/length for the
scan. Values are drawn from seeded torch/numpy generators (hypothesis picks the seed), so ties and
degenerate inputs do not hide the property being tested.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scan_reference import make_inputs, reference_scan
from stand_in_networks import PIXELWISE_CARD, pixelwise

from geofuse.backend.models import selective_scan_fn
from geofuse.backend.models.mmd import mmd2
from geofuse.backend.models.optimal_transport import align_tokens, nearest_global
from geofuse.backend.sliding_window import blend_weights, predict_arrays
from geofuse.backend.tiling import tile_starts

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)

PIXELWISE = pixelwise()


@st.composite
def tilings(draw: st.DrawFn) -> tuple[int, int, int, int, int]:
    """(height, width, tile, overlap, batch) with at most 300 tiles, so each example stays fast."""
    height, width = draw(st.integers(1, 96)), draw(st.integers(1, 96))
    tile = draw(st.integers(1, 64))
    overlap = draw(st.integers(0, tile - 1))
    count = len(tile_starts(height, tile, overlap)) * len(tile_starts(width, tile, overlap))
    assume(count <= 300)
    return height, width, tile, overlap, draw(st.integers(1, 3))


@given(tilings())
@SETTINGS
def test_tiles_cover_every_pixel_and_the_blend_weights_never_vanish(tiling: tuple) -> None:
    height, width, tile, overlap, _ = tiling
    rows, cols = tile_starts(height, tile, overlap), tile_starts(width, tile, overlap)
    tile_h, tile_w = min(tile, height), min(tile, width)
    count = np.zeros((height, width), np.int32)
    weight = np.zeros((height, width), np.float64)
    for row in rows:
        for col in cols:
            assert row >= 0 and row + tile_h <= height and col >= 0 and col + tile_w <= width
            count[row : row + tile_h, col : col + tile_w] += 1
            weight[row : row + tile_h, col : col + tile_w] += blend_weights(tile_h, tile_w, overlap)
    assert count.min() >= 1
    assert weight.min() >= 1 / (overlap + 1) ** 2 - 1e-9


@given(tilings(), st.integers(0, 2**16))
@SETTINGS
def test_after_blending_every_pixel_counts_exactly_once(tiling: tuple, seed: int) -> None:
    """For a pixelwise model, tiled and blended == one pass: each pixel's normalised weights sum to one."""
    height, width, tile, overlap, batch = tiling
    rng = np.random.default_rng(seed)
    optical = rng.integers(0, 256, (3, height, width)).astype(np.uint8)
    elevation = rng.normal(0.0, 20.0, (height, width)).astype(np.float32)

    whole, whole_confidence = predict_arrays(
        PIXELWISE, PIXELWISE_CARD, optical, elevation, tile=max(height, width), overlap=0
    )
    labels, confidence = predict_arrays(
        PIXELWISE, PIXELWISE_CARD, optical, elevation, tile=tile, overlap=overlap, batch_size=batch
    )

    np.testing.assert_allclose(confidence, whole_confidence, atol=1e-5)
    decided = np.abs(confidence - whole_confidence) < 1e-5  # argmax ties (equal logits) may go either way
    assert np.array_equal(labels[decided], whole[decided])


@given(
    batch=st.integers(1, 3),
    tokens_p=st.integers(1, 40),
    tokens_g=st.integers(1, 40),
    dim=st.integers(2, 8),  # in one dimension every cosine is ±1: all ties
    seed=st.integers(0, 2**16),
)
@SETTINGS
def test_ot_plans_are_equivariant_to_permuting_either_token_set(
    batch: int, tokens_p: int, tokens_g: int, dim: int, seed: int
) -> None:
    """X_p^π = X_p[π_p], X_g^π = X_g[π_g] ⇒ j*^π(i) = π_g⁻¹(j*(π_p(i))) and i*^π(j) = π_p⁻¹(i*(π_g(j)))."""
    generator = torch.Generator().manual_seed(seed)
    x_p = torch.randn(batch, tokens_p, dim, generator=generator, dtype=torch.float64)
    x_g = torch.randn(batch, tokens_g, dim, generator=generator, dtype=torch.float64)
    perm_p = torch.randperm(tokens_p, generator=generator)
    perm_g = torch.randperm(tokens_g, generator=generator)
    p_to_g, g_to_p = nearest_global(x_p, x_g, chunk=7)

    p_to_g_perm, g_to_p_perm = nearest_global(x_p[:, perm_p], x_g[:, perm_g], chunk=7)

    inverse_p, inverse_g = torch.argsort(perm_p), torch.argsort(perm_g)
    assert torch.equal(p_to_g_perm, inverse_g[p_to_g[:, perm_p]])
    assert torch.equal(g_to_p_perm, inverse_p[g_to_p[:, perm_g]])


@given(
    batch=st.integers(1, 2),
    height=st.integers(1, 6),
    width=st.integers(1, 6),
    dim=st.integers(2, 8),  # in one dimension every cosine is ±1: all ties
    seed=st.integers(0, 2**16),
)
@SETTINGS
def test_ot_alignment_is_equivariant_to_permuting_the_grid(
    batch: int, height: int, width: int, dim: int, seed: int
) -> None:
    """Moving the tokens of both modalities by one permutation π of the grid moves X'_p and X'_g by π."""
    generator = torch.Generator().manual_seed(seed)
    tokens = height * width
    x_p = torch.randn(batch, tokens, dim, generator=generator, dtype=torch.float64)
    x_g = torch.randn(batch, tokens, dim, generator=generator, dtype=torch.float64)
    perm = torch.randperm(tokens, generator=generator)
    aligned_p, aligned_g = align_tokens(x_p, x_g, height, width, chunk=5)

    permuted_p, permuted_g = align_tokens(x_p[:, perm], x_g[:, perm], height, width, chunk=5)

    torch.testing.assert_close(permuted_p, aligned_p[:, perm])
    torch.testing.assert_close(permuted_g, aligned_g[:, perm])


@given(
    batch=st.integers(1, 3),
    tokens_x=st.integers(1, 30),
    tokens_y=st.integers(1, 30),
    dim=st.integers(1, 6),
    sigma=st.floats(0.05, 20.0),
    scale=st.floats(1e-3, 1e3),
    seed=st.integers(0, 2**16),
)
@SETTINGS
def test_mmd2_is_non_negative_symmetric_and_zero_on_identical_sets(
    batch: int, tokens_x: int, tokens_y: int, dim: int, sigma: float, scale: float, seed: int
) -> None:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, tokens_x, dim, generator=generator) * scale
    y = torch.randn(batch, tokens_y, dim, generator=generator) * scale + 0.5

    forward, backward, same = mmd2(x, y, sigma), mmd2(y, x, sigma), mmd2(x, x, sigma)

    assert forward.shape == (batch,)
    assert (forward >= -1e-5).all(), forward  # a V-statistic: ≥ 0 up to float32 rounding of the means
    torch.testing.assert_close(forward, backward, atol=1e-5, rtol=1e-5)
    assert same.abs().max() <= 1e-6
    shuffled = x[:, torch.randperm(tokens_x, generator=generator)]
    # Reordering the tokens reorders float32 sums of up to 900 kernel values (and their split across
    # threads): 3e-5 was seen after other tests had changed torch's thread count.
    torch.testing.assert_close(mmd2(shuffled, y, sigma), forward, atol=1e-4, rtol=1e-5)


@st.composite
def scan_shapes(draw: st.DrawFn) -> dict:
    dim = draw(st.integers(1, 6))
    grouped = draw(st.booleans())
    return {
        "batch": draw(st.integers(1, 2)),
        "dim": dim,
        "state": draw(st.integers(1, 5)),
        "length": draw(st.integers(1, 48)),
        "groups": draw(st.sampled_from([g for g in range(1, dim + 1) if dim % g == 0])) if grouped else None,
        "options": draw(st.sampled_from(["", "D", "z", "b", "Dzb"])),
        "softplus": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


@given(scan_shapes(), st.booleans())
@SETTINGS
def test_selective_scan_equals_the_sequential_loop(shape: dict, last_state: bool) -> None:
    inputs = {name: tensor.detach() for name, tensor in make_inputs(**shape).items()}
    options = {"delta_softplus": shape["softplus"], "return_last_state": last_state}

    got = selective_scan_fn(**inputs, **options)
    want = reference_scan(**inputs, **options)

    if last_state:
        torch.testing.assert_close(got[0], want[0])
        torch.testing.assert_close(got[1], want[1])
    else:
        torch.testing.assert_close(got, want)


def test_the_stand_in_is_pixelwise() -> None:
    """The tiling properties rely on this: a pixel's logits do not change with its neighbours."""
    optical, elevation = torch.rand(1, 3, 5, 5), torch.rand(1, 1, 5, 5)
    changed = optical.clone()
    changed[0, :, 0, 0] += 1
    with torch.no_grad():
        before, after = PIXELWISE(optical, elevation), PIXELWISE(changed, elevation)
    assert torch.equal(before[..., 1:, :], after[..., 1:, :])
    assert not torch.equal(before[..., 0, 0], after[..., 0, 0])
