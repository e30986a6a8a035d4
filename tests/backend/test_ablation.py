"""The ablation's arms beyond GeoFuse's variants: the early-fusion U-Net (bench extra) and the domains."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from geofuse.backend.ablation import (
    UNET_ARM,
    VariantResult,
    ablation_rows,
    apply_arm,
    domain_config,
    parse_arm,
    run_ablation,
)
from geofuse.backend.cli import main
from geofuse.backend.data.folder import folder_tiles
from geofuse.backend.early_fusion import MISSING_EXTRA, MissingExtraError
from geofuse.backend.evaluation import ModelCost
from geofuse.backend.metrics import compute_metrics
from geofuse.backend.train_config import ModelSettings, TrainConfig, load_config

HAS_SMP = importlib.util.find_spec("segmentation_models_pytorch") is not None
needs_smp = pytest.mark.skipif(not HAS_SMP, reason="segmentation_models_pytorch (bench extra) not installed")
TINY = [
    "data.synthetic_size=64",
    "data.synthetic_train_scenes=1",
    "data.synthetic_val_scenes=1",
    "train.crop_size=64",
    "train.batch_size=2",
    "train.steps=2",
    "train.val_every=1000",
]


def test_unet_is_an_arm_but_not_a_geofuse_setting() -> None:
    assert parse_arm(UNET_ARM) == ("unet", [])
    with pytest.raises(ValueError, match="arm"):
        parse_arm("unet+one-to-one")
    with pytest.raises(ValueError, match="not a GeoFuse model setting"):
        apply_arm(ModelSettings(), UNET_ARM)


def test_table_compares_each_domain_with_its_own_baseline() -> None:
    def runs(iou: float) -> list:
        names = ["impervious surfaces", "building", "low vegetation", "tree", "car", "clutter"]
        return [compute_metrics(torch.diag(torch.full((6,), iou * 100)).long() + 10, names)] * 2

    cost = ModelCost(parameters=1, gflops=1.0, images_per_s=1.0, size=64)
    results = [
        VariantResult("baseline", runs(1), cost, [1.0, 1.0], "home", [10, 12]),
        VariantResult("baseline", runs(3), cost, [1.0, 1.0], "hard", [10, 12]),
        VariantResult("unet", runs(3), cost, [1.0, 1.0], "home", [5, 5]),
        VariantResult("unet", runs(3), cost, [1.0, 1.0], "hard", [5, 5]),
    ]
    header, rows = ablation_rows(results)
    delta, domain, steps = header.index("miou_delta"), header.index("domain"), header.index("steps_per_run")
    assert [row[domain] for row in rows] == ["home", "hard", "home", "hard"]
    assert float(rows[2][delta]) > 0  # unet vs the home baseline
    assert rows[3][delta] == "+0.00 (inside spread)"  # unet vs the hard baseline, the same scores
    assert [row[steps] for row in rows] == ["11", "11", "5", "5"]


def test_hard_domain_data_are_written_as_folders(tmp_path: Path) -> None:
    base = load_config(None, TINY)
    home = domain_config(base, "home", tmp_path)
    assert home.data.kind == "synthetic" and home.data.root == str(tmp_path / "data")
    hard = domain_config(base, "hard", tmp_path)
    assert hard.data.kind == "folder" and base.data.kind == "synthetic"  # base untouched
    manifest = json.loads((tmp_path / "data-hard" / "val" / "synthetic.json").read_text())
    assert manifest["domain"] == "hard" and manifest["seed"] == base.data.synthetic_seed + 1
    assert [tile.name for tile in folder_tiles(hard.data.root)] == ["scene_0000"]
    with pytest.raises(ValueError, match="unknown domain"):
        domain_config(base, "mars", tmp_path)
    folder = TrainConfig.from_dict({**base.to_dict(), "data": {"kind": "folder", "root": str(tmp_path)}})
    with pytest.raises(ValueError, match="needs synthetic data"):
        domain_config(folder, "hard", tmp_path)


@pytest.mark.skipif(HAS_SMP, reason="the bench extra is installed here")
def test_without_the_bench_extra_the_unet_arm_fails_in_one_line_before_any_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(MissingExtraError, match="bench"):
        run_ablation(load_config(None, TINY), ["a2", UNET_ARM], 1, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing trained, no data written
    code = main(["ablate", "--variants", "baseline,unet", "--output", str(tmp_path / "cli"), *TINY])
    error = capsys.readouterr().err.strip()
    assert code == 2 and len(error.splitlines()) == 1
    assert error.startswith(f"geofuse: error: {MISSING_EXTRA}")
    assert not (tmp_path / "cli").exists()


@needs_smp
def test_unet_takes_any_size_and_stacks_the_elevation() -> None:
    from geofuse.backend.early_fusion import EarlyFusionUNet

    torch.manual_seed(0)
    model = EarlyFusionUNet(num_classes=5, optical_channels=3).eval()
    optical, elevation = torch.rand(2, 3, 70, 45), torch.rand(2, 1, 70, 45)
    with torch.inference_mode():
        logits = model(optical, elevation)
        moved = model(optical, elevation + 5.0)
    assert logits.shape == (2, 5, 70, 45)
    assert not torch.allclose(logits, moved)  # the elevation is an input
    assert 14e6 < sum(p.numel() for p in model.parameters()) < 15e6  # ResNet-18 U-Net


@needs_smp
def test_unet_arm_trains_and_is_scored(tmp_path: Path) -> None:
    results = run_ablation(
        load_config(None, [*TINY, "train.threads=1"]),
        ["baseline", UNET_ARM],
        1,
        tmp_path,
        domains=["hard"],
        tile=64,
        overlap=8,
        cost_size=64,
        log=lambda _line: None,
    )
    unet = results[1]
    assert (unet.variant, unet.domain, unet.steps) == ("unet", "hard", [2])
    assert unet.runs[0].overall_accuracy is not None and unet.cost is not None
    assert unet.cost.parameters > 14e6
    summary = json.loads((tmp_path / "hard" / "unet_seed0" / "summary.json").read_text())
    assert summary["steps"] == 2
    assert "| unet | hard | 1 | 2 |" in (tmp_path / "ablation.md").read_text()
