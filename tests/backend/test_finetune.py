"""Fine-tuning from polygons: the base's weights carried over (a new class adds a channel), lineage on the
card, time and step budgets, frozen encoders, nothing left behind on cancel or failure, and the same run
through the CLI and the worker."""

from __future__ import annotations

import io
import json
from pathlib import Path

import fiona
import numpy as np
import pytest
import rasterio
import torch

from geofuse.backend.checkpoint import load_checkpoint
from geofuse.backend.classes import ClassInfo
from geofuse.backend.cli import main as cli_main
from geofuse.backend.data.synthetic import generate_scene, write_scene
from geofuse.backend.errors import EXIT_CANCELLED, EXIT_OK
from geofuse.backend.finetune import FinetuneRequest, finetune, start_from, weights_sha256
from geofuse.backend.inference import DEMO_MODEL
from geofuse.backend.train_config import load_config
from geofuse.backend.training import TrainingCancelled
from geofuse.backend.worker import Emitter, serve

CLASS_NAMES = ("Impervious Surfaces", "building", "low vegetation", "TREE", "car", "clutter")


@pytest.fixture(scope="module")
def base() -> object:
    return load_checkpoint(DEMO_MODEL)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A 128² scene of the shifted domain and polygons on it: two per class found in it, plus a new class."""
    folder = tmp_path_factory.mktemp("scene")
    shifted = generate_scene((3, 0), 128, 128, 0.15, domain="shifted")
    paths = {name: folder / f"{name}.tif" for name in ("optical", "elevation", "labels")}
    write_scene(shifted, paths["optical"], paths["elevation"], paths["labels"])
    schema = {"geometry": "Polygon", "properties": {"class": "str"}}
    rng = np.random.default_rng(0)
    count = 0
    with fiona.open(folder / "areas.gpkg", "w", driver="GPKG", crs=shifted.crs, schema=schema) as sink:
        for index, name in enumerate(CLASS_NAMES):
            rows, cols = np.nonzero(shifted.labels == index)
            for pick in rng.choice(len(rows), size=min(2, len(rows)), replace=False) if len(rows) else []:
                x0, y0 = shifted.transform * (cols[pick] - 1, rows[pick] - 1)
                x1, y1 = shifted.transform * (cols[pick] + 2, rows[pick] + 2)
                ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
                sink.write(
                    {"geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": {"class": name}}
                )
                count += 1
        x0, y0 = shifted.transform * (60, 60)
        x1, y1 = shifted.transform * (66, 66)
        ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
        sink.write({"geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": {"class": "pool"}})
    return {**paths, "polygons": folder / "areas.gpkg", "count": count + 1}


def request(scene: dict[str, Path], output: Path, **changes: object) -> FinetuneRequest:
    settings = {
        "minutes": 0.0,
        "steps": 2,
        "batch_size": 1,
        "crop_size": 64,
        "device": "cpu",
        "threads": 1,
        **changes,
    }
    return FinetuneRequest(
        str(scene["optical"]),
        str(scene["elevation"]),
        str(scene["polygons"]),
        "class",
        str(output),
        str(DEMO_MODEL),
        **settings,
    )


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))


def test_a_new_class_adds_a_channel_and_keeps_every_base_weight(base: object) -> None:
    classes = (*base.card.classes, ClassInfo(6, "pool", (0, 128, 128)))
    model = start_from(base, classes)
    state = model.state_dict()
    assert state["decoder.classifier.weight"].shape[0] == 7
    for name, tensor in base.state_dict.items():
        kept = state[name][: tensor.shape[0]] if name.startswith("decoder.classifier") else state[name]
        assert torch.equal(kept, tensor), name
    new_row = state["decoder.classifier.weight"][6]
    assert not any(torch.equal(new_row, row) for row in state["decoder.classifier.weight"][:6])
    assert new_row.abs().sum() > 0


def test_finetuning_writes_one_model_whose_card_records_its_lineage(
    base: object, scene: dict[str, Path], tmp_path: Path
) -> None:
    seen = []
    output = finetune(request(scene, tmp_path / "mine.pt"), progress=seen.append)

    assert output == tmp_path / "mine.pt" and sorted(p.name for p in tmp_path.iterdir()) == ["mine.pt"]
    card = load_checkpoint(output).card
    assert [info.name for info in card.classes][6:] == ["pool"]
    assert card.normalization == base.card.normalization and card.optical_bands == base.card.optical_bands
    assert card.gsd_m == pytest.approx(0.15)
    lineage = card.training["base_model"]
    assert lineage["file"] == DEMO_MODEL.name and lineage["sha256"] == weights_sha256(base.state_dict)
    assert lineage["new_classes"] == ["pool"] and card.training["new_classes"] == ["pool"]
    polygons = card.training["data"]["polygons"]
    assert polygons["file"] == "areas.gpkg" and polygons["class_field"] == "class"
    assert polygons["features"] == polygons["polygons_used"] == scene["count"] >= 9
    assert polygons["labelled_pixels"]["pool"] == 36 and set(polygons["labelled_pixels"]) >= {"tree", "pool"}
    assert card.training["steps"] == 2 and card.training["config"]["train"]["init"] == str(DEMO_MODEL)
    assert "pool (new)" in card.describe() and "fine-tuned from geofuse_demo_small.pt" in card.describe()
    assert [p.step for p in seen] == [1, 2] and seen[-1].fraction == 1.0 and seen[-1].eta_s == 0.0


def test_frozen_encoders_keep_their_weights_while_the_decoder_learns(
    base: object, scene: dict[str, Path], tmp_path: Path
) -> None:
    output = finetune(request(scene, tmp_path / "frozen.pt", freeze_encoder_steps=2))
    tuned = load_checkpoint(output).state_dict
    encoders = [name for name in base.state_dict if name.startswith(("cnn.", "vss."))]
    assert encoders and all(torch.equal(tuned[name], base.state_dict[name]) for name in encoders)
    assert not torch.equal(
        tuned["decoder.classifier.weight"][:6], base.state_dict["decoder.classifier.weight"]
    )


def test_a_time_budget_ends_the_run_before_its_steps(scene: dict[str, Path], tmp_path: Path) -> None:
    output = finetune(request(scene, tmp_path / "quick.pt", minutes=1e-6, steps=50))
    assert load_checkpoint(output).card.training["steps"] == 1


def test_cancel_and_failure_leave_nothing_behind(scene: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(TrainingCancelled):
        finetune(request(scene, tmp_path / "cancelled.pt"), cancel=lambda: True)
    assert list(tmp_path.iterdir()) == []
    broken = dict(scene, polygons=scene["labels"])
    with pytest.raises(ValueError, match="not a readable vector file"):
        finetune(request(broken, tmp_path / "failed.pt"))
    assert list(tmp_path.iterdir()) == []


def test_an_existing_output_is_kept_unless_overwriting(scene: dict[str, Path], tmp_path: Path) -> None:
    existing = tmp_path / "mine.pt"
    existing.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="exists"):
        finetune(request(scene, existing))
    assert existing.read_bytes() == b"precious" and leftovers(tmp_path) == []


def test_a_base_model_whose_bands_the_optical_layer_lacks_is_refused(
    scene: dict[str, Path], tmp_path: Path
) -> None:
    two_bands = tmp_path / "two_bands.tif"
    with rasterio.open(scene["optical"]) as source:
        profile = dict(source.profile, count=2, photometric="MINISBLACK")
        with rasterio.open(two_bands, "w", **profile) as sink:
            sink.write(source.read([1, 2]))
    with pytest.raises(ValueError, match=r"two_bands.tif has 2 band\(s\); the model needs bands \[1, 2, 3\]"):
        finetune(request(dict(scene, optical=two_bands), tmp_path / "out.pt"))
    assert not (tmp_path / "out.pt").exists() and leftovers(tmp_path) == []


def test_budget_settings_are_checked() -> None:
    with pytest.raises(ValueError, match=r"train\.budget_clock must be one of"):
        load_config(None, ["train.budget_clock='sundial'"])
    with pytest.raises(ValueError, match=r"train\.max_minutes must be >= 0"):
        load_config(None, ["train.max_minutes=-1"])
    with pytest.raises(ValueError, match=r"data\.optical, data\.elevation, data\.polygons required"):
        load_config(None, ["data.kind='polygons'"])


def test_the_cli_fine_tunes_and_answers_bad_input_with_one_line(
    scene: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["finetune", "--optical", str(scene["optical"]), "--elevation", str(scene["elevation"])]
    tiny = ["--steps", "1", "--minutes", "0", "--crop", "64", "--batch-size", "1", "--device", "cpu"]
    output = tmp_path / "cli.pt"
    assert cli_main([*common, "--polygons", str(scene["polygons"]), "-o", str(output), *tiny]) == 0
    assert str(output) in capsys.readouterr().out and output.is_file()
    code = cli_main(
        [*common, "--polygons", str(scene["polygons"]), "--class-field", "kind", "-o", str(tmp_path / "x.pt")]
    )
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and "no field 'kind'" in error


def test_the_worker_fine_tunes_and_a_cancel_leaves_nothing(scene: dict[str, Path], tmp_path: Path) -> None:
    job = {
        "command": "finetune",
        "optical": str(scene["optical"]),
        "elevation": str(scene["elevation"]),
        "polygons": str(scene["polygons"]),
        "class_field": "class",
        "output": str(tmp_path / "worker.pt"),
        "steps": 1,
        "minutes": 0,
        "device": "cpu",
    }
    stream = io.StringIO()
    assert serve(job, Emitter(stream), lambda: False) == EXIT_OK
    messages = [json.loads(line) for line in stream.getvalue().splitlines()]
    result = messages[-1]
    assert result["type"] == "result" and result["model"] == job["output"]
    assert result["new_classes"] == ["pool"] and result["polygons"]["labelled_pixels"]["pool"] == 36
    assert [m["fraction"] for m in messages if m["type"] == "progress"] == [1.0]
    stream = io.StringIO()
    assert (
        serve(dict(job, output=str(tmp_path / "stopped.pt")), Emitter(stream), lambda: True) == EXIT_CANCELLED
    )
    assert json.loads(stream.getvalue().splitlines()[-1])["type"] == "cancelled"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["worker.pt"]
