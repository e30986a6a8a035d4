"""Faults during a segmentation: cancels and interrupts at random points, a killed worker, a full disk,
CUDA running out of memory, two segmentations at once. Whatever happens: never a partial output, never a
leftover temporary file, never a worker left running, and the inputs untouched.

In-process runs use a tiny random convolution as the network (the engine takes any
``network(optical, elevation) -> logits``); worker and CLI processes load a small random-weight GeoFuseNet.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from segment_runs import CHILD_ENV, TILES, TILING, Paused, digest, files, run_in_thread
from stand_in_networks import TINY_CARD
from torch import nn

from geofuse.backend import claims, errors, worker
from geofuse.backend.data.synthetic import generate_scene, write_scene
from geofuse.backend.errors import EXIT_USER_ERROR
from geofuse.backend.inference import (
    LoadedModel,
    SegmentationCancelled,
    SegmentationError,
    segment_rasters,
)


@pytest.fixture(scope="module")
def reference(tiny: LoadedModel, scene: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The class raster of an undisturbed run."""
    folder = tmp_path_factory.mktemp("reference")
    return segment_rasters(*scene, folder / "classes.tif", tiny, TILING).output_path


def read(path: Path) -> np.ndarray:
    with rasterio.open(path) as dataset:
        return dataset.read(1)


# ------------------------------------------------------------------------------- cancel at random points

RNG = np.random.default_rng(20261129)
POINTS = [(str(mode), int(at)) for mode, at in zip(
    RNG.choice(["cancel", "interrupt", "network error", "read error"], 20), RNG.integers(1, TILES + 1, 20),
    strict=True,
)]  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "at"), POINTS, ids=[f"{i:02d}-{m}-at-{a}" for i, (m, a) in enumerate(POINTS)]
)
def test_stopping_at_a_random_point_leaves_nothing(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path, mode: str, at: int
) -> None:
    """A cancel before tile ``at``, Ctrl-C after it, or the network or the reader failing on it."""
    calls = {"cancel": 0, "progress": 0, "forward": 0, "read": 0}
    inputs = digest(scene)

    def counted(kind: str) -> bool:
        calls[kind] += 1
        return calls[kind] == at

    def cancel() -> bool:
        return mode == "cancel" and counted("cancel")

    def progress(state: object) -> None:
        if mode == "interrupt" and counted("progress"):
            raise KeyboardInterrupt

    def network(optical: torch.Tensor, elevation: torch.Tensor) -> torch.Tensor:
        if mode == "network error" and counted("forward"):
            raise RuntimeError("injected network failure")
        return tiny.network(optical, elevation)

    original_read = rasterio.io.DatasetReader.read

    def failing_read(self, *args, **kwargs):
        if mode == "read error" and self.name.endswith("elevation.tif") and counted("read"):
            raise rasterio.errors.RasterioIOError("Read failed (injected)")
        return original_read(self, *args, **kwargs)

    options = replace(TILING, confidence_path=tmp_path / "out" / "confidence.tif")
    expected = {
        "cancel": SegmentationCancelled,
        "interrupt": KeyboardInterrupt,
        "network error": RuntimeError,
        "read error": rasterio.errors.RasterioIOError,
    }[mode]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rasterio.io.DatasetReader, "read", failing_read)
        with pytest.raises(expected):
            segment_rasters(
                *scene,
                tmp_path / "out" / "classes.tif",
                LoadedModel(network, TINY_CARD),
                options,
                progress=progress,
                cancel=cancel,
            )

    assert files(tmp_path) == []
    assert digest(scene) == inputs


