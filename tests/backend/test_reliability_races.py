"""Outputs claimed up front, signals and kills at seeded points, two runs sharing a path.

Promises: a run locks every final path (the class raster, its ``.qml`` and ``.aux.xml``, the confidence
raster) at its start, so two runs sharing any of them never both go ahead; a file that appears at a final
path during a run is kept and the run fails with one line; SIGTERM and SIGHUP cancel like Ctrl-C and leave
nothing; a SIGKILL at any point leaves only files the next run (or the QGIS side, ``claims.recover``)
removes, exactly those; clean-up never removes another run's files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from segment_runs import CHILD_ENV, TILING, Paused, digest, files, run_in_thread

from geofuse.backend import claims
from geofuse.backend.errors import EXIT_USER_ERROR
from geofuse.backend.inference import LoadedModel, SegmentationError, SegmentOptions, segment_rasters
from geofuse.backend.outputs import leftover_temporaries

FINALS = ["classes.qml", "classes.tif", "classes.tif.aux.xml"]


def test_a_users_aux_xml_without_the_raster_is_not_replaced(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path
) -> None:
    aux = tmp_path / "classes.tif.aux.xml"
    aux.write_text("<PAMDataset>mine</PAMDataset>")
    with pytest.raises(SegmentationError, match=r"classes\.tif\.aux\.xml exists"):
        segment_rasters(*scene, tmp_path / "classes.tif", tiny, TILING)
    assert aux.read_text() == "<PAMDataset>mine</PAMDataset>"
    assert files(tmp_path) == ["classes.tif.aux.xml"]


@pytest.mark.parametrize("name", ["classes.tif", "classes.qml", "classes.tif.aux.xml", "confidence.tif"])
@pytest.mark.parametrize("overwrite", [False, True], ids=["new", "overwrite"])
def test_a_file_appearing_at_an_output_during_the_run_is_kept_and_the_run_fails(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path, name: str, overwrite: bool
) -> None:
    """Someone else writes a final path half-way through: theirs stays, the run fails, leaves nothing."""
    output, confidence = tmp_path / "classes.tif", tmp_path / "confidence.tif"
    if overwrite:
        for existing in (output, confidence):
            existing.write_bytes(b"old " + existing.name.encode())
    calls = []

    def progress(state: object) -> None:
        calls.append(state)
        if len(calls) == 3:
            (tmp_path / name).write_bytes(b"someone else's")

    options = SegmentOptions(**{**vars(TILING), "confidence_path": confidence, "overwrite": overwrite})
    with pytest.raises(SegmentationError, match="changed by something else during the run; it was kept"):
        segment_rasters(*scene, output, tiny, options, progress=progress)

    assert (tmp_path / name).read_bytes() == b"someone else's"
    expected = {name} | ({"classes.tif", "confidence.tif"} if overwrite else set())
    assert set(files(tmp_path)) == expected
    if overwrite and name != "classes.tif":
        assert output.read_bytes() == b"old classes.tif"


def run_paused(tiny: LoadedModel, scene: tuple[Path, Path], output: Path, **options: object):
    """A run stopped in its second tile (so it holds its claim) and the means to let it go on."""
    paused = Paused(at=2)
    options = SegmentOptions(**{**vars(TILING), **options})
    thread, outcome = run_in_thread(lambda: segment_rasters(*scene, output, tiny, options, cancel=paused))
    assert paused.reached.wait(30)
    return paused, thread, outcome


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"output": "a.tif", "confidence_path": "shared.tif"}, {"output": "shared.tif"}),
        ({"output": "shared.tif"}, {"output": "b.tif", "confidence_path": "shared.tif"}),
        ({"output": "a.tif"}, {"output": "a.tiff"}),  # both style a.qml
    ],
    ids=["confidence-vs-output", "output-vs-confidence", "shared-qml"],
)
def test_two_runs_sharing_an_output_or_a_sidecar_never_both_write(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path, first: dict, second: dict
) -> None:
    def paths(request: dict) -> tuple[Path, dict]:
        options = {key: tmp_path / value for key, value in request.items() if key != "output"}
        return tmp_path / request["output"], options

    output, options = paths(first)
    paused, thread, outcome = run_paused(tiny, scene, output, **options)
    try:
        other, other_options = paths(second)
        with pytest.raises(SegmentationError, match="being written by another segmentation"):
            segment_rasters(*scene, other, tiny, SegmentOptions(**{**vars(TILING), **other_options}))
    finally:
        paused.release.set()
        thread.join(60)
    assert not isinstance(outcome[0], BaseException), outcome
    assert not [name for name in files(tmp_path) if ".tmp" in name or name.endswith(".lock")]
    assert not other.exists() or other == output or other in [tmp_path / v for v in first.values()]


def test_clean_up_after_a_failure_leaves_a_concurrent_runs_temporaries_alone(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path
) -> None:
    """``area.tif`` fails while ``area.north.tif`` is being written beside it: the live run's hidden
    temporaries (``.area.north.*.tmp.tif``, which a ``.area.*.tmp*`` pattern matches) survive, and the
    live run finishes (the Processing side's clean-up ran such a pattern)."""
    north = tmp_path / "area.north.tif"
    paused, thread, outcome = run_paused(tiny, scene, north)
    live = {name: digest([tmp_path / name])[tmp_path / name] for name in files(tmp_path)}
    assert any(".tmp" in name for name in live)
    try:
        with pytest.raises(SegmentationError):
            segment_rasters(scene[0], tmp_path / "missing.tif", tmp_path / "area.tif", tiny, TILING)
        (tmp_path / ".area.tif.lock").write_text("")  # as a killed Processing worker's would be
        claims.recover([tmp_path / "area.tif"])
        assert set(live) <= set(files(tmp_path))
    finally:
        paused.release.set()
        thread.join(60)
    assert not isinstance(outcome[0], BaseException), outcome
    assert sorted(files(tmp_path)) == ["area.north.qml", "area.north.tif", "area.north.tif.aux.xml"]


def test_a_failed_run_removes_the_folders_it_made_and_only_those(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path
) -> None:
    (tmp_path / "kept").mkdir()
    output = tmp_path / "kept" / "new" / "deeper" / "classes.tif"
    with pytest.raises(SegmentationError, match="not found"):
        segment_rasters(scene[0], tmp_path / "missing.tif", output, tiny, TILING)

    def fail(state: object) -> None:
        raise OSError(5, "Input/output error")  # a read failing mid-run

    with pytest.raises(OSError):
        segment_rasters(*scene, output, tiny, TILING, progress=fail)
    assert [path.name for path in tmp_path.rglob("*")] == ["kept"]


# ------------------------------------------------------------------------------------------------ signals


def cli_command(scene: tuple[Path, Path], output: Path, model: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "geofuse.backend.cli", "segment", str(scene[0]), str(scene[1]), "-o",
            str(output), "--model", str(model), "--device", "cpu", "--tile", "32", "--overlap", "8",
            "--quiet", *extra]  # fmt: skip


def wait_for_temporary(process: subprocess.Popen, folder: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not [name for name in files(folder) if ".tmp" in name]:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_stop_signal_mid_run_is_a_clean_cancel(
    scene: tuple[Path, Path], model_path: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    output = tmp_path / "out" / "classes.tif"
    process = subprocess.Popen(
        cli_command(scene, output, model_path, "--confidence", str(tmp_path / "out" / "confidence.tif")),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=CHILD_ENV,
    )  # fmt: skip
    wait_for_temporary(process, tmp_path)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 128 + signum
    assert err.strip().splitlines() == ["geofuse: cancelled; nothing was written"]
    assert files(tmp_path) == []
    assert not (tmp_path / "out").exists()  # the run made it, and removed it again


def test_ctrl_c_in_segment_batch_says_cancelled(
    scene: tuple[Path, Path], model_path: Path, tmp_path: Path
) -> None:
    listing = tmp_path / "scenes.csv"
    listing.write_text("".join(f"{scene[0]},{scene[1]},out/scene{i}.tif\n" for i in range(3)))
    process = subprocess.Popen(
        [sys.executable, "-m", "geofuse.backend.cli", "segment-batch", str(listing), "--model",
         str(model_path), "--device", "cpu", "--tile", "32", "--overlap", "8"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=CHILD_ENV,
    )  # fmt: skip
    wait_for_temporary(process, tmp_path)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("geofuse: cancelled;")
    done = [name for name in files(tmp_path / "out")] if (tmp_path / "out").exists() else []
    assert not [name for name in done if ".tmp" in name or name.endswith(".lock")]


KILL_HARNESS = """
import os, signal, sys
from geofuse.backend import claims, class_raster, raster_pair
from geofuse.backend.inference import LoadedModel, SegmentOptions, segment_rasters
from stand_in_networks import TINY_CARD, TinyNet
point, count = sys.argv[1], int(sys.argv[2])
optical, elevation, output, confidence = sys.argv[3:7]
model = LoadedModel(TinyNet().eval(), TINY_CARD)
calls = [0]
def killing(function):
    def wrapped(*args, **kwargs):
        calls[0] += 1
        if calls[0] == count:
            os.kill(os.getpid(), signal.SIGKILL)
        return function(*args, **kwargs)
    return wrapped
if point == "read":
    raster_pair.valid_pixels = killing(raster_pair.valid_pixels)
elif point == "write":
    class_raster.BlockWriter.put = killing(class_raster.BlockWriter.put)
elif point == "journal":
    claims.OutputClaim._record = killing(claims.OutputClaim._record)
elif point == "rename":
    claims.os.link = killing(os.link)
elif point == "finish":
    claims.OutputClaim.__exit__ = killing(claims.OutputClaim.__exit__)
options = SegmentOptions(device="cpu", tile=32, overlap=8, confidence_path=confidence)
segment_rasters(optical, elevation, output, model, options)
"""

KILL_POINTS = [
    ("journal", 1), ("read", 31), ("write", 5), ("rename", 1), ("rename", 2), ("rename", 3), ("rename", 4),
    ("finish", 1),
]  # fmt: skip
"""Where a SIGKILL lands: seeded tiles of the reads and writes, each journal update and each rename."""


def kill_at(point: str, count: int, scene: tuple[Path, Path], output: Path, confidence: Path) -> None:
    """Run a segmentation (the tiny network) in a process that SIGKILLs itself at ``point``'s ``count``-th
    call."""
    killed = subprocess.run(
        [sys.executable, "-c", KILL_HARNESS, point, str(count), *map(str, (*scene, output, confidence))],
        capture_output=True, text=True, timeout=120,
        env=CHILD_ENV | {"PYTHONPATH": str(Path(__file__).parent)},
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr


@pytest.mark.parametrize(("point", "count"), KILL_POINTS, ids=[f"{p}-{c}" for p, c in KILL_POINTS])
def test_a_sigkill_leaves_only_what_the_next_run_removes(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path, point: str, count: int
) -> None:
    output, confidence = tmp_path / "classes.tif", tmp_path / "confidence.tif"
    keep = tmp_path / ".classes.user.tmp.tif"  # looks like a temporary, is someone's file
    keep.write_bytes(b"mine")
    inputs = digest(list(scene))
    kill_at(point, count, scene, output, confidence)
    finished = point == "finish"

    left = set(files(tmp_path))
    removed = leftover_temporaries(output, confidence)  # as QGIS after a killed worker
    complete = ["classes.qml", "classes.tif", "classes.tif.aux.xml", "confidence.tif"]
    assert files(tmp_path) == sorted([keep.name, *(complete if finished else [])])
    locks = {name for name in left if name.endswith(".lock")}
    assert sorted(path.name for path in removed) == sorted(left - locks - set(files(tmp_path)))

    options = SegmentOptions(**{**vars(TILING), "confidence_path": confidence, "overwrite": finished})
    segment_rasters(*scene, output, tiny, options)
    assert files(tmp_path) == sorted([keep.name, *complete])
    assert keep.read_bytes() == b"mine" and digest(list(scene)) == inputs
    with rasterio.open(output) as dataset:
        assert dataset.read(1).shape == (128, 128)


def test_the_next_run_removes_a_killed_runs_leftovers_itself(
    tiny: LoadedModel, scene: tuple[Path, Path], tmp_path: Path
) -> None:
    """No QGIS in between: the next segmentation of the output takes the lock and cleans up."""
    output, confidence = tmp_path / "classes.tif", tmp_path / "confidence.tif"
    kill_at("rename", 3, scene, output, confidence)
    assert len(files(tmp_path)) > 4  # temporaries, placed sidecars and lock files are left
    segment_rasters(*scene, output, tiny, SegmentOptions(**{**vars(TILING), "confidence_path": confidence}))
    assert files(tmp_path) == ["classes.qml", "classes.tif", "classes.tif.aux.xml", "confidence.tif"]


def test_a_damaged_journal_removes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "classes.tif"
    victim = tmp_path / ".classes.1234abcd.tmp.tif"
    victim.write_bytes(b"x")
    (tmp_path / ".classes.tif.lock").write_text('{"temporaries": [["' + str(victim) + '", 1')
    claims.recover([output])
    assert files(tmp_path) == [victim.name]


def test_threads_racing_for_one_output_let_exactly_one_through(tmp_path: Path) -> None:
    output = tmp_path / "classes.tif"
    barrier, outcomes = threading.Barrier(8), []

    def claim() -> None:
        barrier.wait()
        try:
            with claims.OutputClaim([output], overwrite=False) as held:
                temporary = held.temporary(output)
                temporary.write_bytes(np.arange(4, dtype=np.uint8).tobytes())
                held.created()
                time.sleep(0.05)
                held.place([(temporary, output)])
            outcomes.append("placed")
        except claims.ClaimError as refused:
            outcomes.append(str(refused))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes.count("placed") == 1
    assert all("being written" in text or "exists" in text for text in outcomes if text != "placed")
    assert files(tmp_path) == ["classes.tif"]
    assert os.path.getsize(output) == 4


def test_a_complex_valued_scene_fails_alone_in_segment_batch(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from geofuse.backend.cli import main
    from geofuse.backend.data.synthetic import generate_scene, write_scene

    scene = generate_scene(4, 32, 32)
    write_scene(scene, tmp_path / "good.tif", tmp_path / "dsm.tif", tmp_path / "labels.tif")
    with rasterio.open(tmp_path / "good.tif") as source:
        profile = source.profile | {"dtype": "complex64"}
        data = source.read().astype(np.complex64)
    with rasterio.open(tmp_path / "complex.tif", "w", **profile) as target:
        target.write(data)
    (tmp_path / "scenes.csv").write_text("complex.tif,dsm.tif,out/a.tif\ngood.tif,dsm.tif,out/b.tif\n")

    listing = str(tmp_path / "scenes.csv")
    tiling = ["--device", "cpu", "--tile", "32", "--overlap", "8"]
    status = main(["segment-batch", listing, "--model", str(model_path), *tiling])

    out, err = capsys.readouterr()
    assert status == EXIT_USER_ERROR
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if "error" in line] == [
        f"geofuse: error: {tmp_path / 'complex.tif'}: {tmp_path / 'complex.tif'} holds complex numbers "
        "(complex64); GeoFuse needs real-valued optical and elevation bands"
    ]
    assert "1 segmented, 0 skipped, 1 failed of 2 scene(s)" in out
    assert files(tmp_path / "out") == ["b.qml", "b.tif", "b.tif.aux.xml"]
