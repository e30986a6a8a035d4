"""Small inputs for the plugin tests: a synthetic optical/elevation/label scene and a random-weight model, and
what the backend's CLI makes of them (the reference the QGIS paths must equal).

Built once per test session under pytest's base temporary folder (the files are reused by every test module
that asks, through the ``segment_inputs`` fixture of ``conftest.py``), in the test's own Python (the venv,
which has torch); QGIS's side never imports torch.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal


@dataclass(frozen=True)
class SegmentInputs:
    """Paths of one scene and a model, plus the runtime Python the worker runs in."""

    optical: Path
    elevation: Path
    labels: Path
    model: Path
    python: Path


def build_inputs(folder: Path, size: int = 96, seed: int = 3) -> SegmentInputs:
    """Write the scene and a ``build_model(width="small")`` checkpoint with random (seeded) weights."""
    import torch

    from geofuse.backend.checkpoint import ModelCard, save_checkpoint
    from geofuse.backend.data.synthetic import generate_scene, write_scene
    from geofuse.backend.models.network import build_model

    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in ("optical.tif", "elevation.tif", "labels.tif", "model.pt")]
    if not all(path.is_file() for path in paths):
        write_scene(generate_scene(seed, size, size), *paths[:3])
        torch.manual_seed(seed)
        model = build_model(width="small")
        save_checkpoint(paths[3], model, ModelCard(model=model.config))
    python = Path(os.environ.get("GEOFUSE_PYTHON") or sys.executable)
    return SegmentInputs(*paths, python=python)


def read(path: Path | str) -> tuple[np.ndarray, tuple, str]:
    """A raster's pixels, geotransform and projection, read with QGIS's GDAL."""
    dataset = gdal.Open(str(path))
    return dataset.ReadAsArray(), dataset.GetGeoTransform(), dataset.GetProjection()


def cli_output(
    inputs: SegmentInputs, optical: Path, elevation: Path, folder: Path, *extra: str
) -> np.ndarray:
    """What the backend's ``geofuse segment`` command writes for the same inputs and options."""
    path = folder / f"cli_{optical.parent.name}.tif"
    command = [
        sys.executable, "-m", "geofuse.backend.cli", "segment", str(optical), str(elevation), "-o", str(path),
        "--model", str(inputs.model), "--device", "cpu", "--tile", "64", "--overlap", "16", "--batch", "4",
        "--quiet", *extra,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return read(path)[0]
