"""``geofuse:segment`` in Processing: awkward inputs, a hostile model, a killed worker, two runs at once.

The inputs table is tests/backend/test_reliability_inputs.py's (loaded from there, so both sides share the
rows). :data:`PROCESSING_ROWS` are the rows whose path through QGIS differs from the command line's: how a
layer is loaded and its path handed on (missing, foreign, unreadable, oddly named files, another CRS, a
single pixel), how outputs are treated (read-only folder, an input as output, an existing output, which
Processing overwrites by design), and how the worker's errors and all-nodata results come back. The other
rows only exercise the engine, which the worker runs exactly as ``geofuse segment`` does; each row here
costs a worker start (seconds of imports), so they run on the command line only. Cancel and a killed
worker's message are in test_processing_segment.py; here a killed worker must also leave no temporary file
and QGIS must run the next segmentation fine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import signal
import sys
import time
from pathlib import Path

import numpy as np
import processing
import pytest
from osgeo import gdal
from qgis.core import (
    QgsApplication,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
)
from qgis.PyQt.QtCore import QCoreApplication
from segment_inputs import SegmentInputs, build_inputs

pytestmark = pytest.mark.usefixtures("geofuse_provider")

_spec = importlib.util.spec_from_file_location(
    "reliability_inputs", Path(__file__).resolve().parents[1] / "backend" / "test_reliability_inputs.py"
)
table = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = table  # dataclasses look their module up by name
_spec.loader.exec_module(table)

TILING = {"TILE_SIZE": 64, "OVERLAP": 16, "DEVICE": "cpu"}


@pytest.fixture(scope="module")
def fast_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight small *baseline* GeoFuseNet: several times faster on a CPU than the a2 model of
    segment_inputs, and the rows here test handling, not the architecture."""
    import torch

    from geofuse.backend.checkpoint import ModelCard, save_checkpoint
    from geofuse.backend.models import build_model

    torch.manual_seed(0)
    model = build_model("baseline", width="small")
    return save_checkpoint(tmp_path_factory.mktemp("model") / "baseline.pt", model, ModelCard(model.config))


PROCESSING_ROWS = [
    "no overlap",
    "projected optical, geographic elevation",
    "DSM all NaN",
    "1x1 raster",
    "spaces and non-ASCII in paths",
    "missing file",
    "not a raster",
    "unreadable file",
    "read-only output folder",
    "read-only output folder, message names the output",
    "output is an input",
    "existing output",
]

PROCESSING_ERRORS = {
    "missing file": "ELEVATION|elevation",  # Processing cannot load the layer before the worker starts
    "not a raster": "OPTICAL|optical",
    "unreadable file": "ELEVATION|elevation",
}
"""Rows whose error Processing reports itself, before any worker runs, with its own wording."""

PROCESSING_SUCCEEDS = {"existing output"}
"""Rows that fail on the command line but not here: Processing overwrites its destinations by design."""


def read(path: Path | str) -> np.ndarray:
    dataset = gdal.Open(str(path))
    return dataset.ReadAsArray()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class ProgressFeedback(QgsProcessingFeedback):
    """Records the worker's pid; cancels, or SIGKILLs the worker, once ``after`` tiles are reported done."""

    def __init__(self, after: int | None = None, action: str = "cancel") -> None:
        super().__init__()
        self.after, self.action = after, action
        self.pid: int | None = None
        self.acted_at: float | None = None
        self.first_progress: float | None = None

    def pushDebugInfo(self, info: str) -> None:
        found = re.match(r"GeoFuse worker \(pid (\d+)\)", info)
        if found:
            self.pid = int(found.group(1))

    def setProgressText(self, text: str) -> None:
        super().setProgressText(text)
        found = re.search(r"(\d+)/(\d+)", text)
        if found is None or self.after is None or self.acted_at is not None:
            return
        self.first_progress = self.first_progress or time.monotonic()
        if int(found.group(1)) >= self.after:
            self.acted_at = time.monotonic()
            if self.action == "cancel":
                self.cancel()
            else:
                os.kill(self.pid, signal.SIGKILL)


