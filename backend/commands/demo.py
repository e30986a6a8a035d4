"""``geofuse demo``: segment the bundled sample scene and leave everything ready to look at.

Writes into the output folder: the sample's optical, elevation and truth rasters (copied, so the folder
stands alone), ``classes.tif`` with its ``.qml`` style, ``confidence.tif``, ``preview.png`` (optical |
elevation | prediction | truth, with a legend), ``metrics.json``, and ``demo.qgz``, a QGIS project with the
four layers styled. Prints the metrics against the truth.

The model is ``--model``, else the bundled demo model (committed; ``make demo-model`` trains it again).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .options import add_batch_size, add_device, add_tiling

if TYPE_CHECKING:
    from geofuse.backend.metrics import SegmentationMetrics

HELP = "segment the bundled sample scene: classified GeoTIFF, preview PNG, metrics and a QGIS project"

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"
SAMPLE_FILES = {"optical.tif": "optical.tif", "elevation.tif": "elevation.tif", "labels.tif": "truth.tif"}
CANCELLED = "the output folder holds what was finished before the stop"
"""What a stopped demo leaves (a segmentation in progress leaves nothing of its own)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``geofuse demo``."""
    parser.add_argument(
        "--output", type=Path, default=Path("demo-output"), help="folder (default: %(default)s)"
    )
    parser.add_argument("--model", type=Path, help="checkpoint to use instead of the bundled demo model")
    add_device(parser)
    add_tiling(parser)
    add_batch_size(parser, 1)


def write_preview(folder: Path, card_classes: tuple, path: Path) -> Path:
    """optical | elevation | prediction | truth side by side, with a class legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import rasterio
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from geofuse.backend.classes import IGNORE_INDEX

    with rasterio.open(folder / "optical.tif") as dataset:
        optical = np.moveaxis(dataset.read([1, 2, 3]), 0, -1)
    with rasterio.open(folder / "elevation.tif") as dataset:
        elevation = dataset.read(1, masked=True)
    palette = np.zeros((256, 3))
    palette[: len(card_classes)] = [np.array(info.colour) / 255 for info in card_classes]
    colours = ListedColormap(palette)
    panels = [("optical", optical, {}), ("elevation (m)", elevation, {"cmap": "terrain"})]
    for title, name in (("prediction", "classes.tif"), ("truth", "truth.tif")):
        with rasterio.open(folder / name) as dataset:
            labels = dataset.read(1)
        panels.append(
            (title, np.ma.masked_equal(labels, IGNORE_INDEX), {"cmap": colours, "vmin": 0, "vmax": 255})
        )
    figure, axes = plt.subplots(1, 4, figsize=(20, 5.8), constrained_layout=True)
    for axis, (title, image, style) in zip(axes, panels, strict=True):
        shown = axis.imshow(image, interpolation="nearest", **style)
        axis.set_title(title)
        axis.set_axis_off()
        if title.startswith("elevation"):
            figure.colorbar(shown, ax=axis, fraction=0.046, pad=0.02)
    handles = [
        Patch(facecolor=palette[info.index], edgecolor="black", label=info.name) for info in card_classes
    ]
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    figure.get_layout_engine().set(rect=(0, 0.07, 1, 0.93))
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path


PROJECT_WRITER = Path(__file__).resolve().parents[2] / "plugin" / "project_writer.py"
"""Writes the project through PyQGIS, run as a program: the backend itself never imports QGIS."""


def write_project(folder: Path, card_classes: tuple, path: Path, through_qgis: bool = True) -> Path:
    """``demo.qgz``: prediction, truth, elevation and optical, styled, switchable, relative paths, the
    scene's CRS as the project CRS.

    Written by QGIS itself (:data:`PROJECT_WRITER`) when this Python has PyQGIS and ``through_qgis``;
    otherwise as the XML QGIS writes (:func:`geofuse.backend.styling.write_qgz`).
    """
    import importlib.util

    import numpy as np
    import rasterio

    from geofuse.backend.styling import (
        ProjectLayer,
        gray_renderer,
        multiband_renderer,
        paletted_renderer,
        write_qgz,
        write_qml,
    )

    with rasterio.open(folder / "elevation.tif") as dataset:
        heights = dataset.read(1, masked=True).compressed()
        bounds, crs = dataset.bounds, dataset.crs
    low, high = (float(value) for value in np.percentile(heights, [2, 98]))
    if through_qgis and importlib.util.find_spec("qgis") is not None:
        truth_style = write_qml(folder / "truth.qml", card_classes)
        spec = {
            "path": str(path.resolve()),
            "title": "GeoFuse demo",
            "crs_wkt": crs.to_wkt(),
            "extent": list(bounds),
            "layers": [
                {"name": "prediction", "source": str((folder / "classes.tif").resolve()),
                 "style": {"qml": str((folder / "classes.qml").resolve())}},
                {"name": "truth", "source": str((folder / "truth.tif").resolve()),
                 "style": {"qml": str(truth_style.resolve())}, "visible": False},
                {"name": "elevation", "source": str((folder / "elevation.tif").resolve()),
                 "style": {"gray": [low, high]}, "visible": False},
                {"name": "optical", "source": str((folder / "optical.tif").resolve()), "style": None},
            ],
        }  # fmt: skip
        spec_path = folder / ".demo_project.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        try:
            written = subprocess.run(
                [sys.executable, str(PROJECT_WRITER), str(spec_path)],
                capture_output=True,
                text=True,
                timeout=300,
                env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                check=False,
            )
        finally:
            spec_path.unlink(missing_ok=True)
        if written.returncode == 0:
            return path
        print(f"QGIS could not write the project ({written.stderr.strip()[-300:]}); writing its XML instead.")
    layers = [
        ProjectLayer("prediction", "./classes.tif", paletted_renderer(card_classes)),
        ProjectLayer("truth", "./truth.tif", paletted_renderer(card_classes), visible=False),
        ProjectLayer("elevation", "./elevation.tif", gray_renderer(low, high), visible=False),
        ProjectLayer("optical", "./optical.tif", multiband_renderer()),
    ]
    authid = f"EPSG:{crs.to_epsg()}" if crs.to_epsg() else ""
    return write_qgz(path, layers, crs.to_wkt(), authid, tuple(bounds), title="GeoFuse demo")


