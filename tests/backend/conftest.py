"""Fixtures shared by several backend test modules (pytest finds them by name; nothing is imported or
re-exported). The plain helpers they use live in ``stand_in_networks.py`` and ``segment_runs.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from stand_in_networks import TINY_CARD, TinyNet

from geofuse.backend.checkpoint import ModelCard, save_checkpoint
from geofuse.backend.data.synthetic import generate_scene, write_scene
from geofuse.backend.inference import LoadedModel
from geofuse.backend.models import build_model


@pytest.fixture(scope="module")
def tiny() -> LoadedModel:
    """:class:`TinyNet` loaded as the engine takes it, once per module."""
    return LoadedModel(TinyNet().eval(), TINY_CARD)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 128² synthetic optical and elevation raster pair (GeoTIFFs in a projected CRS)."""
    folder = tmp_path_factory.mktemp("scene")
    optical, elevation = folder / "optical.tif", folder / "elevation.tif"
    write_scene(generate_scene(31, 128, 128), optical, elevation, folder / "labels.tif")
    return optical, elevation


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small random-weight GeoFuseNet checkpoint, for worker and CLI processes."""
    torch.manual_seed(0)
    model = build_model("baseline", width="small")
    return save_checkpoint(tmp_path_factory.mktemp("model") / "model.pt", model, ModelCard(model.config))