def run_segment(inputs: table.Inputs, model: Path, feedback: QgsProcessingFeedback | None = None) -> dict:
    parameters = {"OPTICAL": str(inputs.optical), "ELEVATION": str(inputs.elevation), "MODEL": str(model),
                  **TILING, "OUTPUT": str(inputs.output)}  # fmt: skip
    return processing.run("geofuse:segment", parameters, feedback=feedback)


# -------------------------------------------------------------------------------------------------- inputs


def processing_row(name: str) -> object:
    reason = table.CASES[name].xfail
    return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason)) if reason else name


@pytest.mark.parametrize("name", [processing_row(name) for name in PROCESSING_ROWS])
def test_input_through_processing(
    name: str, segment_inputs: SegmentInputs, fast_model: Path, tmp_path: Path
) -> None:
    case = table.CASES[name]
    if case.needs_permissions and table.IS_ROOT:
        pytest.skip(table.ROOT_REASON)
    try:
        inputs = case.build(tmp_path)
        before = table.snapshot(tmp_path)
        succeeds = case.error is None or name in PROCESSING_SUCCEEDS

        if succeeds:
            run_segment(inputs, fast_model)
            (case.check or table.all_classified)(read(inputs.output), inputs)
        else:
            with pytest.raises(QgsProcessingException) as failure:
                run_segment(inputs, fast_model)
            assert re.search(PROCESSING_ERRORS.get(name, case.error), str(failure.value)), str(failure.value)
            assert "Traceback" not in str(failure.value)

        for source in (inputs.optical, inputs.elevation):  # GDAL's statistics cache, written by QGIS
            Path(f"{source}.aux.xml").unlink(missing_ok=True)
        table.assert_clean_outcome(tmp_path, before, inputs, succeeded=succeeds)
    finally:
        for path in [tmp_path, *tmp_path.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)


def test_a_100000_pixel_square_virtual_raster_starts_at_once_and_cancels_cleanly(
    segment_inputs: SegmentInputs, fast_model: Path, tmp_path: Path
) -> None:
    """QGIS itself writes approximate statistics into a VRT when it loads it as a layer (a VRT is its own
    GDAL PAM file), so the VRTs are compared by what they describe, not by their bytes."""
    inputs = table.huge_vrt(tmp_path)
    described = {path: describe(path) for path in (inputs.optical, inputs.elevation)}
    before = table.snapshot(tmp_path)
    feedback = ProgressFeedback(after=3)

    assert run_segment(inputs, fast_model, feedback) == {}

    assert feedback.acted_at is not None and feedback.first_progress is not None
    assert feedback.acted_at - feedback.first_progress < 10
    assert not Path(f"/proc/{feedback.pid}").exists()
    assert {path: describe(path) for path in described} == described
    before.update({path: table.snapshot(tmp_path)[path] for path in described})
    table.assert_clean_outcome(tmp_path, before, inputs, succeeded=False)


def describe(path: Path) -> tuple:
    """Size, grid, CRS and a corner window of a raster: what it is, whatever metadata a program adds."""
    dataset = gdal.Open(str(path))
    corner = dataset.ReadAsArray(0, 0, 40, 40)
    return dataset.RasterXSize, dataset.RasterYSize, dataset.GetGeoTransform(), corner.tobytes()


# ------------------------------------------------------------------------------------------- hostile model


def test_a_hostile_checkpoint_is_refused_without_running_code(
    segment_inputs: SegmentInputs, tmp_path: Path
) -> None:  # the worker refuses the file before any model is built
    marker = tmp_path / "marker"
    model = tmp_path / "model.pt"
    model.write_bytes(hostile_checkpoint(marker))
    output = tmp_path / "out" / "classes.tif"

    # Refused by the QGIS side's card reader before the runtime starts (the worker says "would run code").
    with pytest.raises(QgsProcessingException, match=r"was refused|would run code") as failure:
        run_segment(table.Inputs(segment_inputs.optical, segment_inputs.elevation, output), model)

    assert str(model) in str(failure.value)
    assert not marker.exists() and not output.exists()


