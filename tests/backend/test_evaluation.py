"""Evaluation: eroded boundaries, whole-tile scoring with stand-in models, reports, CLI, ablation tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from torch import Tensor, nn

from geofuse.backend.ablation import VariantResult, ablation_markdown, ablation_rows, apply_arm, parse_arm
from geofuse.backend.checkpoint import ModelCard, save_checkpoint
from geofuse.backend.classes import IGNORE_INDEX
from geofuse.backend.cli import main
from geofuse.backend.data.folder import folder_tiles
from geofuse.backend.data.synthetic import write_synthetic_folder
from geofuse.backend.evaluation import (
    EvaluationResult,
    ModelCost,
    erode_boundaries,
    evaluate_tiles,
    measure_cost,
    plot_confusion_matrix,
    write_report,
)
from geofuse.backend.metrics import compute_metrics
from geofuse.backend.models import build_model
from geofuse.backend.models.network import ModelConfig
from geofuse.backend.train_config import ModelSettings


class ConstantModel(nn.Module):
    """Predicts one class everywhere and remembers the elevation it was given."""

    def __init__(self, label: int, num_classes: int = 6) -> None:
        super().__init__()
        self.label, self.num_classes = label, num_classes
        self.elevations: list[Tensor] = []

    def forward(self, optical: Tensor, elevation: Tensor) -> Tensor:
        self.elevations.append(elevation.clone())
        logits = torch.zeros(optical.shape[0], self.num_classes, *optical.shape[-2:])
        logits[:, self.label] = 1.0
        return logits


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scenes")
    write_synthetic_folder(root, count=2, seed=7, height=96, width=80)
    return root


def test_erode_boundaries_removes_a_disc_around_class_edges() -> None:
    labels = np.zeros((7, 7), np.uint8)
    labels[:, 4:] = 1
    labels[0, 0] = IGNORE_INDEX
    eroded = erode_boundaries(labels, 1)
    assert (eroded[:, 3:5] == IGNORE_INDEX).all()
    assert (eroded[1:, :3] == 0).all() and (eroded[:, 5:] == 1).all()
    assert eroded[0, 0] == IGNORE_INDEX and eroded[0, 1] == 0  # ignored pixels make no boundary
    assert (erode_boundaries(labels, 2)[:, 2:6] == IGNORE_INDEX).all()
    assert np.array_equal(erode_boundaries(labels, 0), labels)


def test_whole_tiles_scored_against_their_labels(scenes: Path) -> None:
    tiles = folder_tiles(scenes)
    card = ModelCard(ModelConfig())
    result = evaluate_tiles(ConstantModel(2), card, tiles, tile=64, overlap=16, eroded_radius=2)
    truth = []
    for tile in tiles:
        with rasterio.open(tile.labels) as dataset:
            truth.append(dataset.read(1))
    support = np.bincount(np.concatenate([t.ravel() for t in truth]), minlength=6)
    assert result.tiles == ["scene_0000", "scene_0001"]
    assert result.matrix[:, 2].tolist() == support.tolist()  # everything predicted as low vegetation
    assert int(result.matrix.sum()) == 2 * 96 * 80 and result.unpredicted == 0
    metrics = result.metrics()
    assert metrics.overall_accuracy == pytest.approx(support[2] / support.sum())
    assert metrics.mean_classes == (0, 1, 2, 3, 4)
    eroded = result.metrics(eroded=True)
    assert 0 < eroded.total < metrics.total
    report = result.to_dict()
    assert report["eroded"]["radius"] == 2 and report["full"]["confusion_matrix"][0][2] == support[0]


def test_zero_elevation_follows_the_card(scenes: Path) -> None:
    tiles = folder_tiles(scenes)[:1]
    for zero, expect_zero in ((True, True), (False, False)):
        model = ConstantModel(0)
        card = ModelCard(ModelConfig(), training={"zero_elevation": zero})
        evaluate_tiles(model, card, tiles, tile=96)
        assert bool((torch.cat(model.elevations) == 0).all()) is expect_zero


def test_elevation_nodata_is_not_scored(tmp_path: Path, scenes: Path) -> None:
    tile = folder_tiles(scenes)[0]
    with rasterio.open(tile.elevation) as dataset:
        profile, data = dataset.profile, dataset.read(1)
    data[:10] = -9999.0
    profile.update(nodata=-9999.0)
    with rasterio.open(tmp_path / "elevation.tif", "w", **profile) as dataset:
        dataset.write(data, 1)
    tile = type(tile)(tile.name, tile.optical, tmp_path / "elevation.tif", tile.labels)
    result = evaluate_tiles(ConstantModel(1), ModelCard(ModelConfig()), [tile], tile=96)
    assert result.unpredicted == 10 * 80 and int(result.matrix.sum()) == 86 * 80


def test_report_and_png(tmp_path: Path) -> None:
    matrix = torch.tensor([[5, 1, 0, 0, 0, 0], [0, 4, 0, 0, 0, 0]] + [[0] * 6] * 4)
    card = ModelCard(ModelConfig())
    metrics = compute_metrics(matrix, [c.name for c in card.classes])
    assert metrics.classes[3].iou is None and 3 in metrics.undefined
    result = EvaluationResult(card.classes, ["a"], matrix, None, 0)
    report = json.loads(write_report(result, tmp_path / "m.json", {"model": "x"}).read_text())
    assert report["model"] == "x" and report["eroded"] is None
    assert report["full"]["classes"][3]["iou"] is None  # JSON null, not NaN
    png = plot_confusion_matrix(matrix, card.classes, tmp_path / "c.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_command(tmp_path: Path, scenes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(0)
    model = build_model("baseline", fusion={})
    checkpoint = save_checkpoint(tmp_path / "m.pt", model, ModelCard(model.config))
    options = ["--tile", "64", "--overlap", "16", "--eroded", "3", "--device", "cpu"]
    code = main(
        [
            "evaluate",
            "--model",
            str(checkpoint),
            "--data",
            str(scenes),
            "--output",
            str(tmp_path / "out"),
            *options,
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "full reference: OA" in out and "eroded boundaries: OA" in out
    report = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert report["full"]["total"] == 2 * 96 * 80 and report["tiles"] == ["scene_0000", "scene_0001"]
    assert (tmp_path / "out" / "confusion.png").is_file()
    assert main(["evaluate", "--model", str(tmp_path / "missing.pt"), "--data", str(scenes)]) == 2


def _runs(ious: list[list[float]]) -> list:
    names = ["impervious surfaces", "building", "low vegetation", "tree", "car", "clutter"]
    runs = []
    for values in ious:
        matrix = torch.diag(torch.tensor(values) * 100).long() + 10
        runs.append(compute_metrics(matrix, names))
    return runs


def test_ablation_table() -> None:
    cost = ModelCost(parameters=2_500_000, gflops=3.25, images_per_s=4.0, size=256)
    results = [
        VariantResult("baseline", _runs([[1] * 6, [1] * 6]), cost),
        VariantResult("a2", _runs([[1, 3, 1, 1, 1, 1], [1, 5, 1, 1, 1, 1]]), cost),
    ]
    header, rows = ablation_rows(results)
    assert header[:5] == ["variant", "domain", "seeds", "miou_mean", "miou_std"]
    assert rows[0][header.index("iou_delta_building")] == "+0.00"
    baseline_building = results[0].runs[0].classes[1].iou
    a2_building = np.mean([run.classes[1].iou for run in results[1].runs])
    expected = f"{100 * (a2_building - baseline_building):+.2f}"
    assert rows[1][header.index("iou_delta_building")] == expected
    assert float(rows[1][header.index("miou_std")]) > 0 and rows[0][header.index("miou_std")] == "0.00"
    building = [run.classes[1].iou for run in results[1].runs]
    assert rows[1][header.index("iou_building_mean")] == f"{100 * np.mean(building):.2f}"
    assert rows[1][header.index("iou_building_std")] == f"{100 * np.std(building, ddof=1):.2f}"
    assert rows[0][header.index("miou_delta")] == ""
    miou = [run.mean_iou for run in results[1].runs]
    delta, spread = np.mean(miou) - results[0].runs[0].mean_iou, np.std(miou, ddof=1)  # baseline std is 0
    assert rows[1][header.index("miou_delta")] == f"{100 * delta:+.2f}"
    assert abs(delta) > spread  # so it is not marked
    wide = VariantResult("a0", _runs([[1, 1, 1, 1, 1, 1], [1, 9, 1, 1, 1, 1]]), cost)
    assert ablation_rows([results[0], wide])[1][1][header.index("miou_delta")].endswith("(inside spread)")
    markdown = ablation_markdown(results)
    assert markdown.count("\n|") == 3 and "± " in markdown and "| 2.500 | 3.25 | 4.00 |" in markdown
    assert "| a2 | home | 2 |" in markdown


def test_ablation_arms() -> None:
    assert parse_arm("a2+one-to-one+full-scan") == ("a2", ["one-to-one", "full-scan"])
    settings = ModelSettings(fusion={"d_state": 4})
    apply_arm(settings, "a3+full-scan+paper")
    assert settings.variant == "a3" and settings.preset == "paper"
    assert settings.fusion == {"d_state": 4, "scan_max_tokens": None}
    for bad in ("a2+fast", "a7", "baseline+one-to-one"):
        with pytest.raises(ValueError, match="arm"):
            parse_arm(bad)


def test_measure_cost() -> None:
    torch.manual_seed(0)
    cost = measure_cost(build_model("baseline"), size=64, repeats=1)
    assert cost.parameters > 1e6 and cost.gflops > 0 and cost.images_per_s > 0
