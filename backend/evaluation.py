"""Evaluation over whole tiles: sliding-window prediction, confusion matrices, ISPRS scores, reports.

Each tile is read whole (optical and elevation raw, labels as class indices), segmented with
:func:`~geofuse.backend.sliding_window.predict_arrays` (the same tiling, normalisation and blending as
``geofuse segment``), and compared with its reference. Scores follow :mod:`geofuse.backend.metrics`: OA,
per-class precision/recall/F1/IoU, mF1 and mIoU over the five ISPRS classes (clutter excluded) and over
all classes; undefined values are ``None``.

Eroded-boundary protocol (ISPRS): pixels within ``radius`` pixels of a class boundary in the reference are
left out (a disc of radius 3 in the benchmark), because reference boundaries are uncertain by a pixel or
two. It is computed from the full reference, so it works for any dataset, not just the ones that ship
``*_noBoundary`` rasters.

Also here: :func:`measure_cost`, the parameter count, FLOPs and throughput of a network, for ablation tables.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .checkpoint import ModelCard
from .classes import IGNORE_INDEX, ClassInfo, check_indices, colours_to_indices
from .data.folder import TileFiles, inspect_tile, open_raster
from .metrics import ISPRS_MEAN_CLASSES, SegmentationMetrics, compute_metrics, confusion_matrix
from .models.network import GeoFuseNet
from .sliding_window import predict_arrays


@dataclass(frozen=True)
class TileArrays:
    """One tile held in memory: raw inputs and the reference labels (``IGNORE_INDEX`` = not scored)."""

    name: str
    optical: np.ndarray
    elevation: np.ndarray
    labels: np.ndarray
    optical_nodata: float | None
    elevation_nodata: float | None


def read_tile(tile: TileFiles) -> TileArrays:
    """Read a whole tile; an elevation raster a little smaller than the optical one is padded with NaN.

    Raises:
        UnknownColourError, UnknownLabelError: If a label pixel is not in the class table.
    """
    info = inspect_tile(tile)
    with open_raster(tile.optical) as dataset:
        optical = dataset.read(list(info.optical_bands))
    elevation = np.full((info.height, info.width), np.nan, np.float32)
    with open_raster(tile.elevation) as dataset:
        data = dataset.read(1)[: info.height, : info.width]
    elevation[: data.shape[0], : data.shape[1]] = data
    with open_raster(tile.labels) as dataset:
        raw = dataset.read((1, 2, 3) if tile.label_colours else 1)
    source = f"tile {tile.name!r} labels {tile.labels}"
    if tile.label_colours:
        labels = colours_to_indices(raw, tile.classes, ignore_colour=tile.ignore_colour, source=source)
    else:
        if info.label_nodata is not None and not 0 <= info.label_nodata < len(tile.classes):
            raw = np.where(raw == info.label_nodata, IGNORE_INDEX, raw)
        labels = check_indices(raw, len(tile.classes), source=source)
    return TileArrays(tile.name, optical, elevation, labels, info.optical_nodata, info.elevation_nodata)


def erode_boundaries(labels: np.ndarray, radius: int) -> np.ndarray:
    """Labels with every pixel closer than ``radius`` (a disc) to another class set to ``IGNORE_INDEX``.

    Pixels already ignored do not create boundaries; ``radius`` 0 returns a copy.
    """
    out = labels.copy()
    if radius <= 0:
        return out
    height, width = labels.shape
    padded = np.pad(labels, radius, mode="edge")
    boundary = np.zeros(labels.shape, bool)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if (dy or dx) and dy * dy + dx * dx <= radius * radius:
                shifted = padded[radius + dy : radius + dy + height, radius + dx : radius + dx + width]
                boundary |= (shifted != labels) & (shifted != IGNORE_INDEX)
    out[boundary] = IGNORE_INDEX
    return out


def mean_classes_for(classes: Sequence[ClassInfo]) -> tuple[int, ...]:
    """The ISPRS five (clutter excluded) for the ISPRS table's six classes, else every class."""
    names = tuple(info.name for info in classes)
    if len(names) == 6 and names[5] == "clutter":
        return ISPRS_MEAN_CLASSES
    return tuple(range(len(classes)))


