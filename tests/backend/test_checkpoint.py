"""Checkpoints round-trip, and anything else is refused with a clear error without running code."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from geofuse.backend.checkpoint import (
    FORMAT_VERSION,
    CheckpointError,
    ModelCard,
    load_checkpoint,
    save_checkpoint,
)
from geofuse.backend.classes import ISPRS_CLASSES
from geofuse.backend.data.normalize import NormalizationConfig
from geofuse.backend.models import build_model
from geofuse.backend.models.network import ModelConfig


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("a2", width="small").eval()


@pytest.fixture
def card(model: torch.nn.Module) -> ModelCard:
    return ModelCard(
        model=model.config,
        normalization=NormalizationConfig(elevation_scale_m=12.5),
        optical_bands=("IR", "R", "G"),
        gsd_m=0.09,
        training={"seed": 3, "steps": 10, "metrics": {"miou": 0.5, "per_class": [0.1, None]}},
    )


def test_round_trip_gives_the_same_card_and_outputs(tmp_path: Path, model, card: ModelCard) -> None:
    path = save_checkpoint(tmp_path / "m.pt", model, card, train_state={"step": 10})

    loaded = load_checkpoint(path)

    assert loaded.card == card
    assert loaded.train_state == {"step": 10}
    rebuilt = loaded.build_model()
    optical, elevation = torch.rand(1, 3, 64, 64), torch.rand(1, 1, 64, 64)
    with torch.no_grad():
        assert torch.equal(rebuilt(optical, elevation), model(optical, elevation))
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]
    assert path.stat().st_mode & 0o044, "readable by others as the umask allows, not mkstemp's 0600"


def test_pickled_code_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple:
            return (Path.touch, (marker,))

    path = tmp_path / "evil.pt"
    torch.save({"format": "geofuse-checkpoint", "version": 1, "card": Exploit()}, path)

    with pytest.raises(CheckpointError, match="would run code"):
        load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"this is not a checkpoint\n", "not a readable checkpoint"),
        (pickle.dumps({"a": 1}), "not a readable checkpoint|would run code"),
    ],
)
def test_foreign_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "m.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_missing_and_truncated_files(tmp_path: Path, model, card: ModelCard) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")
    path = save_checkpoint(tmp_path / "m.pt", model, card)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path)


def test_a_plain_torch_file_is_not_a_geofuse_checkpoint(tmp_path: Path, model) -> None:
    path = tmp_path / "weights.pt"
    torch.save(model.state_dict(), path)
    with pytest.raises(CheckpointError, match="not a GeoFuse checkpoint"):
        load_checkpoint(path)


def test_newer_format_is_refused_naming_the_version(tmp_path: Path, model, card: ModelCard) -> None:
    path = save_checkpoint(tmp_path / "m.pt", model, card)
    payload = torch.load(path, weights_only=True)
    payload["version"] = FORMAT_VERSION + 1
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match=f"version {FORMAT_VERSION + 1}"):
        load_checkpoint(path)


def test_wrong_shaped_weights_are_refused(tmp_path: Path, model, card: ModelCard) -> None:
    path = save_checkpoint(tmp_path / "m.pt", model, card)
    payload = torch.load(path, weights_only=True)
    name = next(iter(payload["state_dict"]))
    payload["state_dict"][name] = torch.zeros(7, 7)
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(path).build_model()


def test_inconsistent_or_malformed_cards_are_refused(tmp_path: Path, model, card: ModelCard) -> None:
    with pytest.raises(CheckpointError, match="class table has 6 classes"):
        ModelCard(model=ModelConfig(num_classes=5))
    with pytest.raises(CheckpointError, match="not plain data"):
        ModelCard(model=model.config, training={"when": object()})
    path = save_checkpoint(tmp_path / "m.pt", model, card)
    payload = torch.load(path, weights_only=True)
    del payload["card"]["gsd_m"]
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="missing \\['gsd_m'\\]"):
        load_checkpoint(path)


def test_default_card_is_the_isprs_table(model) -> None:
    card = ModelCard(model=model.config)
    assert card.classes == ISPRS_CLASSES
    assert "building" in card.describe()


def test_tile_size_follows_the_training_crop(model) -> None:
    assert ModelCard(model=model.config, training={"crop_size": 256}).tile_size() == 512
    assert ModelCard(model=model.config, training={"crop_size": 768}).tile_size() == 768
    assert ModelCard(model=model.config).tile_size() == 512
    assert ModelCard(model=model.config, training={"crop_size": True}).tile_size() == 512


def test_cards_without_reference_size_run_as_at_their_training_crop(model) -> None:
    stored = ModelCard(model=ModelConfig(), training={"crop_size": 256}).to_dict()
    del stored["model"]["reference_size"]  # as written before the field existed
    old = ModelCard.from_dict(stored)
    assert old.model.reference_size == 256
    assert [s["scan_pool"] for s in old.model.stage_plan()] == [4, 2, 1, 1]
    assert old.model.stage_plan()[1]["ot"] == "global/argmin"
    del stored["training"]["crop_size"]
    assert ModelCard.from_dict(stored).model.reference_size == 512


def test_bundled_model_keeps_its_training_behaviour() -> None:
    card = load_checkpoint(Path(__file__).parents[2] / "resources" / "models" / "geofuse_demo_small.pt").card
    assert card.model.reference_size == card.training["crop_size"] == 256
