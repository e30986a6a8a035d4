"""``geofuse:segment`` in Processing: outputs, styling, batch, non-file layers, cancel, a killed worker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import processing
import pytest
from osgeo import gdal
from qgis.core import (
    QgsPalettedRasterRenderer,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
)
from segment_inputs import SegmentInputs, build_inputs, cli_output, read

pytestmark = pytest.mark.usefixtures("geofuse_provider")
TILING = {"TILE_SIZE": 64, "OVERLAP": 16}


class WatchingFeedback(QgsProcessingFeedback):
    """Records the worker's pid and acts once, on the first tile's progress."""

    def __init__(self, on_progress: str | None = None) -> None:
        super().__init__()
        self.on_progress = on_progress
        self.pid: int | None = None
        self.acted_at: float | None = None

    def pushDebugInfo(self, info: str) -> None:
        found = re.match(r"GeoFuse worker \(pid (\d+)\)", info)
        if found:
            self.pid = int(found.group(1))

    def setProgress(self, progress: float) -> None:
        super().setProgress(progress)
        if progress > 0 and self.acted_at is None and self.on_progress is not None:
            self.acted_at = time.monotonic()
            if self.on_progress == "cancel":
                self.cancel()
            else:
                os.kill(self.pid, signal.SIGKILL)


def test_segment_gives_the_optical_grid_styled_with_the_class_table(
    segment_inputs: SegmentInputs, tmp_path: Path
) -> None:
    output = tmp_path / "landcover.tif"
    parameters = {
        "OPTICAL": str(segment_inputs.optical),
        "ELEVATION": str(segment_inputs.elevation),
        "MODEL": str(segment_inputs.model),
        "DEVICE": "cpu",
        **TILING,
        "OUTPUT": str(output),
    }

    results = processing.runAndLoadResults("geofuse:segment", parameters)

    classes, transform, projection = read(output)
    optical, optical_transform, optical_projection = read(segment_inputs.optical)
    assert classes.shape == optical.shape[1:]
    assert transform == optical_transform and projection == optical_projection
    assert set(np.unique(classes)) <= set(range(6))
    assert results["TILES"] == 4
    (layer,) = [
        found for found in QgsProject.instance().mapLayers().values() if found.source() == f"{output}"
    ]
    assert isinstance(layer, QgsRasterLayer)
    renderer = layer.renderer()
    assert isinstance(renderer, QgsPalettedRasterRenderer)
    assert [(c.value, c.label) for c in renderer.classes()][:2] == [
        (0, "impervious surfaces"),
        (1, "building"),
    ]
    assert renderer.classes()[1].color.name() == "#0000ff"
    QgsProject.instance().removeAllMapLayers()


def test_batch_of_pairs_each_identical_to_the_backend_cli(
    segment_inputs: SegmentInputs, tmp_path: Path
) -> None:
    other = build_inputs(tmp_path / "other", size=80, seed=11)
    pairs = [(segment_inputs.optical, segment_inputs.elevation), (other.optical, other.elevation)]
    listing = tmp_path / "cli.csv"
    listing.write_text(
        "".join(f"{optical},{elevation},{tmp_path / f'cli_{index}.tif'}\n" for index, (optical, elevation) in
                enumerate(pairs)),
        encoding="utf-8",
    )  # fmt: skip
    command = [
        sys.executable, "-m", "geofuse.backend.cli", "segment-batch", str(listing), "--model",
        str(segment_inputs.model), "--device", "cpu", "--tile", "64", "--overlap", "16", "--batch", "4",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    for index, (optical, elevation) in enumerate(pairs):
        output = tmp_path / f"out_{index}.tif"
        processing.run(
            "geofuse:segment",
            {"OPTICAL": str(optical), "ELEVATION": str(elevation), "MODEL": str(segment_inputs.model),
             "DEVICE": "cpu", **TILING, "OUTPUT": str(output)},
        )  # fmt: skip

        classes, transform, _ = read(output)
        assert transform == read(optical)[1]
        np.testing.assert_array_equal(classes, read(tmp_path / f"cli_{index}.tif")[0])


def test_a_layer_only_qgis_can_read_is_exported_over_the_extent(
    segment_inputs: SegmentInputs, tmp_path: Path
) -> None:
    left, size, _, top, _, step = read(segment_inputs.optical)[1]
    bounds = (left + 16 * size, top + 72 * step, left + 80 * size, top + 8 * step)  # columns 16-80, rows 8-72
    in_memory = "/vsimem/geofuse_test_elevation.tif"
    gdal.Translate(in_memory, str(segment_inputs.elevation))
    elevation = QgsRasterLayer(in_memory, "elevation in memory", "gdal")
    assert elevation.isValid()
    output = tmp_path / "out.tif"

    processing.run(
        "geofuse:segment",
        {"OPTICAL": str(segment_inputs.optical), "ELEVATION": elevation, "MODEL": str(segment_inputs.model),
         "DEVICE": "cpu", **TILING, "EXTENT": f"{bounds[0]},{bounds[2]},{bounds[1]},{bounds[3]}",
         "OUTPUT": str(output)},
    )  # fmt: skip
    gdal.Unlink(in_memory)

    classes = read(output)[0]
    assert classes.shape == (64, 64)
    expected = cli_output(
        segment_inputs, segment_inputs.optical, segment_inputs.elevation, tmp_path,
        "--extent", ",".join(map(str, bounds)),
    )  # fmt: skip
    np.testing.assert_array_equal(classes, expected)


def test_user_errors_are_processing_exceptions(segment_inputs: SegmentInputs, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    parameters = {"OPTICAL": str(segment_inputs.optical), "ELEVATION": str(segment_inputs.elevation),
                  "MODEL": str(broken), **TILING, "OUTPUT": str(tmp_path / "out.tif")}  # fmt: skip

    with pytest.raises(QgsProcessingException, match=r"broken\.pt is not a .*checkpoint"):
        processing.run("geofuse:segment", parameters)
    with pytest.raises(QgsProcessingException, match=r"overlap \(64\) must be less than the tile size"):
        processing.run("geofuse:segment", {**parameters, "TILE_SIZE": 64, "OVERLAP": 64})
    assert not (tmp_path / "out.tif").exists()


@pytest.fixture
def slow_inputs(tmp_path_factory: pytest.TempPathFactory, segment_inputs: SegmentInputs) -> dict:
    """A scene of many small tiles, so a run lasts long enough to be interrupted."""
    scene = build_inputs(tmp_path_factory.getbasetemp() / "geofuse_slow", size=256, seed=5)
    return {
        "OPTICAL": str(scene.optical),
        "ELEVATION": str(scene.elevation),
        "MODEL": str(segment_inputs.model),
        "DEVICE": "cpu",
        "TILE_SIZE": 32,
        "OVERLAP": 8,
    }


def test_cancel_stops_the_worker_within_two_seconds_and_leaves_nothing(
    slow_inputs: dict, tmp_path: Path
) -> None:
    output_folder = tmp_path / "out"
    output_folder.mkdir()
    feedback = WatchingFeedback(on_progress="cancel")

    results = processing.run(
        "geofuse:segment", {**slow_inputs, "OUTPUT": str(output_folder / "x.tif")}, feedback=feedback
    )

    assert results == {}  # QGIS's convention: a cancelled algorithm returns; it does not raise an error

    assert feedback.acted_at is not None and time.monotonic() - feedback.acted_at < 2.0
    assert not Path(f"/proc/{feedback.pid}").exists()
    assert list(output_folder.iterdir()) == []


def test_a_worker_killed_mid_run_is_a_clear_error(slow_inputs: dict, tmp_path: Path) -> None:
    feedback = WatchingFeedback(on_progress="kill")

    with pytest.raises(
        QgsProcessingException, match=r"worker process died: it was killed by signal 9 \(SIGKILL\)"
    ):
        processing.run(
            "geofuse:segment", {**slow_inputs, "OUTPUT": str(tmp_path / "x.tif")}, feedback=feedback
        )

    assert not (tmp_path / "x.tif").exists()
