"""``geofuse demo``: segment the bundled sample scene and leave everything ready to look at.

Writes into the output folder: the sample's optical, elevation and truth rasters (copied, so the folder
stands alone), ``classes.tif`` with its ``.qml`` style, ``confidence.tif``, ``preview.png`` (optical |
elevation | prediction | truth, with a legend), ``metrics.json``, and ``demo.qgz``, a QGIS project with the
four layers styled. Prints the metrics against the truth.

The model is ``--model``, else the bundled demo model. Until that file exists (it comes from the training
issue), the demo trains a small stand-in GeoFuseNet for a few minutes on synthetic scenes of other seeds,
says so, and keeps it as ``standin_model.pt`` in the output folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HELP = "segment the bundled sample scene: classified GeoTIFF, preview PNG, metrics and a QGIS project"

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"
SAMPLE_FILES = {"optical.tif": "optical.tif", "elevation.tif": "elevation.tif", "labels.tif": "truth.tif"}
STANDIN_SEED = 7
"""Seed of the stand-in model's training scenes, scene i being ``(7, i)``; the sample uses another seed."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``geofuse demo``."""
    parser.add_argument(
        "--output", type=Path, default=Path("demo-output"), help="folder (default: %(default)s)"
    )
    parser.add_argument("--model", type=Path, help="checkpoint to use instead of the bundled demo model")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument(
        "--tile",
        type=int,
        default=None,
        help="tile size in pixels (default: 512, or the training crop if larger)",
    )
    parser.add_argument("--overlap", type=int, default=64, help="tile overlap in pixels (default: 64)")
    parser.add_argument(
        "--standin-steps",
        type=int,
        default=80,
        help="training steps of the stand-in model when the demo model is missing (default: 80)",
    )