def run(args: argparse.Namespace) -> int:
    """Run the demo: copy the sample, segment it, score it against the truth, write the preview and the
    project. Errors end as ``geofuse.backend.cli.main`` says (a missing demo model: ``make demo-model``)."""
    from geofuse.backend.errors import EXIT_OK
    from geofuse.backend.inference import LoadedModel, SegmentOptions, SegmentProgress, segment_rasters

    folder: Path = args.output
    copy_sample(folder)
    loaded = LoadedModel.load(args.model, args.device)
    options = SegmentOptions(
        device=args.device,
        tile=args.tile,
        overlap=args.overlap,
        batch_size=args.batch_size,
        confidence_path=folder / "confidence.tif",
        overwrite=True,
    )

    def progress(state: SegmentProgress) -> None:
        print(f"\r  segmenting: {state.tiles_done}/{state.tiles_total} tiles", end="", flush=True)

    result = segment_rasters(
        folder / "optical.tif", folder / "elevation.tif", folder / "classes.tif", loaded, options, progress
    )
    classes = loaded.card.classes
    print()
    print(result.summary())
    print_scores(score(result.output_path, folder / "truth.tif", classes, folder / "metrics.json"))
    preview = write_preview(folder, classes, folder / "preview.png")
    project = write_project(folder, classes, folder / "demo.qgz")
    print(
        f"\nWrote {result.output_path}, {result.qml_path.name}, {result.confidence_path}, {preview.name}, "
        f"metrics.json and {project.name} in {folder}/."
    )
    print(f"Open the project in QGIS: qgis {project}")
    sys.stdout.flush()
    return EXIT_OK


def copy_sample(folder: Path) -> None:
    """Copy the sample scene's rasters into ``folder`` (made if needed), so the folder stands alone.

    Raises:
        GeoFuseError: When the sample scene is incomplete.
    """
    from geofuse.backend.errors import GeoFuseError

    missing = [name for name in SAMPLE_FILES if not (SAMPLE / name).is_file()]
    if missing:
        raise GeoFuseError(
            f"the sample scene is incomplete ({SAMPLE}: missing {missing}); run scripts/make_sample.py"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for source, target in SAMPLE_FILES.items():
        shutil.copyfile(SAMPLE / source, folder / target)


def score(prediction: Path, truth: Path, classes: tuple, report: Path) -> SegmentationMetrics:
    """The prediction's scores against the truth (pixels the prediction left without a class do not
    count), also written to ``report`` as JSON."""
    import numpy as np
    import rasterio
    import torch

    from geofuse.backend.classes import IGNORE_INDEX
    from geofuse.backend.metrics import compute_metrics, confusion_matrix

    with rasterio.open(prediction) as predicted_file, rasterio.open(truth) as truth_file:
        predicted, reference = predicted_file.read(1), truth_file.read(1)
    valid = predicted != IGNORE_INDEX
    matrix = confusion_matrix(
        torch.from_numpy(np.where(valid, predicted, 0).astype(np.int64)),
        torch.from_numpy(np.where(valid, reference, IGNORE_INDEX).astype(np.int64)),
        len(classes),
        IGNORE_INDEX,
    )
    metrics = compute_metrics(matrix, [info.name for info in classes])
    report.write_text(json.dumps(metrics.to_dict(), indent=2) + "\n", encoding="utf-8")
    return metrics


def print_scores(metrics: SegmentationMetrics) -> None:
    """Overall accuracy, mean F1 and IoU, and each class's F1 and IoU, for the terminal."""
    print(f"\nAgainst the truth ({metrics.total} pixels):")
    print(
        f"  overall accuracy {metrics.overall_accuracy:.3f}   mean F1 {metrics.mean_f1 or 0:.3f}   "
        f"mean IoU {metrics.mean_iou or 0:.3f}  (mean over {', '.join(str(i) for i in metrics.mean_classes)})"
    )
    for scores in metrics.classes:
        f1 = f"{scores.f1:.3f}" if scores.f1 is not None else "  n/a"
        iou = f"{scores.iou:.3f}" if scores.iou is not None else "  n/a"
        print(f"  {scores.name:<20} F1 {f1}  IoU {iou}  ({scores.support} px)")
