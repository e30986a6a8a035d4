"""Scoring rasters strip by strip gives exactly the counts of the whole rasters, erosion included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from geofuse.backend.classes import IGNORE_INDEX, ISPRS_CLASSES
from geofuse.backend.evaluation import erode_boundaries
from geofuse.backend.raster_scores import score_rasters


def write(path: Path, labels: np.ndarray) -> Path:
    """A one-band uint8 class-index GeoTIFF in UTM 32N."""
    profile = {
        "driver": "GTiff", "height": labels.shape[0], "width": labels.shape[1], "count": 1, "dtype": "uint8",
        "crs": "EPSG:32632", "transform": from_origin(500000, 5600000, 0.1, 0.1),
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(labels, 1)
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """Blocky reference labels (so erosion has boundaries to remove) and a noisy prediction of them."""
    rng = np.random.default_rng(0)
    truth = np.kron(rng.integers(0, 6, (10, 7)), np.ones((9, 11), int)).astype(np.uint8)  # 90×77
    truth[rng.random(truth.shape) < 0.02] = IGNORE_INDEX
    prediction = np.where(rng.random(truth.shape) < 0.2, rng.integers(0, 6, truth.shape), truth)
    prediction[rng.random(truth.shape) < 0.03] = IGNORE_INDEX
    prediction = prediction.astype(np.uint8)
    return write(tmp_path / "p.tif", prediction), write(tmp_path / "t.tif", truth), prediction, truth


@pytest.mark.parametrize("radius", [0, 3])
@pytest.mark.parametrize("window_pixels", [77, 77 * 4, 1 << 22])
def test_strips_count_like_the_whole_raster(
    pair: tuple[Path, Path, np.ndarray, np.ndarray], radius: int, window_pixels: int
) -> None:
    prediction_path, truth_path, prediction, truth = pair
    eroded = erode_boundaries(truth, radius)
    scored = (eroded != IGNORE_INDEX) & (prediction != IGNORE_INDEX)
    expected = np.zeros((6, 6), np.int64)
    np.add.at(expected, (eroded[scored], prediction[scored]), 1)

    scores = score_rasters(prediction_path, truth_path, ISPRS_CLASSES, radius, window_pixels=window_pixels)

    assert scores is not None
    assert scores.matrix.tolist() == expected.tolist()
    assert scores.unpredicted == int(((eroded != IGNORE_INDEX) & (prediction == IGNORE_INDEX)).sum())
    if radius:
        assert expected.sum() < np.count_nonzero((truth != IGNORE_INDEX) & (prediction != IGNORE_INDEX))


def test_cancel_stops_between_strips(pair: tuple[Path, Path, np.ndarray, np.ndarray]) -> None:
    polls: list[int] = []

    def cancelled() -> bool:
        polls.append(1)
        return len(polls) > 2

    result = score_rasters(pair[0], pair[1], ISPRS_CLASSES, window_pixels=77 * 10, cancelled=cancelled)
    assert result is None
    assert len(polls) == 3


def test_refuses_two_grids(pair: tuple[Path, Path, np.ndarray, np.ndarray], tmp_path: Path) -> None:
    cropped = write(tmp_path / "c.tif", pair[3][:50])
    with pytest.raises(ValueError, match="one pixel grid"):
        score_rasters(pair[0], cropped, ISPRS_CLASSES)
