"""Small inputs for the plugin tests: a synthetic optical/elevation/label scene and a random-weight model.

Built once per test session under pytest's base temporary folder (the files are reused by every test module
that asks), in the test's own Python (the venv, which has torch); QGIS's side never imports torch.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from qgis.core import QgsApplication, QgsProcessingProvider


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


@pytest.fixture
def segment_inputs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> SegmentInputs:
    """The shared inputs, with ``GEOFUSE_PYTHON`` pointing at the runtime for the test's duration."""
    inputs = build_inputs(tmp_path_factory.getbasetemp() / "geofuse_inputs")
    monkeypatch.setenv("GEOFUSE_PYTHON", str(inputs.python))
    return inputs


@pytest.fixture
def geofuse_provider() -> Iterator[QgsProcessingProvider]:
    """The GeoFuse provider registered with Processing for one test, as the plugin's ``initProcessing()``
    does (the fixture holds the Python reference that keeps it alive)."""
    from geofuse.plugin.provider import GeoFuseProvider

    registry = QgsApplication.processingRegistry()
    provider = GeoFuseProvider()
    assert registry.addProvider(provider)
    yield provider
    registry.removeProvider(provider)
