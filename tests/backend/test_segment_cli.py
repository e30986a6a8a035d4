"""``geofuse segment`` and ``geofuse segment-batch`` with a real (small, untrained) GeoFuseNet checkpoint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import rasterio
import torch

from geofuse.backend.checkpoint import ModelCard, save_checkpoint
from geofuse.backend.cli import main
from geofuse.backend.data.synthetic import generate_scene, write_scene
from geofuse.backend.errors import EXIT_USER_ERROR
from geofuse.backend.models import build_model

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = build_model(variant="baseline", width="small")
    return save_checkpoint(tmp_path_factory.mktemp("model") / "small.pt", model, ModelCard(model.config))


def scene(folder: Path, seed: int, size: int = 64) -> tuple[Path, Path]:
    optical, elevation = folder / f"optical_{seed}.tif", folder / f"elevation_{seed}.tif"
    write_scene(generate_scene(seed, size, size), optical, elevation, folder / f"labels_{seed}.tif")
    return optical, elevation


def test_segment_writes_styled_outputs(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    optical, elevation = scene(tmp_path, 1)
    output, confidence = tmp_path / "out" / "classes.tif", tmp_path / "out" / "confidence.tif"
    argv = [
        "segment", str(optical), str(elevation), "-o", str(output), "--model", str(checkpoint),
        "--device", "cpu", "--tile", "48", "--overlap", "8", "--batch", "2", "--bands", "1,2,3",
        "--confidence", str(confidence),
    ]  # fmt: skip
    assert main(argv) == 0
    assert "building" in capsys.readouterr().out
    with rasterio.open(output) as labels, rasterio.open(optical) as source:
        assert labels.shape == source.shape and labels.crs == source.crs
        assert labels.read(1).max() < 6
    assert confidence.is_file() and (tmp_path / "out" / "classes.qml").is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "missing.pt"], "model file not found"),
        (["--bands", "1,2"], "2 bands selected"),
        (["--device", "tpu"], "device must be"),
        (["--tile", "32", "--overlap", "32"], "the overlap (32) must be less than the tile size (32)"),
    ],
)
def test_user_errors_are_one_line_and_status_2(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture, extra: list[str], message: str
) -> None:
    optical, elevation = scene(tmp_path, 2, size=32)
    argv = ["segment", str(optical), str(elevation), "-o", str(tmp_path / "o.tif"), "--quiet"]
    argv += ["--model", str(checkpoint), *extra] if "--model" not in extra else extra
    assert main(argv) == EXIT_USER_ERROR
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "o.tif").exists()


def test_existing_output_needs_overwrite(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    optical, elevation = scene(tmp_path, 3, size=32)
    output = tmp_path / "o.tif"
    output.write_bytes(b"keep")
    argv = ["segment", str(optical), str(elevation), "-o", str(output), "--model", str(checkpoint), "--quiet"]
    assert main(argv) == EXIT_USER_ERROR and output.read_bytes() == b"keep"
    assert "--overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0 and output.read_bytes() != b"keep"


def test_bad_option_values_exit_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["segment", "a.tif", "b.tif", "-o", "c.tif", "--bands", "r,g,b"])
    assert exit_info.value.code == 2


def write_list(folder: Path, count: int) -> Path:
    rows = ["optical,elevation,output"]
    for seed in range(10, 10 + count):
        optical, elevation = scene(folder, seed)
        rows.append(f"{optical.name},{elevation.name},results/{seed}.tif")
    listing = folder / "scenes.csv"
    listing.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return listing


def test_segment_batch_is_resumable(checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    listing = write_list(tmp_path, 2)
    argv = [
        "segment-batch",
        str(listing),
        "--model",
        str(checkpoint),
        "--device",
        "cpu",
        "--tile",
        "64",
        "--overlap",
        "16",
    ]
    assert main(argv) == 0
    assert "2 segmented, 0 skipped" in capsys.readouterr().out
    assert main(argv) == 0
    assert "0 segmented, 2 skipped" in capsys.readouterr().out


def test_segment_batch_under_torchrun_shares_the_scenes(checkpoint: Path, tmp_path: Path) -> None:
    listing = write_list(tmp_path, 4)
    command = [
        str(VENV_BIN / "torchrun"), "--nproc_per_node=2", "--master_port=0", "-m", "geofuse.backend.cli",
        "segment-batch", str(listing), "--model", str(checkpoint), "--device", "cpu",
        "--tile", "64", "--overlap", "16",
    ]  # fmt: skip
    environment = os.environ | {"OMP_NUM_THREADS": "1"}
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)
    assert finished.returncode == 0, finished.stderr[-2000:]
    for rank in (0, 1):
        assert f"[rank {rank}/2] 2 segmented, 0 skipped, 0 failed of 2 scene(s)" in finished.stdout
    assert sorted(path.name for path in (tmp_path / "results").glob("*.tif")) == [
        "10.tif", "11.tif", "12.tif", "13.tif",
    ]  # fmt: skip
