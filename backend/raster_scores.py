"""Scoring a classified raster against a ground-truth raster on the same grid, read window by window.

Both rasters may hold class indices (255 or their nodata value = not scored) or class colours. They are
read in strips of whole rows, so memory stays the same whatever the raster size, as in ``geofuse segment``.
With the eroded-boundary protocol (``backend.evaluation.erode_boundaries``) each ground-truth strip is read
with ``radius`` extra rows above and below, eroded, and cropped back: every pixel sees the same
neighbours as in the whole raster, so the counts are exactly those of eroding the whole reference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import torch
from rasterio.windows import Window

from .classes import IGNORE_INDEX, ClassInfo, check_indices, colours_to_indices
from .evaluation import erode_boundaries
from .metrics import confusion_matrix

WINDOW_PIXELS = 1 << 20
"""Pixels per strip (1 Mi), whatever the raster size. The erosion and counting temporaries scale with it:
strips of 4 Mi pixels peaked 150 MiB higher (633 against 496 MiB scoring 8192² with erosion, measured)."""

Grid = tuple[int, int, rasterio.Affine]
"""(width, height, geotransform) of a raster."""


@dataclass(frozen=True)
class RasterScores:
    """Counts of one classified raster against its reference.

    Attributes:
        matrix: K×K confusion counts (rows: reference, columns: prediction) of pixels with both.
        unpredicted: Reference pixels (after erosion) that have no prediction (255 / nodata there).
    """

    matrix: torch.Tensor
    unpredicted: int


def raster_grid(path: str | Path) -> Grid:
    """(width, height, geotransform) of the raster at ``path``."""
    with rasterio.open(path) as dataset:
        return dataset.width, dataset.height, dataset.transform


def score_rasters(
    prediction: str | Path,
    truth: str | Path,
    classes: Sequence[ClassInfo],
    eroded_radius: int = 0,
    window_pixels: int = WINDOW_PIXELS,
    cancelled: Callable[[], bool] | None = None,
) -> RasterScores | None:
    """Count (reference, prediction) pairs over two rasters on one grid, strip by strip.

    Args:
        prediction: The classified raster.
        truth: The ground truth.
        classes: The class table both use.
        eroded_radius: Leave out reference pixels within this disc radius of a class boundary (0: none).
        window_pixels: About how many pixels one strip holds.
        cancelled: Polled between strips; when it returns True, scoring stops and None is returned.

    Returns:
        The counts, or None when cancelled.

    Raises:
        ValueError: If the two rasters are not on one grid.
        UnknownColourError, UnknownLabelError: For a pixel not in the class table.
    """
    grid, truth_grid = raster_grid(prediction), raster_grid(truth)
    if grid != truth_grid:
        raise ValueError(
            "the classified raster and the ground truth must share one pixel grid (size and geotransform); "
            f"got {grid[0]}×{grid[1]} and {truth_grid[0]}×{truth_grid[1]}"
        )
    width, height, _ = grid
    rows = max(1, window_pixels // max(width, 1))
    matrix = torch.zeros(len(classes), len(classes), dtype=torch.int64)
    unpredicted = 0
    with rasterio.open(prediction) as predicted, rasterio.open(truth) as reference:
        for top in range(0, height, rows):
            if cancelled is not None and cancelled():
                return None
            bottom = min(top + rows, height)
            labels = read_classes(predicted, top, bottom, classes, f"classified raster {prediction}")
            above, below = min(eroded_radius, top), min(eroded_radius, height - bottom)
            expected = read_classes(reference, top - above, bottom + below, classes, f"ground truth {truth}")
            expected = erode_boundaries(expected, eroded_radius)[above : above + bottom - top]
            scored = (expected != IGNORE_INDEX) & (labels != IGNORE_INDEX)
            matrix += confusion_matrix(
                torch.from_numpy(labels[scored].astype(np.int64)),
                torch.from_numpy(expected[scored].astype(np.int64)),
                len(classes),
            )
            unpredicted += int(((expected != IGNORE_INDEX) & (labels == IGNORE_INDEX)).sum())
    return RasterScores(matrix, unpredicted)


def read_classes(
    dataset: rasterio.DatasetReader, top: int, bottom: int, classes: Sequence[ClassInfo], source: str
) -> np.ndarray:
    """Rows ``top``…``bottom − 1`` as class indices (255 = none): band 1, or bands 1-3 as class colours.

    Raises:
        UnknownColourError, UnknownLabelError: For a pixel not in the class table (named in the file).
    """
    window = Window(0, top, dataset.width, bottom - top)
    colours = dataset.count >= 3 and dataset.colorinterp[0].name == "red"
    raw = dataset.read((1, 2, 3) if colours else 1, window=window)
    if colours:
        return colours_to_indices(raw, classes, offset=(top, 0), source=source)
    nodata = dataset.nodata
    if nodata is not None and not 0 <= nodata < len(classes):
        raw = np.where(raw == nodata, IGNORE_INDEX, raw)
    return check_indices(raw, len(classes), offset=(top, 0), source=source)