@dataclass
class EvaluationResult:
    """Confusion matrices (full reference and, optionally, eroded boundaries) and their scores.

    ``unpredicted`` counts labelled pixels that got no prediction (nodata in an input) and were not scored.
    """

    classes: tuple[ClassInfo, ...]
    tiles: list[str]
    matrix: torch.Tensor
    eroded_matrix: torch.Tensor | None
    eroded_radius: int
    unpredicted: int = 0

    def metrics(self, eroded: bool = False) -> SegmentationMetrics:
        """Scores of the full (or eroded) reference."""
        matrix = self.eroded_matrix if eroded else self.matrix
        if matrix is None:
            raise ValueError("no eroded-boundary evaluation was run")
        return compute_metrics(matrix, [c.name for c in self.classes], mean_classes_for(self.classes))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report: both score sets with their confusion matrices."""
        report: dict[str, Any] = {
            "tiles": self.tiles,
            "class_names": [info.name for info in self.classes],
            "unpredicted_pixels": self.unpredicted,
            "full": {**self.metrics().to_dict(), "confusion_matrix": self.matrix.tolist()},
            "eroded": None,
        }
        if self.eroded_matrix is not None:
            report["eroded"] = {
                **self.metrics(eroded=True).to_dict(),
                "radius": self.eroded_radius,
                "confusion_matrix": self.eroded_matrix.tolist(),
            }
        return report


def evaluate_tiles(
    model: GeoFuseNet,
    card: ModelCard,
    tiles: Sequence[TileFiles],
    *,
    tile: int | None = None,
    overlap: int = 64,
    batch_size: int = 1,
    device: str | torch.device = "cpu",
    eroded_radius: int = 0,
    zero_elevation: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvaluationResult:
    """Segment each tile whole and count (reference, prediction) pairs.

    Args:
        model: The network in eval mode, on ``device``.
        card: Its model card (normalisation, classes).
        tiles: Tiles to evaluate.
        tile: Sliding-window tile size; None: the model's default (``card.tile_size()``).
        overlap: Sliding-window overlap.
        batch_size: Tiles per forward pass.
        device: Where the model runs.
        eroded_radius: Also score the eroded-boundary protocol with this disc radius (0: do not).
        zero_elevation: Feed a zero elevation (ablation models); None: as the card's training summary says.
        progress: Called with (tiles done, tiles total).

    Returns:
        The confusion matrices. Labelled pixels left unpredicted (nodata in an input) are not scored; their
        number is ``unpredicted``.
    """
    if zero_elevation is None:
        zero_elevation = bool(card.training.get("zero_elevation", False))
    num_classes = len(card.classes)
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    eroded = torch.zeros_like(matrix) if eroded_radius > 0 else None
    names, unpredicted = [], 0
    for index, tile_files in enumerate(tiles):
        arrays = read_tile(tile_files)
        if len(tile_files.classes) != num_classes:
            raise ValueError(
                f"tile {arrays.name!r} has {len(tile_files.classes)} classes, the model {num_classes}"
            )
        elevation = np.zeros_like(arrays.elevation) if zero_elevation else arrays.elevation
        prediction, _ = predict_arrays(
            model,
            card,
            arrays.optical,
            elevation,
            tile=tile if tile is not None else card.tile_size(),
            overlap=overlap,
            batch_size=batch_size,
            device=device,
            optical_nodata=arrays.optical_nodata,
            elevation_nodata=None if zero_elevation else arrays.elevation_nodata,
        )
        counts, missing = _counts(prediction, arrays.labels, num_classes)
        matrix += counts
        unpredicted += missing
        if eroded is not None:
            eroded += _counts(prediction, erode_boundaries(arrays.labels, eroded_radius), num_classes)[0]
        names.append(arrays.name)
        if progress is not None:
            progress(index + 1, len(tiles))
    return EvaluationResult(tuple(card.classes), names, matrix, eroded, eroded_radius, unpredicted)


def _counts(prediction: np.ndarray, labels: np.ndarray, num_classes: int) -> tuple[torch.Tensor, int]:
    """Confusion counts of the pixels with both a reference and a prediction, and how many labelled pixels
    had no prediction (nodata in an input)."""
    scored = (labels != IGNORE_INDEX) & (prediction != IGNORE_INDEX)
    unpredicted = int(((labels != IGNORE_INDEX) & (prediction == IGNORE_INDEX)).sum())
    counts = confusion_matrix(
        torch.from_numpy(prediction[scored].astype(np.int64)),
        torch.from_numpy(labels[scored].astype(np.int64)),
        num_classes,
    )
    return counts, unpredicted


def write_report(result: EvaluationResult, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write the JSON report (``extra`` adds e.g. the model and data description)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**(extra or {}), **result.to_dict()}, indent=2) + "\n", encoding="utf-8")
    return path


def plot_confusion_matrix(matrix: torch.Tensor, classes: Sequence[ClassInfo], path: str | Path) -> Path:
    """Save a row-normalised confusion matrix (recall per reference class) as a PNG with the counts."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    counts = matrix.cpu().numpy().astype(np.int64)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape, np.float64), where=totals > 0)
    names = [info.name for info in classes]
    figure, axes = plt.subplots(figsize=(1.2 * len(names) + 2.5, 1.1 * len(names) + 2.0))
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(len(names)), names, rotation=40, ha="right")
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("reference")
    for row in range(len(names)):
        for col in range(len(names)):
            colour = "white" if shares[row, col] > 0.5 else "black"
            text = f"{shares[row, col]:.2f}\n{counts[row, col]}"
            axes.text(col, row, text, ha="center", va="center", color=colour, fontsize=7)
    figure.colorbar(image, ax=axes, fraction=0.046, label="share of reference pixels")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


@dataclass(frozen=True)
class ModelCost:
    """Size and speed of a network on one input size (eval mode)."""

    parameters: int
    gflops: float
    images_per_s: float
    size: int


def measure_cost(model: nn.Module, size: int = 256, repeats: int = 3, optical_channels: int = 3) -> ModelCost:
    """Parameters, FLOPs (matrix products and convolutions, as ``FlopCounterMode`` counts them: the
    selective scan's recurrence is not included) and median single-image throughput on the CPU."""
    from torch.utils.flop_counter import FlopCounterMode

    model = model.eval()
    optical = torch.rand(1, optical_channels, size, size)
    elevation = torch.rand(1, 1, size, size)
    with torch.inference_mode():
        with FlopCounterMode(display=False) as counter:
            model(optical, elevation)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model(optical, elevation)
            times.append(time.perf_counter() - start)
    return ModelCost(
        parameters=sum(p.numel() for p in model.parameters()),
        gflops=counter.get_total_flops() / 1e9,
        images_per_s=1.0 / statistics.median(times),
        size=size,
    )
