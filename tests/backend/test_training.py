"""Training: a short run that learns, resume, checkpoint contents, the train command."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from geofuse.backend.checkpoint import CheckpointError, load_checkpoint
from geofuse.backend.distributed import RankSampler
from geofuse.backend.train_config import load_config
from geofuse.backend.training import Progress, TrainingCancelled, train

# A tiny run: two 128² training scenes, one validation scene, 64² crops, one CPU thread.
TINY = [
    "data.synthetic_size=128",
    "data.synthetic_train_scenes=2",
    "data.synthetic_val_scenes=1",
    "model.vss_mlp_ratio=0.0",
    "model.fusion.d_state=4",
    "optim.lr=3e-3",
    "optim.warmup_steps=1",
    "train.crop_size=64",
    "train.batch_size=2",
    "train.steps=6",
    "train.steps_per_epoch=3",
    "train.val_window=64",
    "train.checkpoint_every=100",
    "train.threads=1",
    "train.device='cpu'",
]


def _config(tmp: Path, name: str, *extra: str):
    return load_config(None, [*TINY, f"data.root='{tmp / 'data'}'", f"train.output='{tmp / name}'", *extra])


def test_rank_sampler_splits_and_skips() -> None:
    assert list(RankSampler(12, 0, 2, 2)) == [0, 2, 4, 6, 8, 10]
    assert list(RankSampler(12, 1, 2, 2, start_batch=1)) == [5, 7, 9, 11]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One uninterrupted run, and the same run cancelled after 3 steps and resumed."""
    tmp = tmp_path_factory.mktemp("training")
    records: dict[str, list[Progress]] = {"full": [], "cut": [], "resumed": []}
    full = train(_config(tmp, "full"), progress=records["full"].append)
    with pytest.raises(TrainingCancelled) as cancelled:
        train(
            _config(tmp, "cut"),
            progress=records["cut"].append,
            cancel=lambda: len(records["cut"]) >= 3,
        )
    resumed = train(
        _config(tmp, "cut"), progress=records["resumed"].append, resume=cancelled.value.checkpoint
    )
    paths = {"full_model": full, "cancelled": cancelled.value, "resumed_model": resumed}
    return {"tmp": tmp, **paths, **records}


def _losses(records: list[Progress]) -> list[float]:
    return [record.loss for record in records if record.metrics is None]


def test_short_run_lowers_the_loss(runs: dict) -> None:
    losses = _losses(runs["full"])
    assert len(losses) == 6
    assert sum(losses[-2:]) < sum(losses[:2])


def test_final_checkpoint_card(runs: dict) -> None:
    checkpoint = load_checkpoint(runs["full_model"])
    assert checkpoint.train_state is None
    card = checkpoint.card
    assert card.model.variant == "a2" and card.model.fusion["d_state"] == 4
    assert card.optical_bands == ("R", "G", "B") and card.gsd_m == pytest.approx(0.1)
    training = card.training
    assert training["steps"] == 6 and training["seed"] == 0 and training["generator_seed"] == 0
    assert training["data"]["kind"] == "synthetic" and training["data"]["val_generator_seed"] == 1
    metrics = training["metrics"]
    assert metrics["total"] == 128 * 128  # the one validation scene, every pixel scored once
    assert 0.0 <= metrics["overall_accuracy"] <= 1.0
    model = checkpoint.build_model()
    assert model(torch.zeros(1, 3, 64, 64), torch.zeros(1, 1, 64, 64)).shape == (1, 6, 64, 64)


def test_metrics_logged_each_epoch(runs: dict) -> None:
    with (Path(runs["full_model"]).parent / "metrics.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["epoch"], row["step"]) for row in rows] == [("0", "3"), ("1", "6")]
    assert all(0.0 <= float(row["overall_accuracy"]) <= 1.0 for row in rows)
    assert "iou_building" in rows[0]
    validated = [record for record in runs["full"] if record.metrics is not None]
    assert [record.step for record in validated] == [3, 6]


def test_resume_continues_from_the_same_step(runs: dict) -> None:
    cancelled = runs["cancelled"]
    assert cancelled.step == 3
    state = load_checkpoint(cancelled.checkpoint).train_state
    assert state is not None and state["step"] == 3 and len(state["losses"]) == 3
    assert [record.step for record in runs["resumed"] if record.metrics is None] == [4, 5, 6]
    assert _losses(runs["cut"]) + _losses(runs["resumed"]) == pytest.approx(_losses(runs["full"]), abs=0.0)
    full, resumed = load_checkpoint(runs["full_model"]), load_checkpoint(runs["resumed_model"])
    assert resumed.card.training["steps"] == 6
    for key, value in full.state_dict.items():
        assert torch.equal(value, resumed.state_dict[key]), key


def test_resume_refuses_other_settings_and_release_checkpoints(runs: dict) -> None:
    tmp = runs["tmp"]
    other = _config(tmp, "other", "model.lambda_align=0.5")
    with pytest.raises(CheckpointError, match="different \\[model\\]"):
        train(other, resume=runs["cancelled"].checkpoint)
    with pytest.raises(CheckpointError, match="cannot be resumed"):
        train(_config(tmp, "other"), resume=runs["full_model"])


def test_train_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from geofuse.backend.cli import main

    overrides = [*TINY, f"data.root='{tmp_path / 'data'}'", "train.steps=1"]
    assert main(["train", *overrides, "--output", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "run" / "model.pt")
    assert load_checkpoint(tmp_path / "run" / "model.pt").card.training["steps"] == 1
    assert main(["train", "train.stepz=1"]) == 2
    assert "unknown keys in [train]" in capsys.readouterr().err
