"""The worker protocol without QGIS: requests in, JSON lines out, nothing else on stdout."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch

from geofuse.backend import worker
from geofuse.backend.errors import EXIT_CANCELLED, EXIT_OK, EXIT_USER_ERROR
from geofuse.backend.worker import Emitter, explain, serve


def run_serve(request: object, cancelled: bool = False) -> tuple[int, list[dict]]:
    stream = io.StringIO()
    code = serve(request, Emitter(stream), lambda: cancelled)
    return code, [json.loads(line) for line in stream.getvalue().splitlines()]


def test_diagnostics_reports_this_runtime() -> None:
    code, messages = run_serve({"command": "self-check"})

    assert code == EXIT_OK
    (result,) = messages
    assert result["type"] == "result" and result["command"] == "self-check"
    assert result["ok"] is True and result["problems"] == []
    assert result["torch"] == torch.__version__
    assert result["cuda_available"] == torch.cuda.is_available()
    assert result["rasterio"] == rasterio.__version__ and result["gdal"] == rasterio.__gdal_version__
    assert result["devices"][0]["id"] == "cpu"
    assert len(result["devices"]) == 1 + (torch.cuda.device_count() if torch.cuda.is_available() else 0)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ({"command": "fly"}, "unknown command 'fly'"),
        (["segment"], "must be a JSON object"),
        (
            {
                "command": "segment",
                "optical": "a.tif",
                "elevation": "b.tif",
                "output": "c.tif",
                "class_band_description": "two\nlines",
            },
            "'class_band_description' must be one printable line",
        ),
    ],
)
def test_bad_requests_are_errors_not_crashes(request_: object, expected: str) -> None:
    code, messages = run_serve(request_)

    assert code == EXIT_USER_ERROR
    assert messages[-1]["type"] == "error" and expected in messages[-1]["message"]
    assert messages[-1]["kind"] == "user"


def test_a_command_that_raises_cancelled_ends_as_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    def stops(request: object, emit: Emitter, cancelled: object) -> dict:
        emit.progress(0.5, done=1, total=2)
        raise worker.CancelledError("stopped at tile 1 of 2")

    monkeypatch.setitem(worker.COMMANDS, "stops", stops)
    code, messages = run_serve({"command": "stops"})

    assert code == EXIT_CANCELLED
    assert messages[0] == {
        "type": "progress",
        "fraction": 0.5,
        "done": 1,
        "total": 2,
        "eta_s": None,
        "message": None,
    }
    assert messages[1] == {"type": "cancelled", "message": "stopped at tile 1 of 2"}


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (
            torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"),
            "resources",
            "smaller tile",
        ),
        (MemoryError(), "resources", "ran out of memory"),
        (FileNotFoundError(2, "No such file", "/data/dsm.tif"), "user", "File not found: /data/dsm.tif"),
        (ValueError("the optical raster has 1 band; the model needs 3"), "user", "needs 3"),
        (KeyError("x"), "internal", "report this as a bug"),
    ],
)
def test_errors_are_explained_for_an_analyst(error: BaseException, kind: str, words: str) -> None:
    message, got_kind = explain(error)

    assert got_kind == kind
    assert words in message


NOISY = """
import os, sys
from geofuse.backend import worker
def noisy(request, emit, cancelled):
    print("a library that prints")
    os.write(1, b"a native library writing to descriptor 1\\n")
    emit.log("working")
    return {"answer": 42}
