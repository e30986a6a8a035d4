"""Training configuration: the ``[data]``, ``[model]``, ``[optim]`` and ``[train]`` sections of a TOML file.

``configs/reference.toml`` lists every key with its default and what it does; the dataclasses below are
the same keys, typed, and :meth:`TrainConfig.__post_init__` rejects unusable settings before any data is
read. With ``train.init`` the ``[model]`` section is not used (except ``lambda_align``): the network is the
base checkpoint's. ``data.kind = "polygons"`` trains from digitised polygons
(:mod:`~geofuse.backend.data.polygons`); without ``train.init`` their class names are matched to the ISPRS
classes.

Command-line overrides are ``section.key=value`` with a TOML value (``train.steps=200``,
``model.variant=a1``, ``model.fusion.d_state=4``, ``data.optical_bands=["IR","R","G"]``); a value that is
not valid TOML is taken as a string. ``none`` (bare on the command line, or the string ``"none"`` in the
file) sets an optional value to None, e.g. ``model.fusion.scan_max_tokens=none`` for full-sequence scans.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointError
from .data.isprs import elevation_defaults
from .data.kinds import DATA_KINDS
from .data.normalize import NormalizationConfig
from .models.network import PRESETS, ModelConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

SCHEDULES = ("cosine", "poly")
BUDGET_CLOCKS = {"wall": time.perf_counter, "process": time.process_time}
"""What ``train.max_minutes`` counts: wall-clock time, or this process's CPU time (all threads)."""


@dataclass
class DataSettings:
    """Where the tiles come from; ``configs/reference.toml`` says what each key does."""

    kind: str = "synthetic"
    root: str = ""
    val_root: str = ""
    split: str = "benchmark"
    val_tiles: list[str | int] | None = None
    eroded: bool = False
    potsdam_optical: str = "RGB"
    potsdam_elevation: str = "dsm"
    check: bool = True
    optical_bands: list[str] = field(default_factory=list)
    gsd_m: float = 0.0
    synthetic_seed: int = 0
    synthetic_train_scenes: int = 8
    synthetic_val_scenes: int = 2
    synthetic_size: int = 512
    synthetic_gsd: float = 0.1
    optical: str = ""
    elevation: str = ""
    polygons: str = ""
    polygon_layer: str = ""
    class_field: str = "class"
    bands: list[int] = field(default_factory=list)
    normalization: dict[str, Any] = field(default_factory=dict)


PAPER_LAMBDA = (0.05, 0.2)
"""The range of λ the paper recommends (its §3.5); the ``paper`` preset refuses a λ outside it."""


@dataclass
class ModelSettings:
    """The network and its loss weight λ; ``preset`` names fusion settings (``network.PRESETS``) under
    the explicit ``fusion`` overrides, ``reference_size`` fixes the per-stage choices
    (``ModelConfig.reference_size``)."""

    variant: str = "a2"
    width: str = "small"
    preset: str = "default"
    reference_size: int = 512
    lambda_align: float = 0.1
    mmd_sigma: float = 1.0
    vss_d_state: int = 4
    vss_ssm_ratio: float = 1.0
    vss_mlp_ratio: float = 2.0
    fusion: dict[str, Any] = field(default_factory=dict)


@dataclass
class OptimSettings:
    """AdamW and its learning-rate schedule (linear warm-up, then cosine or poly decay)."""

    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    warmup_steps: int = 50
    min_lr_ratio: float = 0.01
    poly_power: float = 0.9


@dataclass
class RunSettings:
    """Budget, batching, devices and outputs."""

    crop_size: int = 256
    batch_size: int = 4
    epochs: int = 10
    steps_per_epoch: int = 100
    steps: int = 0
    val_every: int = 1
    val_window: int = 512
    checkpoint_every: int = 500
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    workers: int = 0
    threads: int = 0
    output: str = "runs/geofuse"
    zero_elevation: bool = False
    init: str = ""
    max_minutes: float = 0.0
    budget_clock: str = "wall"
    freeze_encoder_steps: int = 0


