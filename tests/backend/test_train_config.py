"""Training config: the reference file, TOML files with overrides, presets, ``none``, refused settings."""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import pytest

from geofuse.backend.train_config import TrainConfig, apply_overrides, load_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

REFERENCE = Path(__file__).resolve().parents[2] / "configs" / "reference.toml"


def test_reference_config_is_the_defaults() -> None:
    assert load_config(REFERENCE) == TrainConfig()
    assert load_config(REFERENCE).to_dict() == TrainConfig().to_dict()


def test_reference_config_lists_every_key() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    parsed = tomllib.loads(text)
    for section in dataclasses.fields(TrainConfig):
        keys = {f.name for f in dataclasses.fields(section.default_factory())}
        missing = keys - set(parsed[section.name])
        # val_tiles's default (None: the dataset's own tiles) has no TOML spelling; it is shown commented out
        assert missing == ({"val_tiles"} if section.name == "data" else set()), section.name
    assert re.search(r"^# val_tiles = ", text, re.MULTILINE)


def test_toml_file_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(
        '[model]\nvariant = "a1"\nlambda_align = 0.2\n[model.fusion]\not_window = 4\n'
        "[train]\nsteps = 50\nzero_elevation = true\n",
        encoding="utf-8",
    )
    overrides = ["train.steps=7", "model.fusion.d_state=4", "data.optical_bands=['IR','R','G']"]
    config = load_config(path, overrides)
    assert config.model.variant == "a1" and config.model.lambda_align == 0.2
    assert config.train.steps == 7 and config.total_steps == 7 and config.train.zero_elevation
    assert config.model.fusion == {"ot_window": 4, "d_state": 4}
    assert config.data.optical_bands == ["IR", "R", "G"]
    model = config.model_config()
    pinned = {"ot_mode": ["window", "window", "global", "global"], "scan_pool": [8, 4, 2, 1]}
    assert model.fusion == {"ot_window": 4, "d_state": 4, "mmd_sigma": 1.0, **pinned}
    assert apply_overrides({}, ["train.output=runs/x y"]) == {"train": {"output": "runs/x y"}}


def test_paper_preset_and_none_values(tmp_path: Path) -> None:
    paper = load_config(None, ["model.preset=paper"]).model_config()
    assert paper.fusion["ot_assignment"] == "one-to-one" and paper.fusion["mmd_sigma_per_channel"] is False
    assert paper.fusion["scan_pool"] == [1, 1, 1, 1] and "scan_max_tokens" not in paper.fusion
    # explicit settings win over the preset
    capped = load_config(None, ["model.preset=paper", "model.fusion.scan_max_tokens=1024"]).model_config()
    assert capped.fusion["scan_pool"] == [4, 2, 1, 1]
    with pytest.raises(ValueError, match="paper's range"):
        load_config(None, ["model.preset=paper", "model.lambda_align=1.0"])
    with pytest.raises(ValueError, match="model\\.preset"):
        load_config(None, ["model.preset=fast"])
    # none from the command line and from a TOML file (which has no null)
    full = load_config(None, ["model.fusion.scan_max_tokens=none"]).model_config()
    assert full.fusion["scan_pool"] == [1, 1, 1, 1]
    path = tmp_path / "run.toml"
    path.write_text('[model.fusion]\nscan_max_tokens = "None"\n', encoding="utf-8")
    assert load_config(path).model_config().fusion["scan_pool"] == [1, 1, 1, 1]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["train.stepz=3"], "unknown keys in \\[train\\]"),
        (["optimizer.lr=1"], "unknown config sections"),
        (["model.variant=a9"], "unknown variant"),
        (["optim.schedule=step"], "optim.schedule"),
        (["data.kind=vaihingen"], "data.root is required"),
        (["steps=3"], "section.key=value"),
    ],
)
def test_bad_configs_are_refused(overrides: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_config(None, overrides)
