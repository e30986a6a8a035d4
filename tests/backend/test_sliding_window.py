"""Tiling and blending: tile grids, weights, and tiled == one pass for models without spatial context."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from stand_in_networks import PIXELWISE_CARD, pixelwise

from geofuse.backend.classes import IGNORE_INDEX
from geofuse.backend.data.normalize import normalize_elevation, normalize_optical
from geofuse.backend.sliding_window import (
    Box,
    SegmentationCancelled,
    TileData,
    blend_weights,
    predict_arrays,
    stream_predict,
)
from geofuse.backend.tiling import tile_starts


def arrays(height: int, width: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    optical = rng.integers(0, 256, (3, height, width)).astype(np.uint8)
    elevation = rng.normal(0.0, 20.0, (height, width)).astype(np.float32)
    return optical, elevation


@given(length=st.integers(1, 700), tile=st.integers(1, 300), overlap_share=st.floats(0, 0.9))
@settings(max_examples=200, deadline=None)
def test_tiles_cover_the_axis_inside_it(length: int, tile: int, overlap_share: float) -> None:
    overlap = int(tile * overlap_share)
    starts = tile_starts(length, tile, overlap)
    size = min(tile, length)
    assert starts[0] == 0 and starts[-1] + size == length
    assert all(start >= 0 and start + size <= length for start in starts)
    assert all(0 < b - a <= tile - overlap for a, b in itertools.pairwise(starts))
    strides = {b - a for a, b in itertools.pairwise(starts)}
    assert max(strides, default=0) - min(strides, default=0) <= 1  # evenly spread: no near-total overlap


def test_bad_tiling_is_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        tile_starts(100, 32, 32)
    with pytest.raises(ValueError, match="tile"):
        tile_starts(100, 0, 0)


def test_blend_weights_fall_off_towards_the_border() -> None:
    weights = blend_weights(64, 48, 8)
    assert weights.shape == (64, 48) and weights.min() > 0
    assert weights[32, 24] == 1.0 and weights[0, 0] == pytest.approx((1 / 9) ** 2)
    assert np.allclose(weights, weights[::-1, ::-1])
    assert (blend_weights(16, 16, 0) == 1).all()


@pytest.mark.parametrize(("tile", "overlap", "batch"), [(64, 16, 1), (100, 30, 3), (128, 0, 2), (300, 99, 4)])
def test_tiled_equals_one_pass_for_a_pixelwise_model(tile: int, overlap: int, batch: int) -> None:
    model = pixelwise()
    optical, elevation = arrays(150, 317)
    whole, whole_confidence = predict_arrays(model, PIXELWISE_CARD, optical, elevation, tile=1024, overlap=0)
    labels, confidence = predict_arrays(
        model, PIXELWISE_CARD, optical, elevation, tile=tile, overlap=overlap, batch_size=batch
    )
    assert np.array_equal(labels, whole)
    assert np.allclose(confidence, whole_confidence, atol=1e-5)


def test_confidence_is_the_max_softmax_probability() -> None:
    model = pixelwise()
    optical, elevation = arrays(40, 50)
    labels, confidence = predict_arrays(model, PIXELWISE_CARD, optical, elevation, tile=32, overlap=8)
    with torch.no_grad():
        inputs = (
            torch.from_numpy(normalize_optical(optical, PIXELWISE_CARD.normalization))[None],
            torch.from_numpy(normalize_elevation(elevation, PIXELWISE_CARD.normalization))[None, None],
        )
        probabilities = torch.softmax(model(*inputs), dim=1)[0]
    assert np.array_equal(labels, probabilities.argmax(0).numpy())
    assert np.allclose(confidence, probabilities.max(0).values.numpy(), atol=1e-4)


def test_nodata_and_nan_become_ignore_and_nan() -> None:
    optical, elevation = arrays(60, 70)
    optical[:, 5:10, 5:10] = 0
    elevation[40:45, 50:60] = np.nan
    valid = np.ones((60, 70), bool)
    valid[0, :] = False
    labels, confidence = predict_arrays(
        pixelwise(), PIXELWISE_CARD, optical, elevation, tile=32, overlap=8, optical_nodata=0, valid=valid
    )
    expected = np.zeros((60, 70), bool)
    expected[5:10, 5:10] = expected[40:45, 50:60] = expected[0, :] = True
    assert np.array_equal(labels == IGNORE_INDEX, expected)
    assert np.array_equal(np.isnan(confidence), expected)


def test_rows_arrive_in_order_once_and_tiles_stay_inside() -> None:
    optical, elevation = arrays(130, 90)
    reads, rows, progress = [], [], []

    def read(tile: Box, context: Box) -> TileData:
        assert context == tile  # absolute elevation needs no halo
        reads.append(tile)
        window = np.s_[tile.row : tile.row + tile.rows, tile.col : tile.col + tile.cols]
        valid = np.ones((tile.rows, tile.cols), bool)
        return TileData(optical[(slice(None), *window)], elevation[window], valid, valid)

    def write(row: int, labels: np.ndarray, confidence: np.ndarray) -> None:
        assert labels.shape == confidence.shape and labels.shape[1] == 90
        rows.append((row, len(labels)))

    stats = stream_predict(
        pixelwise(),
        PIXELWISE_CARD,
        130,
        90,
        read,
        write,
        tile=48,
        overlap=12,
        batch_size=2,
        progress=progress.append,
    )
    assert stats.tiles == len(reads) == 4 * 3 and stats.batch_size == 2
    assert all(r + h <= 130 and c + w <= 90 for r, c, h, w in reads)
    assert rows[0][0] == 0 and all(a + n == b for (a, n), (b, _) in itertools.pairwise(rows))
    assert rows[-1][0] + rows[-1][1] == 130
    assert progress[-1].done == progress[-1].total == 12 and progress[-1].fraction == 1.0


def test_cancel_stops_before_the_next_batch() -> None:
    optical, elevation = arrays(64, 64)
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) == 2

    def read(tile: Box, context: Box) -> TileData:
        valid = np.ones((tile.rows, tile.cols), bool)
        window = np.s_[: tile.rows, : tile.cols]
        return TileData(optical[(slice(None), *window)], elevation[window], valid, valid)

    with pytest.raises(SegmentationCancelled):
        stream_predict(
            pixelwise(), PIXELWISE_CARD, 64, 64, read, lambda *_: None, tile=32, overlap=0, cancel=cancel
        )
    assert len(calls) == 2


def test_shapes_are_checked() -> None:
    optical, elevation = arrays(20, 20)
    with pytest.raises(ValueError, match="optical must be"):
        predict_arrays(pixelwise(), PIXELWISE_CARD, optical[:2], elevation)
    with pytest.raises(ValueError, match="elevation"):
        predict_arrays(pixelwise(), PIXELWISE_CARD, optical, elevation[:10])
