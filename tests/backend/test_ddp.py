"""DDP: two CPU processes under torchrun (gloo) train one model; rank 0 alone writes, metrics are reduced."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geofuse.backend.checkpoint import load_checkpoint

TORCHRUN = Path(sys.executable).with_name("torchrun")


@pytest.mark.skipif(not TORCHRUN.exists(), reason="torchrun is not installed beside this Python")
def test_two_cpu_processes(tmp_path: Path) -> None:
    output = tmp_path / "run"
    command = [
        str(TORCHRUN),
        "--nproc_per_node=2",
        "--standalone",
        "-m",
        "geofuse.backend.cli",
        "train",
        "data.synthetic_size=128",
        "data.synthetic_train_scenes=2",
        "data.synthetic_val_scenes=1",
        f"data.root='{tmp_path / 'data'}'",
        "model.vss_mlp_ratio=0.0",
        "model.fusion.d_state=4",
        "train.crop_size=64",
        "train.batch_size=1",
        "train.steps=2",
        "train.steps_per_epoch=2",
        "train.val_window=64",
        "train.checkpoint_every=1",
        "train.threads=1",
        "train.device='cpu'",
        f"train.output='{output}'",
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, env=environment, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]

    assert sorted(path.name for path in output.glob("*.pt")) == ["last.pt", "model.pt"]
    assert not list(output.glob(".*.tmp"))
    card = load_checkpoint(output / "model.pt").card
    assert card.training["world_size"] == 2 and card.training["steps"] == 2
    # The validation scene's 4 windows are split 2 + 2 over the ranks; the reduced matrix counts them all.
    assert card.training["metrics"]["total"] == 128 * 128
    assert load_checkpoint(output / "last.pt").train_state["step"] == 1

    with (output / "metrics.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and rows[0]["step"] == "2"
    assert 0.0 <= float(rows[0]["overall_accuracy"]) <= 1.0