def train_standin(path: Path, steps: int, device: str) -> Path:
    """Train a small baseline GeoFuseNet on synthetic scenes for ``steps`` steps and save it to ``path``.

    A stand-in only: short training on 128² crops, so expect a rough map, not the demo model's.
    """
    import numpy as np
    import torch
    from torch import nn

    from geofuse.backend.checkpoint import ModelCard, save_checkpoint
    from geofuse.backend.data.normalize import normalize_elevation, normalize_optical
    from geofuse.backend.data.synthetic import GENERATOR_VERSION, generate_scene
    from geofuse.backend.inference import resolve_device
    from geofuse.backend.models import build_model

    torch.manual_seed(STANDIN_SEED)
    rng = np.random.default_rng(STANDIN_SEED)
    torch_device = resolve_device(device)
    model = build_model(variant="baseline", width="small").to(torch_device).train()
    card = ModelCard(model.config)
    scenes = [generate_scene((STANDIN_SEED, index), 384, 384) for index in range(6)]
    # Whole scenes normalised once: the ground filter then sees the context inference reads around tiles.
    heights = [normalize_elevation(scene.dsm[None], card.normalization) for scene in scenes]
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=max(steps, 1))
    crop, batch = 128, 4
    for step in range(steps):
        optical, elevation, labels = [], [], []
        for _ in range(batch):
            index = rng.integers(len(scenes))
            scene = scenes[index]
            row, col = rng.integers(0, 384 - crop + 1, 2)
            window = np.s_[row : row + crop, col : col + crop]
            optical.append(normalize_optical(scene.optical[(slice(None), *window)], card.normalization))
            elevation.append(heights[index][(slice(None), *window)])
            labels.append(scene.labels[window].astype(np.int64))
        logits, align = model(
            torch.from_numpy(np.stack(optical)).to(torch_device),
            torch.from_numpy(np.stack(elevation)).to(torch_device),
        )
        loss = (
            nn.functional.cross_entropy(logits, torch.from_numpy(np.stack(labels)).to(torch_device)) + align
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"  stand-in step {step + 1}/{steps}: loss {loss.item():.3f}", flush=True)
    card.training.update(
        {
            "note": "stand-in trained by `geofuse demo` while the bundled demo model is missing",
            "steps": steps,
            "data": {"generator_version": GENERATOR_VERSION, "seed": STANDIN_SEED, "scenes": 6, "size": 384},
        }
    )
    return save_checkpoint(path, model.eval(), card)


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
    """Run the demo; errors give one line on stderr and exit status 1."""
    import numpy as np
    import rasterio
    import torch

    from geofuse.backend.checkpoint import CheckpointError
    from geofuse.backend.classes import IGNORE_INDEX
    from geofuse.backend.inference import (
        DEMO_MODEL,
        LoadedModel,
        SegmentationError,
        SegmentOptions,
        SegmentProgress,
        segment_rasters,
    )
    from geofuse.backend.metrics import compute_metrics, confusion_matrix

    from .segment import error

    folder: Path = args.output
    missing = [name for name in SAMPLE_FILES if not (SAMPLE / name).is_file()]
    if missing:
        return error(
            f"the sample scene is incomplete ({SAMPLE}: missing {missing}); run scripts/make_sample.py"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for source, target in SAMPLE_FILES.items():
        shutil.copyfile(SAMPLE / source, folder / target)

    model = args.model
    if model is None and not DEMO_MODEL.is_file():
        model = folder / "standin_model.pt"
        if not model.is_file():
            print(
                f"The bundled demo model ({DEMO_MODEL}) is not there yet; training a small stand-in for "
                f"{args.standin_steps} steps (a few minutes on a CPU) ...",
                flush=True,
            )
            try:
                train_standin(model, args.standin_steps, args.device)
            except SegmentationError as failure:
                return error(str(failure))
        print(f"Using the stand-in model {model} (not the release demo model).")

    options = SegmentOptions(
        device=args.device,
        tile=args.tile,
        overlap=args.overlap,
        confidence_path=folder / "confidence.tif",
        overwrite=True,
    )

    def progress(state: SegmentProgress) -> None:
        print(f"\r  segmenting: {state.tiles_done}/{state.tiles_total} tiles", end="", flush=True)

    try:
        loaded = LoadedModel.load(model, args.device)
        result = segment_rasters(
            folder / "optical.tif",
            folder / "elevation.tif",
            folder / "classes.tif",
            loaded,
            options,
            progress,
        )
    except (SegmentationError, CheckpointError) as failure:
        return error(str(failure))
    classes = loaded.card.classes
    print()
    print(result.summary())

    with rasterio.open(result.output_path) as prediction, rasterio.open(folder / "truth.tif") as truth:
        predicted, reference = prediction.read(1), truth.read(1)
    valid = predicted != IGNORE_INDEX
    matrix = confusion_matrix(
        torch.from_numpy(np.where(valid, predicted, 0).astype(np.int64)),
        torch.from_numpy(np.where(valid, reference, IGNORE_INDEX).astype(np.int64)),
        len(classes),
        IGNORE_INDEX,
    )
    metrics = compute_metrics(matrix, [info.name for info in classes])
    (folder / "metrics.json").write_text(json.dumps(metrics.to_dict(), indent=2) + "\n", encoding="utf-8")
    print(f"\nAgainst the truth ({metrics.total} pixels):")
    print(
        f"  overall accuracy {metrics.overall_accuracy:.3f}   mean F1 {metrics.mean_f1 or 0:.3f}   "
        f"mean IoU {metrics.mean_iou or 0:.3f}  (mean over {', '.join(str(i) for i in metrics.mean_classes)})"
    )
    for scores in metrics.classes:
        f1 = f"{scores.f1:.3f}" if scores.f1 is not None else "  n/a"
        iou = f"{scores.iou:.3f}" if scores.iou is not None else "  n/a"
        print(f"  {scores.name:<20} F1 {f1}  IoU {iou}  ({scores.support} px)")

    preview = write_preview(folder, classes, folder / "preview.png")
    project = write_project(folder, classes, folder / "demo.qgz")
    print(
        f"\nWrote {result.output_path}, {result.qml_path.name}, {result.confidence_path}, {preview.name}, "
        f"metrics.json and {project.name} in {folder}/."
    )
    print(f"Open the project in QGIS: qgis {project}")
    sys.stdout.flush()
    return 0