class Exploit:
    """Unpickles as ``Path(marker).touch()``: a loader that runs code from the file creates the marker."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


def hostile_checkpoint(marker: Path) -> bytes:
    """A torch checkpoint whose unpickling calls ``Path(marker).touch()`` (torch only in the test: the QGIS
    side of GeoFuse never imports it)."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save({"format": "geofuse-checkpoint", "version": 1, "card": Exploit(marker)}, buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------ killed worker


@pytest.fixture
def slow_scene(tmp_path_factory: pytest.TempPathFactory) -> SegmentInputs:
    return build_inputs(tmp_path_factory.getbasetemp() / "geofuse_reliability_slow", size=256, seed=5)


def test_a_killed_worker_leaves_no_temporary_and_the_next_run_works(
    segment_inputs: SegmentInputs, fast_model: Path, slow_scene: SegmentInputs, tmp_path: Path
) -> None:
    output = tmp_path / "out" / "classes.tif"
    output.parent.mkdir()
    inputs = table.Inputs(slow_scene.optical, slow_scene.elevation, output)
    hashes = {path: digest(path) for path in (slow_scene.optical, slow_scene.elevation)}
    feedback = ProgressFeedback(after=2, action="kill")
    parameters = {"OPTICAL": str(inputs.optical), "ELEVATION": str(inputs.elevation),
                  "MODEL": str(fast_model), "DEVICE": "cpu", "TILE_SIZE": 32, "OVERLAP": 8,
                  "OUTPUT": str(output)}  # fmt: skip

    with pytest.raises(QgsProcessingException, match="process died"):
        processing.run("geofuse:segment", parameters, feedback=feedback)

    assert list(output.parent.iterdir()) == []
    assert {path: digest(path) for path in hashes} == hashes
    small = {"OPTICAL": str(segment_inputs.optical), "ELEVATION": str(segment_inputs.elevation)}
    results = processing.run("geofuse:segment", {**parameters, **small, **TILING})
    assert Path(results["OUTPUT"]) == output and read(output).shape == (96, 96)


# ------------------------------------------------------------------------------------ two tasks at once


def start_task(parameters: dict, feedback: QgsProcessingFeedback | None = None) -> dict:
    """``geofuse:segment`` as a background task, as the toolbox and the dock run it."""
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("geofuse:segment")
    context, feedback = QgsProcessingContext(), feedback or QgsProcessingFeedback()
    task = QgsProcessingAlgRunnerTask(algorithm, parameters, context, feedback)
    outcome: dict = {"algorithm": algorithm, "context": context, "feedback": feedback}  # kept alive
    task.executed.connect(lambda ok, results: outcome.update(ok=ok, results=results))
    QgsApplication.taskManager().addTask(task)  # the task manager owns (and deletes) the task
    return outcome