@pytest.mark.parametrize("at", [1, 2, 3])
def test_an_interrupt_between_the_final_renames_leaves_no_stray_sidecar(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    """Ctrl-C can land after the last tile too, while the finished files are moved into place (the .qml,
    the .aux.xml, then the class raster): the sidecars already placed go again, nothing else is left."""
    links: list[tuple[str, str]] = []
    link = os.link

    def interrupted(source: str | Path, target: str | Path) -> None:
        links.append((str(source), str(target)))
        if len(links) == at:
            raise KeyboardInterrupt
        link(source, target)

    monkeypatch.setattr(claims.os, "link", interrupted)
    with pytest.raises(KeyboardInterrupt):
        segment_rasters(*scene, tmp_path / "classes.tif", tiny, TILING)

    monkeypatch.undo()
    assert len(links) == at
    assert files(tmp_path) == []
    segment_rasters(*scene, tmp_path / "classes.tif", tiny, TILING)  # and nothing stands in the way after


# ------------------------------------------------------------------------------------- the worker process


def start_worker(request: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "geofuse.backend.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=CHILD_ENV,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps({**request, "stop_on_stdin_close": True}) + "\n")
    process.stdin.flush()
    return process


def segment_request(scene: tuple[Path, Path], output: Path, model: Path) -> dict:
    return {"command": "segment", "optical": str(scene[0]), "elevation": str(scene[1]), "output": str(output),
            "model": str(model), "device": "cpu", "tile": 32, "overlap": 8}  # fmt: skip


def run_until_progress(process: subprocess.Popen, tiles: int, act: Callable[[], None]) -> list[dict]:
    """Read messages; after the progress message of tile ``tiles``, ``act`` once; then read to the end."""
    assert process.stdout is not None
    messages: list[dict] = []
    acted = False
    for line in process.stdout:
        messages.append(json.loads(line))
        if not acted and messages[-1]["type"] == "progress" and (messages[-1]["done"] or 0) >= tiles:
            act()
            acted = True
    return messages


WORKER_STOP_AT = int(np.random.default_rng(7).integers(1, TILES))
"""A seeded random tile to stop the worker at (one process: starting one costs seconds of imports)."""


def test_worker_stopped_at_a_random_tile_exits_cleanly(
    scene: tuple[Path, Path], model_path: Path, tmp_path: Path
) -> None:
    process = start_worker(segment_request(scene, tmp_path / "classes.tif", model_path))

    def stop() -> None:
        assert process.stdin is not None
        process.stdin.write('{"type": "stop"}\n')
        process.stdin.flush()

    messages = run_until_progress(process, WORKER_STOP_AT, stop)

    assert process.wait(timeout=30) == errors.EXIT_CANCELLED
    assert messages[-1]["type"] == "cancelled"
    assert not Path(f"/proc/{process.pid}").exists(), "the worker was not reaped"
    assert files(tmp_path) == []


def test_worker_killed_mid_run_never_leaves_a_partial_output(
    scene: tuple[Path, Path], model_path: Path, tmp_path: Path
) -> None:
    """SIGKILL (what the OOM killer sends) gives the worker no chance to clean up: its hidden temporaries
    (and lock file) may stay, for the caller to remove (the Processing algorithm does,
    tests/plugin/test_reliability_processing.py), but the output itself only ever appears complete."""
    inputs = digest(scene)
    process = start_worker(segment_request(scene, tmp_path / "classes.tif", model_path))

    messages = run_until_progress(process, 3, lambda: os.kill(process.pid, signal.SIGKILL))

    assert process.wait(timeout=30) == -signal.SIGKILL
    assert not [m for m in messages if m["type"] in {"result", "error", "cancelled"}]
    leftovers = files(tmp_path)
    assert all(name.startswith(".classes.") for name in leftovers), f"a visible partial file: {leftovers}"
    assert digest(scene) == inputs


# ----------------------------------------------------------------------------------------------- disk full

LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG, like ENOSPC
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
from geofuse.backend.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture(scope="module")
def full_disk(
    model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess, Path, dict[Path, str], dict[Path, str]]:
    """``geofuse segment`` in a process whose files may not grow past 16 KiB (RLIMIT_FSIZE): writing the
    outputs fails part way, as on a full disk, while the model and the inputs are only read."""
    folder = tmp_path_factory.mktemp("full")
    optical, elevation = folder / "optical.tif", folder / "elevation.tif"
    write_scene(generate_scene(32, 256, 256), optical, elevation, folder / "labels.tif")
    before = digest([optical, elevation])
    output = folder / "out" / "classes.tif"
    argv = ["segment", str(optical), str(elevation), "-o", str(output), "--model", str(model_path),
            "--device", "cpu", "--tile", "128", "--overlap", "16", "--quiet",
            "--confidence", str(folder / "out" / "confidence.tif")]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", LIMITED, str(16 * 1024), *argv],
        capture_output=True,
        text=True,
        timeout=180,
        env=CHILD_ENV,
    )
    return done, output, before, digest([optical, elevation])


def test_a_full_disk_is_a_clear_error_with_nothing_left(full_disk) -> None:
    done, output, before, after = full_disk

    assert done.returncode == EXIT_USER_ERROR, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("geofuse: error: ") and "Write failed: " in last, done.stderr
    assert "Traceback" not in done.stderr and "See previous exception" not in done.stderr
    assert not output.parent.exists() or files(output.parent) == []
    assert after == before


def test_a_full_disk_error_names_the_output(full_disk) -> None:
    done, output, _, _ = full_disk
    assert str(output) in done.stderr.strip().splitlines()[-1]


def test_no_space_left_through_the_worker_is_a_resources_error(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC injected into the class raster's writes, in-process: the worker says the disk is full."""
    write = rasterio.io.DatasetWriter.write

    def full(self, *args, **kwargs):
        if ".tmp" in self.name:
            raise OSError(28, "No space left on device")
        return write(self, *args, **kwargs)

    monkeypatch.setattr(rasterio.io.DatasetWriter, "write", full)
    monkeypatch.setattr(LoadedModel, "load", classmethod(lambda cls, model, device: tiny))
    request = segment_request(scene, tmp_path / "classes.tif", Path("unused.pt"))

    messages = serve(request)

    assert messages[-1]["type"] == "error" and messages[-1]["kind"] == "resources"
    assert messages[-1]["message"].startswith("The disk is full")
    assert files(tmp_path) == []


def serve(request: dict) -> list[dict]:
    import io

    stream = io.StringIO()
    worker.serve(request, worker.Emitter(stream), lambda: False)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# ------------------------------------------------------------------------------------------ out of memory


def flaky(network: nn.Module, failing_calls: set[int], sizes: list[int]) -> Callable:
    """``network`` that raises CUDA's out-of-memory error on the given forward calls (1-based)."""

    def forward(optical: torch.Tensor, elevation: torch.Tensor) -> torch.Tensor:
        sizes.append(len(optical))
        if len(sizes) in failing_calls:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (injected)")
        return network(optical, elevation)

    return forward


@pytest.mark.parametrize("call", [3, 5])
def test_out_of_memory_mid_run_halves_the_batch_and_changes_nothing(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path, reference: Path, call: int
) -> None:
    """Out of memory on a later batch of 4 tiles (test_inference.py injects it on the first); rows of 5 tiles
    go in batches of 4 and 1, so calls 3 and 5 are batches of 4."""
    sizes: list[int] = []
    options = replace(TILING, batch_size=4)

    result = segment_rasters(
        *scene, tmp_path / "classes.tif", LoadedModel(flaky(tiny.network, {call}, sizes), TINY_CARD), options
    )

    assert sizes[call - 1] == 4 and sizes[call] == 2 and max(sizes[call:]) == 2
    assert result.batch_size == 2
    assert np.array_equal(read(result.output_path), read(reference))


def test_out_of_memory_at_batch_one_is_a_resources_error_with_nothing_left(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    hopeless = LoadedModel(flaky(tiny.network, set(range(2, 100)), sizes), TINY_CARD)
    monkeypatch.setattr(LoadedModel, "load", classmethod(lambda cls, model, device: hopeless))

    messages = serve({**segment_request(scene, tmp_path / "classes.tif", Path("unused.pt")), "batch_size": 2})

    assert sizes == [2, 2, 1]
    assert messages[-1]["type"] == "error" and messages[-1]["kind"] == "resources"
    assert "ran out of memory" in messages[-1]["message"]
    assert files(tmp_path) == []


# ------------------------------------------------------------------------------ two segmentations at once


def test_two_segmentations_at_once_on_different_outputs_are_both_correct(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path, reference: Path
) -> None:
    pause = Paused(at=3)
    thread, outcome = run_in_thread(
        lambda: segment_rasters(*scene, tmp_path / "a.tif", tiny, TILING, cancel=pause)
    )
    assert pause.reached.wait(timeout=60)

    second = segment_rasters(*scene, tmp_path / "b.tif", tiny, TILING)
    pause.release.set()
    thread.join(timeout=60)

    assert not isinstance(outcome[0], BaseException), outcome
    assert np.array_equal(read(second.output_path), read(reference))
    assert np.array_equal(read(tmp_path / "a.tif"), read(reference))
    assert files(tmp_path) == ["a.qml", "a.tif", "a.tif.aux.xml", "b.qml", "b.tif", "b.tif.aux.xml"]


def test_a_second_segmentation_of_the_same_output_is_refused(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path, reference: Path
) -> None:
    output = tmp_path / "classes.tif"
    pause = Paused(at=3)
    options = replace(TILING, overwrite=True)  # as Processing asks
    thread, outcome = run_in_thread(lambda: segment_rasters(*scene, output, tiny, options, cancel=pause))
    assert pause.reached.wait(timeout=60)

    try:
        with pytest.raises(SegmentationError, match="being written"):
            segment_rasters(*scene, output, tiny, options)
    finally:
        pause.release.set()
        thread.join(timeout=60)

    assert not isinstance(outcome[0], BaseException), outcome
    assert np.array_equal(read(output), read(reference))
    assert [name for name in files(tmp_path) if ".tmp" in name or ".lock" in name] == []


def test_a_full_disk_fails_one_scene_of_a_batch_and_the_batch_goes_on(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from geofuse.backend.cli import main

    rows = ["optical,elevation,output"]
    for seed in (41, 42):
        optical, elevation = tmp_path / f"optical_{seed}.tif", tmp_path / f"elevation_{seed}.tif"
        write_scene(generate_scene(seed, 48, 48), optical, elevation, tmp_path / f"labels_{seed}.tif")
        rows.append(f"{optical.name},{elevation.name},out/{seed}.tif")
    (tmp_path / "scenes.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    write = rasterio.io.DatasetWriter.write

    def full(self, *args, **kwargs):
        if ".41." in self.name:
            raise OSError(28, "No space left on device")
        return write(self, *args, **kwargs)

    monkeypatch.setattr(rasterio.io.DatasetWriter, "write", full)
    argv = ["segment-batch", str(tmp_path / "scenes.csv"), "--model", str(model_path), "--device", "cpu",
            "--tile", "48", "--overlap", "8"]  # fmt: skip

    assert main(argv) == EXIT_USER_ERROR

    captured = capsys.readouterr()
    assert "No space left on device" in captured.err and "Traceback" not in captured.err
    assert "1 segmented, 0 skipped, 1 failed of 2 scene(s)" in captured.out
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "42.qml",
        "42.tif",
        "42.tif.aux.xml",
    ]