worker.COMMANDS["noisy"] = noisy
sys.exit(worker.main())
"""


def test_stdout_carries_only_protocol_lines_even_when_libraries_print() -> None:
    done = subprocess.run(
        [sys.executable, "-c", NOISY],
        input='{"command": "noisy"}\n',
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == EXIT_OK, done.stderr
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    assert messages == [
        {"type": "log", "level": "info", "message": "working"},
        {"type": "result", "command": "noisy", "answer": 42},
    ]
    assert "a library that prints" in done.stderr
    assert "descriptor 1" in done.stderr


def test_unreadable_request_is_reported_on_stdout() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "geofuse.backend.worker"],
        input="segment please\n",
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == EXIT_USER_ERROR
    (message,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert message["type"] == "error" and "no readable request" in message["message"]


@pytest.mark.parametrize(
    ("line", "stop"), [('{"type": "stop"}', True), ("stop", True), ('{"type": "log"}', False)]
)
def test_stop_messages_are_recognised(line: str, stop: bool) -> None:
    assert worker._is_stop(line) is stop


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 96² synthetic scene and a random-weight small model."""
    from geofuse.backend.checkpoint import ModelCard, save_checkpoint
    from geofuse.backend.data.synthetic import generate_scene, write_scene
    from geofuse.backend.models.network import build_model

    folder = tmp_path_factory.mktemp("scene")
    paths = {name: folder / f"{name}.tif" for name in ("optical", "elevation", "labels")}
    write_scene(generate_scene(7, 96, 96), paths["optical"], paths["elevation"], paths["labels"])
    torch.manual_seed(0)
    model = build_model(width="small")
    paths["model"] = save_checkpoint(folder / "model.pt", model, ModelCard(model=model.config))
    return paths


def test_evaluate_counts_a_known_confusion(scene: dict[str, Path], tmp_path: Path) -> None:
    with rasterio.open(scene["labels"]) as source:
        truth, profile = source.read(1), source.profile
    prediction = truth.copy()
    changed = truth == truth[0, 0]
    prediction[changed] = (truth[0, 0] + 1) % 6
    path = tmp_path / "prediction.tif"
    with rasterio.open(path, "w", **profile) as target:
        target.write(prediction, 1)

    code, messages = run_serve(
        {"command": "evaluate", "prediction": str(path), "truth": str(scene["labels"])}
    )

    assert code == EXIT_OK
    result = messages[-1]
    expected = np.zeros((6, 6), np.int64)
    np.add.at(expected, (truth.ravel(), prediction.ravel()), 1)
    assert result["confusion_matrix"] == expected.tolist()
    assert result["metrics"]["overall_accuracy"] == pytest.approx(1 - changed.mean())
    assert [entry["name"] for entry in result["class_table"]][:2] == ["impervious surfaces", "building"]


def test_evaluate_refuses_rasters_on_different_grids(scene: dict[str, Path], tmp_path: Path) -> None:
    with rasterio.open(scene["labels"]) as source:
        data, profile = source.read(1)[:50], {**source.profile, "height": 50}
    path = tmp_path / "cropped.tif"
    with rasterio.open(path, "w", **profile) as target:
        target.write(data, 1)

    code, messages = run_serve(
        {"command": "evaluate", "prediction": str(path), "truth": str(scene["labels"])}
    )

    assert code == EXIT_USER_ERROR
    assert "share one pixel grid" in messages[-1]["message"] and messages[-1]["kind"] == "user"


def test_link_tiles_lays_out_a_training_folder(scene: dict[str, Path], tmp_path: Path) -> None:
    tiles = [{kind: str(scene[kind]) for kind in ("optical", "elevation", "labels")}] * 2

    root = worker.link_tiles(tiles, tmp_path / "tiles")

    for kind in ("optical", "elevation", "labels"):
        names = sorted(path.name for path in (root / kind).iterdir())
        assert names == ["tile_000.tif", "tile_001.tif"]
        assert (root / kind / "tile_001.tif").read_bytes() == scene[kind].read_bytes()


def test_sigterm_stops_a_segmentation_and_leaves_no_output(scene: dict[str, Path], tmp_path: Path) -> None:
    output = tmp_path / "out" / "classes.tif"
    output.parent.mkdir()
    request = {
        "command": "segment",
        "optical": str(scene["optical"]),
        "elevation": str(scene["elevation"]),
        "output": str(output),
        "model": str(scene["model"]),
        "device": "cpu",
        "tile": 32,
        "overlap": 8,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "geofuse.backend.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    process.stdin.write(json.dumps(request) + "\n")
    process.stdin.flush()
    messages = []
    for line in process.stdout:
        messages.append(json.loads(line))
        if messages[-1]["type"] == "progress" and messages[-1]["done"]:
            process.send_signal(signal.SIGTERM)
            break
    messages.extend(json.loads(line) for line in process.stdout)

    assert process.wait(timeout=60) == EXIT_CANCELLED
    assert messages[-1] == {"type": "cancelled", "message": "segmentation cancelled"}
    assert list(output.parent.iterdir()) == []