@dataclass
class TrainConfig:
    """A whole training run: ``[data]``, ``[model]``, ``[optim]`` and ``[train]`` of the TOML file."""

    data: DataSettings = field(default_factory=DataSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    optim: OptimSettings = field(default_factory=OptimSettings)
    train: RunSettings = field(default_factory=RunSettings)

    def __post_init__(self) -> None:
        """Reject unusable settings before any data is read."""
        if self.data.kind not in DATA_KINDS:
            raise ValueError(f"data.kind must be one of {DATA_KINDS}, got {self.data.kind!r}")
        if self.data.kind == "polygons":
            missing = [
                f"data.{key}" for key in ("optical", "elevation", "polygons") if not getattr(self.data, key)
            ]
            if missing:
                raise ValueError(f"{', '.join(missing)} required for data.kind = 'polygons'")
        elif self.data.kind != "synthetic" and not self.data.root:
            raise ValueError(f"data.root is required for data.kind = {self.data.kind!r}")
        if self.optim.optimizer.lower() != "adamw":
            raise ValueError(f"optim.optimizer must be 'adamw', got {self.optim.optimizer!r}")
        if self.optim.schedule not in SCHEDULES:
            raise ValueError(f"optim.schedule must be one of {SCHEDULES}, got {self.optim.schedule!r}")
        run = self.train
        for name in ("crop_size", "batch_size", "steps_per_epoch", "val_every", "val_window"):
            if getattr(run, name) < 1:
                raise ValueError(f"train.{name} must be >= 1, got {getattr(run, name)}")
        if self.total_steps < 1:
            raise ValueError("train.steps or train.epochs × train.steps_per_epoch must be >= 1")
        if not (math.isfinite(run.max_minutes) and run.max_minutes >= 0):
            raise ValueError(f"train.max_minutes must be >= 0 (0 = no time budget), got {run.max_minutes}")
        if run.budget_clock not in BUDGET_CLOCKS:
            raise ValueError(
                f"train.budget_clock must be one of {tuple(BUDGET_CLOCKS)}, got {run.budget_clock!r}"
            )
        if run.freeze_encoder_steps < 0:
            raise ValueError(f"train.freeze_encoder_steps must be >= 0, got {run.freeze_encoder_steps}")
        self.model_config()
        self.normalization()

    @property
    def total_steps(self) -> int:
        """Optimiser steps of the whole run."""
        return self.train.steps or self.train.epochs * self.train.steps_per_epoch

    def normalization(self) -> NormalizationConfig:
        """The input normalisation (``[data.normalization]`` over the defaults)."""
        implied = elevation_defaults(self.data.kind, self.data.potsdam_elevation)
        values = {**implied, **self.data.normalization}
        for key in ("optical_percentiles", "elevation_clip"):
            if key in values:
                values[key] = tuple(values[key])
        return NormalizationConfig(**values)

    def model_config(self, num_classes: int = 6, optical_channels: int = 3) -> ModelConfig:
        """The network's config for a dataset with these classes and bands, its per-stage choices pinned
        (``ModelConfig.pinned``), so the card records them.

        Raises:
            ValueError: for an unknown preset, a λ outside the paper's range with the paper preset, or an
                invalid model setting.
        """
        if self.model.preset not in PRESETS:
            raise ValueError(f"model.preset must be one of {sorted(PRESETS)}, got {self.model.preset!r}")
        low, high = PAPER_LAMBDA
        if self.model.preset == "paper" and not low <= self.model.lambda_align <= high:
            raise ValueError(
                f"model.preset = 'paper' takes λ in the paper's range {low}–{high}, "
                f"got model.lambda_align = {self.model.lambda_align}"
            )
        fusion = {**PRESETS[self.model.preset], **_none_strings(self.model.fusion)}
        fusion.setdefault("mmd_sigma", self.model.mmd_sigma)
        return ModelConfig(
            variant=self.model.variant,
            num_classes=num_classes,
            optical_channels=optical_channels,
            width=self.model.width,
            vss_d_state=self.model.vss_d_state,
            vss_ssm_ratio=self.model.vss_ssm_ratio,
            vss_mlp_ratio=self.model.vss_mlp_ratio,
            fusion=fusion,
            reference_size=self.model.reference_size,
        ).pinned()

    def to_dict(self) -> dict[str, Any]:
        """Plain-types form (stored in resumable checkpoints and the card's training summary)."""
        return dataclasses.asdict(self)

    def check_resumable(self, train_state: Mapping[str, Any] | None, path: Path) -> None:
        """Check that a run with this config can continue the run saved at ``path`` with ``train_state``.

        Raises:
            CheckpointError: If ``path`` holds no training state, or was trained with different model,
                optimiser or batching settings (the data, budget and outputs may change).
        """
        if train_state is None:
            raise CheckpointError(f"{path} holds no training state (a released model); it cannot be resumed")
        saved = TrainConfig.from_dict(train_state["config"])
        mine = self.to_dict()
        for section in ("model", "optim"):
            if saved.to_dict()[section] != mine[section]:
                raise CheckpointError(
                    f"{path} was trained with different [{section}] settings; cannot resume"
                )
        for key in ("crop_size", "batch_size", "steps_per_epoch", "seed", "zero_elevation"):
            if getattr(saved.train, key) != getattr(self.train, key):
                raise CheckpointError(f"{path} was trained with train.{key} = {getattr(saved.train, key)}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build from nested mappings (a parsed TOML file); unknown sections or keys are errors.

        Raises:
            ValueError: Naming the unknown key or the invalid value.
        """
        sections = {f.name: f.type for f in dataclasses.fields(cls)}
        unknown = set(data) - set(sections)
        if unknown:
            raise ValueError(f"unknown config sections {sorted(unknown)}; expected {sorted(sections)}")
        parts = {}
        for name, settings_type in (
            ("data", DataSettings),
            ("model", ModelSettings),
            ("optim", OptimSettings),
            ("train", RunSettings),
        ):
            values = dict(data.get(name, {}))
            known = {f.name for f in dataclasses.fields(settings_type)}
            bad = set(values) - known
            if bad:
                raise ValueError(f"unknown keys in [{name}]: {sorted(bad)}; expected some of {sorted(known)}")
            parts[name] = settings_type(**values)
        return cls(**parts)


def _none_strings(values: Mapping[str, Any]) -> dict[str, Any]:
    """``"none"`` (any case) as None: TOML has no null, and a bare ``none`` override arrives as a string."""
    return {k: None if isinstance(v, str) and v.lower() == "none" else v for k, v in values.items()}


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Set ``section.key[.subkey]=value`` overrides (TOML values, else strings) in a parsed config.

    Raises:
        ValueError: If an override is not of the form ``dotted.key=value``.
    """
    for override in overrides:
        key, sep, text = override.partition("=")
        path = [part.strip() for part in key.split(".")]
        if not sep or len(path) < 2 or not all(path):
            raise ValueError(f"override {override!r} is not section.key=value (e.g. train.steps=200)")
        target = data
        for part in path[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ValueError(f"override {override!r}: {part!r} is not a table")
        target[path[-1]] = _parse_value(text.strip())
    return data


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> TrainConfig:
    """Read a TOML training config (or the defaults when ``path`` is None) and apply overrides.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: For malformed TOML, unknown keys or invalid values.
    """
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path}: {error}") from None
    return TrainConfig.from_dict(apply_overrides(data, overrides))