def wait_for(outcomes: list[dict], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not all("ok" in outcome for outcome in outcomes):
        assert time.monotonic() < deadline, "tasks did not finish"
        QCoreApplication.processEvents()
        time.sleep(0.02)


def reference_output(inputs: SegmentInputs, model: Path, folder: Path) -> np.ndarray:
    from geofuse.backend.cli import main

    path = folder / "reference.tif"
    argv = ["segment", str(inputs.optical), str(inputs.elevation), "-o", str(path), "--model",
            str(model), "--device", "cpu", "--tile", "64", "--overlap", "16", "--batch", "4",
            "--quiet"]  # fmt: skip
    assert main(argv) == 0
    return read(path)


def test_two_tasks_on_different_outputs_are_both_correct(
    segment_inputs: SegmentInputs, fast_model: Path, tmp_path: Path
) -> None:
    parameters = {"OPTICAL": str(segment_inputs.optical), "ELEVATION": str(segment_inputs.elevation),
                  "MODEL": str(fast_model), **TILING}  # fmt: skip
    outcomes = [start_task({**parameters, "OUTPUT": str(tmp_path / f"{name}.tif")}) for name in ("a", "b")]

    wait_for(outcomes)

    assert [outcome["ok"] for outcome in outcomes] == [True, True]
    expected = reference_output(segment_inputs, fast_model, tmp_path / "reference")
    np.testing.assert_array_equal(read(tmp_path / "a.tif"), expected)
    np.testing.assert_array_equal(read(tmp_path / "b.tif"), expected)
    assert not [path for path in tmp_path.rglob("*") if ".tmp" in path.name]


def test_a_second_task_on_the_same_output_is_refused(
    segment_inputs: SegmentInputs, fast_model: Path, tmp_path: Path
) -> None:
    """The first run's worker is paused (SIGSTOP) once it is writing, so the second surely meets it there."""
    output = tmp_path / "classes.tif"
    parameters = {"OPTICAL": str(segment_inputs.optical), "ELEVATION": str(segment_inputs.elevation),
                  "MODEL": str(fast_model), **TILING, "OUTPUT": str(output)}  # fmt: skip
    watcher = ProgressFeedback()
    first = start_task(parameters, watcher)
    deadline = time.monotonic() + 120
    while watcher.pid is None or not list(tmp_path.glob(".classes.*.tmp*")):  # the first run is writing
        assert time.monotonic() < deadline and "ok" not in first
        QCoreApplication.processEvents()
        time.sleep(0.01)
    os.kill(watcher.pid, signal.SIGSTOP)
    try:
        second = start_task(parameters)
        wait_for([second])
    finally:
        os.kill(watcher.pid, signal.SIGCONT)
    wait_for([first])

    assert second["ok"] is False
    assert first["ok"] is True
    np.testing.assert_array_equal(
        read(output), reference_output(segment_inputs, fast_model, tmp_path / "ref")
    )
    assert not [path for path in tmp_path.rglob("*") if ".tmp" in path.name]


def test_a_failed_run_leaves_a_concurrent_runs_temporaries_alone(
    segment_inputs: SegmentInputs, fast_model: Path, tmp_path: Path
) -> None:
    """A Processing run on ``area.tif`` fails while a run writing ``area.north.tif`` in the same folder is
    live: the clean-up removes only what the failed run's journal lists, so the live run's hidden
    temporaries (which the old ``.area.*.tmp*`` pattern matched) survive and it finishes."""
    import threading

    from geofuse.backend.inference import SegmentOptions, segment_rasters

    reached, release, calls, outcome = threading.Event(), threading.Event(), [0], []

    def hold() -> bool:
        calls[0] += 1
        if calls[0] == 2:
            reached.set()
            release.wait(120)
        return False

    north = tmp_path / "area.north.tif"
    options = SegmentOptions(device="cpu", tile=32, overlap=8)
    thread = threading.Thread(
        target=lambda: outcome.append(
            segment_rasters(
                segment_inputs.optical, segment_inputs.elevation, north, fast_model, options, cancel=hold
            )
        )
    )
    thread.start()
    try:
        assert reached.wait(120)
        live = [path for path in tmp_path.iterdir() if ".tmp" in path.name]
        assert live
        for path in live:
            os.utime(path)  # being written now
        not_a_model = tmp_path / "model.pt"
        not_a_model.write_bytes(b"not a checkpoint")
        parameters = {"OPTICAL": str(segment_inputs.optical), "ELEVATION": str(segment_inputs.elevation),
                      "MODEL": str(not_a_model), **TILING, "OUTPUT": str(tmp_path / "area.tif")}  # fmt: skip
        with pytest.raises(QgsProcessingException, match="not a readable checkpoint"):
            processing.run("geofuse:segment", parameters)
        assert all(path.exists() for path in live)
    finally:
        release.set()
        thread.join(120)
    assert outcome and Path(outcome[0].output_path) == north
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "area.north.qml", "area.north.tif", "area.north.tif.aux.xml", "model.pt"
    ]  # fmt: skip
