"""Training: a TOML-configured loop with warm-up + cosine/poly schedule, AMP on CUDA, resume and DDP.

The loss is L = CE(logits, labels; ignore 255) + λ·L_align, where L_align is the network's summed MMD
alignment loss (zero for ``baseline`` and ``a0``). One process trains on its own, or N processes under
``torchrun --nproc_per_node=N`` train one model with DistributedDataParallel (NCCL on GPUs, gloo on CPU):
each rank reads its own share of the epoch's random crops, validation confusion matrices are summed with
``all_reduce``, and only rank 0 writes checkpoints, the metrics CSV and the progress bar.

Reproducibility and resume: crop ``i`` of epoch ``e`` is a pure function of ``(data seed, e, i)``
(:class:`~geofuse.backend.data.folder.RandomCropDataset`), and the global torch RNG (MMD token subsampling)
is reseeded from ``(seed, rank, step)`` before every step, so a run resumed from a checkpoint of step k
(optimiser, scheduler, AMP scaler and step counter restored) takes exactly the steps an uninterrupted run
would, with no RNG state to carry across processes.

Configuration file (every key optional; the values shown are the defaults)::

    [data]
    kind = "synthetic"          # synthetic | folder | vaihingen | potsdam | polygons
    root = ""                   # folder/ISPRS: the dataset; synthetic: "" = <output>/data
    val_root = ""               # folder only: a second folder for validation ("" = no validation)
    split = "benchmark"         # ISPRS: benchmark | fusion-papers (the SSRS/FTransUNet split)
    val_tiles = ["7", "34"]     # ISPRS: validation tiles, held out of the training part (default
                                #   Vaihingen 7, 34; Potsdam 2_12, 6_8; [] = none); never test tiles
    eroded = false              # ISPRS: validate on the eroded (*_noBoundary) references
    potsdam_optical = "RGB"     # RGB | RGBIR | IRRG (3_Ortho_IRRG, else 4_Ortho_RGBIR's bands 4, 1, 2)
    potsdam_elevation = "dsm"   # dsm | ndsm (8-bit nDSM: elevation_mode "absolute", 255 -> 1.0)
    check = true                # archive MD5s and every label value, once before step 1 (a passed
                                #   check is recorded in <output>/data_check.json and not repeated)
    optical_bands = []          # band names for the card ([] = from the dataset kind)
    gsd_m = 0.0                 # 0 = the benchmark's (ISPRS), else the optical geotransform's
    synthetic_seed = 0          # generator seed of the training scenes (validation: seed + 1)
    synthetic_train_scenes = 8
    synthetic_val_scenes = 2
    synthetic_size = 512
    synthetic_gsd = 0.1
    optical = ""                # polygons: the optical raster (the grid the polygons are rasterised on)
    elevation = ""              # polygons: the elevation raster (any grid; warped onto the optical one)
    polygons = ""               # polygons: training polygons (GeoPackage, GeoJSON, Shapefile, any CRS)
    polygon_layer = ""          # polygons: layer of that file ("" = the first)
    class_field = "class"       # polygons: field with class names or class indices
    bands = []                  # polygons: 1-based optical bands in the model's order ([] = the first ones)
    [data.normalization]        # NormalizationConfig fields, e.g. elevation_scale_m = 10.0

    [model]
    variant = "a2"              # baseline | a0 | a1 | a2 | a3
    width = "small"
    preset = "default"          # default | paper (full scans, one-to-one OT, bare σ; λ in 0.05–0.2)
    reference_size = 512        # input side at which the per-stage OT mode and scan pooling are fixed
    lambda_align = 0.1          # λ of L = CE + λ·L_align
    mmd_sigma = 1.0             # σ of the MMD kernel (per channel, see FusionConfig)
    vss_d_state = 4
    vss_ssm_ratio = 1.0
    vss_mlp_ratio = 2.0
    [model.fusion]              # any other FusionConfig override, e.g. d_state = 4, scan_max_tokens = "none",
                                # ot_assignment = "one-to-one", scan_pool = [8, 4, 2, 1] (one per stage)

    [optim]
    optimizer = "adamw"
    lr = 1e-3
    weight_decay = 1e-4
    schedule = "cosine"         # cosine | poly
    warmup_steps = 50
    min_lr_ratio = 0.01         # cosine floor, as a fraction of lr
    poly_power = 0.9

    [train]
    crop_size = 256
    batch_size = 4              # per process
    epochs = 10
    steps_per_epoch = 100
    steps = 0                   # total steps; 0 = epochs × steps_per_epoch
    val_every = 1               # epochs between validations (and always after the last step)
    val_window = 512
    checkpoint_every = 500      # steps between resumable checkpoints (<output>/last.pt)
    seed = 0
    device = "auto"             # auto | cpu | cuda | cuda:N
    amp = true                  # mixed precision, on CUDA only
    workers = 0
    threads = 0                 # torch CPU threads (0 = torch's default)
    output = "runs/geofuse"
    zero_elevation = false      # ablation: feed zeros instead of the elevation
    init = ""                   # fine-tuning: start from this checkpoint (its architecture, normalisation,
                                # bands and classes; a new class name in the data adds an output channel)
    max_minutes = 0.0           # time budget; the run ends at `steps` or after this, whichever comes first
    budget_clock = "wall"       # wall | process: the budget counts wall-clock time or this process's CPU
                                # time (all threads; for benchmarks on a shared machine)
    freeze_encoder_steps = 0    # fine-tuning: train only fusion and decoder for the first steps

With ``train.init`` the ``[model]`` section is not used (except ``lambda_align``): the network is the
base checkpoint's. ``data.kind = "polygons"`` trains from digitised polygons
(:mod:`~geofuse.backend.data.polygons`); without ``train.init`` their class names are matched to the ISPRS
classes.

Command-line overrides are ``section.key=value`` with a TOML value (``train.steps=200``,
``model.variant=a1``, ``model.fusion.d_state=4``, ``data.optical_bands=["IR","R","G"]``); a value that is
not valid TOML is taken as a string. ``none`` (bare on the command line, or the string ``"none"`` in the
file) sets an optional value to None, e.g. ``model.fusion.scan_max_tokens=none`` for full-sequence scans.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Sampler

from .checkpoint import CheckpointError, ModelCard, load_checkpoint, save_checkpoint
from .classes import IGNORE_INDEX, ISPRS_CLASSES, ClassInfo
from .data.check import check_before_training
from .data.folder import GridWindowDataset, RandomCropDataset, TileFiles, folder_tiles, open_raster
from .data.isprs import elevation_defaults
from .data.isprs_run import isprs_run_data
from .data.normalize import NormalizationConfig
from .data.polygons import PolygonCropDataset, PolygonLabels, PolygonSource, load_polygon_labels
from .data.synthetic import GENERATOR_VERSION, write_synthetic_folder
from .device import resolve_device
from .errors import Cancelled
from .finetune import lineage, set_encoders_frozen, start_from
from .metrics import ConfusionMatrix, SegmentationMetrics, compute_metrics
from .models.network import PRESETS, GeoFuseNet, ModelConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DATA_KINDS = ("synthetic", "folder", "vaihingen", "potsdam", "polygons")
SCHEDULES = ("cosine", "poly")
BUDGET_CLOCKS = {"wall": time.perf_counter, "process": time.process_time}
"""What ``train.max_minutes`` counts: wall-clock time, or this process's CPU time (all threads)."""
FINAL_NAME = "model.pt"
RESUME_NAME = "last.pt"
METRICS_NAME = "metrics.csv"


@dataclass
class DataSettings:
    """Where the tiles come from; see the module docstring for each key."""

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


class TrainingCancelled(Cancelled):
    """Training stopped because ``cancel()`` returned true; ``checkpoint`` resumes it."""

    def __init__(self, checkpoint: Path, step: int) -> None:
        super().__init__(f"training cancelled at step {step}; resume with --resume {checkpoint}")
        self.checkpoint, self.step = checkpoint, step


@dataclass(frozen=True)
class Progress:
    """What the ``progress`` callback receives after each step."""

    step: int
    total: int
    loss: float
    lr: float
    metrics: SegmentationMetrics | None = None
    fraction: float = 0.0
    """Share of the run done: of its steps, or of its time budget when that ends it sooner."""
    eta_s: float | None = None
    """Seconds left, from the pace so far (None before the first step)."""


@dataclass
class Distributed:
    """This process's place in a (possibly one-process) run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        """True under torchrun with more than one process."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints, logs and the progress bar."""
        return self.rank == 0

    @classmethod
    def from_environment(cls) -> Distributed:
        """Read torchrun's RANK / WORLD_SIZE / LOCAL_RANK (absent: a single process)."""
        return cls(
            rank=int(os.environ.get("RANK", 0)),
            world_size=int(os.environ.get("WORLD_SIZE", 1)),
            local_rank=int(os.environ.get("LOCAL_RANK", 0)),
        )


@dataclass
class DataSplits:
    """Training and validation tiles plus what the card needs to know about them."""

    train: list[TileFiles]
    val: list[TileFiles]
    classes: tuple[ClassInfo, ...]
    optical_bands: tuple[str, ...]
    gsd_m: float
    summary: dict[str, Any]
    polygons: PolygonLabels | None = None
    """For ``data.kind = "polygons"``: the training polygons (``train`` is then empty)."""
    notes: list[str] = field(default_factory=list)
    """Warnings for the user (skipped polygons, a resolution far from the base model's)."""


def ensure_synthetic_folder(
    root: str | Path, count: int, seed: int, size: int = 512, gsd: float = 0.1, domain: str = "home"
) -> Path:
    """Write ``count`` synthetic scenes to ``root`` unless it already holds exactly these (its manifest
    says so), so repeated runs reuse the data."""
    root = Path(root)
    manifest = root / "synthetic.json"
    wanted = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "count": count,
        "height": size,
        "width": size,
        "gsd": gsd,
        **({"domain": domain} if domain != "home" else {}),
    }
    if not (manifest.is_file() and json.loads(manifest.read_text(encoding="utf-8")) == wanted):
        write_synthetic_folder(root, count, seed, size, size, gsd, domain)
    return root


def _default_bands(count: int) -> tuple[str, ...]:
    return ("R", "G", "B") if count == 3 else tuple(f"B{index + 1}" for index in range(count))


def prepare_polygon_data(config: TrainConfig, base: ModelCard | None) -> DataSplits:
    """Read the training polygons against the optical raster and the base model's classes and bands.

    Raises:
        PolygonError: For unusable polygons (see :func:`load_polygon_labels`).
        FileNotFoundError: If a raster is missing.
    """
    settings = config.data
    for path in (settings.optical, settings.elevation):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path} does not exist")
    source = PolygonSource(settings.polygons, settings.class_field, settings.polygon_layer)
    labels = load_polygon_labels(source, settings.optical, base.classes if base else ISPRS_CLASSES)
    with open_raster(settings.optical) as optical:
        count, crs, resolution = optical.count, optical.crs, abs(optical.transform.a)
    if base is not None:
        names = base.optical_bands
    elif settings.optical_bands:
        names = tuple(settings.optical_bands)
    else:
        names = _default_bands(len(settings.bands) or min(count, 3))
    bands = tuple(settings.bands) or tuple(range(1, len(names) + 1))
    if len(bands) != len(names):
        raise ValueError(
            f"data.bands selects {len(bands)} bands; the model needs {len(names)} ({'/'.join(names)})"
        )
    if count < max(bands):
        raise ValueError(
            f"{settings.optical} has {count} band(s); the model needs bands {list(bands)} ({'/'.join(names)})"
        )
    gsd = settings.gsd_m or (resolution if crs is not None and crs.is_projected else 0.0)
    notes = list(labels.warnings)
    if base is not None and gsd and not 2 / 3 <= gsd / base.gsd_m <= 3 / 2:
        notes.append(
            f"{settings.optical} has {gsd:g} m pixels, the base model was trained at {base.gsd_m:g} m; "
            "fine-tuning can adapt to this, but resampling the imagery closer to the model's resolution helps"
        )
    summary = {
        "kind": "polygons",
        "optical": Path(settings.optical).name,
        "elevation": Path(settings.elevation).name,
        "bands": list(bands),
        "polygons": labels.summary,
    }
    return DataSplits(
        [], [], labels.classes, names, float(gsd or (base.gsd_m if base else 0.1)), summary, labels, notes
    )


def prepare_data(
    config: TrainConfig, world: Distributed | None = None, base: ModelCard | None = None
) -> DataSplits:
    """List (and for synthetic data, generate on rank 0) the training and validation tiles, and check
    their labels (and archives) when ``data.check`` is on.

    Args:
        config: The run.
        world: This process's place in the run.
        base: The card of ``train.init``, whose classes and bands training polygons are matched to.

    Raises:
        FileNotFoundError, ValueError: From the dataset listings, naming what is missing or wrong.
        DataCheckError: Listing every bad archive and label value.
    """
    world = world or Distributed()
    settings = config.data
    if settings.kind == "polygons":
        return prepare_polygon_data(config, base)
    summary: dict[str, Any] = {"kind": settings.kind}
    if settings.kind == "synthetic":
        root = Path(settings.root or Path(config.train.output) / "data")
        train_root, val_root = root / "train", root / "val"
        if world.is_main:
            for folder, count, seed in (
                (train_root, settings.synthetic_train_scenes, settings.synthetic_seed),
                (val_root, settings.synthetic_val_scenes, settings.synthetic_seed + 1),
            ):
                ensure_synthetic_folder(folder, count, seed, settings.synthetic_size, settings.synthetic_gsd)
        if world.enabled:
            dist.barrier()
        train, val = folder_tiles(train_root), folder_tiles(val_root)
        summary.update(
            generator_version=GENERATOR_VERSION,
            generator_seed=settings.synthetic_seed,
            val_generator_seed=settings.synthetic_seed + 1,
            train_scenes=settings.synthetic_train_scenes,
            val_scenes=settings.synthetic_val_scenes,
            scene_size=settings.synthetic_size,
        )
    elif settings.kind == "folder":
        train = folder_tiles(settings.root)
        val = folder_tiles(settings.val_root) if settings.val_root else []
        summary.update(root=str(settings.root), val_root=str(settings.val_root))
        summary["check"] = check_before_training(
            train + val, [], config.train.output, settings.check, world.is_main, world.enabled
        )
    else:
        isprs = isprs_run_data(
            settings.kind,
            settings.root,
            split=settings.split,
            val_tiles=settings.val_tiles,
            eroded=settings.eroded,
            optical=settings.potsdam_optical,
            elevation=settings.potsdam_elevation,
            gsd_m=settings.gsd_m,
            optical_bands=settings.optical_bands,
            normalization=settings.normalization,
        )
        train, val = isprs.train.tiles, isprs.val.tiles if isprs.val else []
        summary.update(isprs.summary)
        summary["check"] = check_before_training(
            train + val, isprs.files, config.train.output, settings.check, world.is_main, world.enabled
        )
    first = train[0]
    with open_raster(first.optical) as dataset:
        count = len(first.optical_bands) if first.optical_bands else dataset.count
        gsd = settings.gsd_m or abs(dataset.transform.a)
    if settings.kind in ("vaihingen", "potsdam"):
        bands, gsd = isprs.optical_bands, isprs.gsd_m
    elif settings.optical_bands:
        bands = tuple(settings.optical_bands)
    else:
        bands = _default_bands(count)
    if len(bands) != count:
        raise ValueError(f"data.optical_bands names {len(bands)} bands, the optical rasters have {count}")
    return DataSplits(train, val, first.classes, bands, float(gsd), summary)


class RankSampler(Sampler[int]):
    """This rank's share of an epoch's crops (``rank, rank + world, ...``), from batch ``start_batch`` on.

    The crops themselves are random (:class:`RandomCropDataset`), so a strided split needs no shuffling,
    and skipping the batches already done lets a resumed run continue mid-epoch.
    """

    def __init__(
        self, length: int, rank: int, world_size: int, batch_size: int, start_batch: int = 0
    ) -> None:
        self.indices = list(range(rank, length, world_size))[start_batch * batch_size :]

    def __iter__(self) -> Iterator[int]:
        """Indices in order."""
        return iter(self.indices)

    def __len__(self) -> int:
        """Indices left this epoch."""
        return len(self.indices)


def lr_factor(step: int, config: OptimSettings, total_steps: int) -> float:
    """Learning-rate multiplier at ``step``: linear warm-up to 1, then cosine or poly decay."""
    warmup = min(config.warmup_steps, max(total_steps - 1, 0))
    if step < warmup:
        return (step + 1) / (warmup + 1)
    progress = min((step - warmup) / max(total_steps - warmup, 1), 1.0)
    if config.schedule == "poly":
        return (1.0 - progress) ** config.poly_power
    return config.min_lr_ratio + (1.0 - config.min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _step_seed(seed: int, rank: int, step: int) -> int:
    """A torch seed for (seed, rank, step), so every step's randomness is fixed whatever was resumed."""
    return int(np.random.SeedSequence((seed, rank, step)).generate_state(1, np.uint64)[0]) >> 1


def _needs_unused_parameter_search(model: GeoFuseNet, device: torch.device) -> bool:
    """Whether some parameter gets no gradient (DDP must then search for unused ones every step).

    Probed on a copy, so the model's normalisation statistics are not touched.
    """
    model = copy.deepcopy(model)
    optical = torch.zeros(1, model.config.optical_channels, 64, 64, device=device)
    elevation = torch.zeros(1, model.config.elevation_channels, 64, 64, device=device)
    logits, align = model(optical, elevation)
    (logits.sum() + align).backward()
    return any(p.grad is None for p in model.parameters() if p.requires_grad)


def _any_rank(flag: bool, world: Distributed, device: torch.device) -> bool:
    """True if ``flag`` is true on any rank, so all ranks stop at the same step (a lone rank leaving
    would leave the others waiting in the next gradient all-reduce)."""
    if not world.enabled:
        return flag
    value = torch.tensor([int(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def _model_inputs(batch: Mapping[str, Tensor], device: torch.device, zero_elevation: bool) -> tuple:
    optical = batch["optical"].to(device, non_blocking=True)
    elevation = batch["elevation"].to(device, non_blocking=True)
    if zero_elevation:
        elevation = torch.zeros_like(elevation)
    return optical, elevation, batch["mask"].to(device, non_blocking=True)


def validate(
    model: GeoFuseNet,
    loader: DataLoader,
    num_classes: int,
    device: torch.device,
    zero_elevation: bool = False,
    world: Distributed | None = None,
) -> Tensor:
    """Confusion matrix of ``model`` over ``loader``'s windows, summed over all ranks."""
    world = world or Distributed()
    was_training = model.training
    model.eval()
    matrix = ConfusionMatrix(num_classes, IGNORE_INDEX, device)
    with torch.inference_mode():
        for batch in loader:
            optical, elevation, mask = _model_inputs(batch, device, zero_elevation)
            matrix.update(model(optical, elevation).argmax(dim=1), mask)
    model.train(was_training)
    if world.enabled:
        dist.all_reduce(matrix.matrix)
    return matrix.matrix


class MetricsLog:
    """Rank 0's validation log: one CSV row per validation, and TensorBoard scalars when it imports."""

    def __init__(self, output: Path, classes: Sequence[ClassInfo], resume: bool) -> None:
        self.path = output / METRICS_NAME
        self.names = [info.name for info in classes]
        self.columns = [
            "epoch", "step", "train_loss", "lr", "overall_accuracy", "mean_iou", "mean_f1",
            "mean_iou_all", "mean_f1_all", *(f"iou_{name.replace(' ', '_')}" for name in self.names),
            "elapsed_s",
        ]  # fmt: skip
        if not (resume and self.path.is_file()):
            with self.path.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerow(self.columns)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            self.tensorboard = None
        else:
            self.tensorboard = SummaryWriter(str(output / "tensorboard"))

    def write(
        self, epoch: int, step: int, loss: float, lr: float, metrics: SegmentationMetrics, elapsed: float
    ) -> None:
        """Append one validation's scores."""
        scores = {
            "overall_accuracy": metrics.overall_accuracy,
            "mean_iou": metrics.mean_iou,
            "mean_f1": metrics.mean_f1,
            "mean_iou_all": metrics.mean_iou_all,
            "mean_f1_all": metrics.mean_f1_all,
        }
        row = [epoch, step, f"{loss:.6f}", f"{lr:.6g}"]
        row += ["" if value is None else f"{value:.6f}" for value in scores.values()]
        row += ["" if c.iou is None else f"{c.iou:.6f}" for c in metrics.classes]
        row.append(f"{elapsed:.1f}")
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(row)
        if self.tensorboard is not None:
            self.tensorboard.add_scalar("train/loss", loss, step)
            for key, value in scores.items():
                if value is not None:
                    self.tensorboard.add_scalar(f"val/{key}", value, step)
            self.tensorboard.flush()

    def close(self) -> None:
        """Close the TensorBoard writer, if any."""
        if self.tensorboard is not None:
            self.tensorboard.close()


def _train_state(
    step: int,
    config: TrainConfig,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler,
    losses: list[float],
) -> dict[str, Any]:
    return {
        "step": step,
        "config": config.to_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "losses": list(losses),
    }


def _check_resumable(train_state: Mapping[str, Any] | None, config: TrainConfig, path: Path) -> None:
    if train_state is None:
        raise CheckpointError(f"{path} holds no training state (a released model); it cannot be resumed")
    saved = TrainConfig.from_dict(train_state["config"])
    mine = config.to_dict()
    for section in ("model", "optim"):
        if saved.to_dict()[section] != mine[section]:
            raise CheckpointError(f"{path} was trained with different [{section}] settings; cannot resume")
    for key in ("crop_size", "batch_size", "steps_per_epoch", "seed", "zero_elevation"):
        if getattr(saved.train, key) != getattr(config.train, key):
            raise CheckpointError(f"{path} was trained with train.{key} = {getattr(saved.train, key)}")


def train(
    config: TrainConfig,
    progress: Callable[[Progress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    resume: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Train a model as ``config`` says and return the final checkpoint (``<output>/model.pt``).

    Under torchrun (WORLD_SIZE > 1) every process calls this; the process group is created here and torn
    down at the end. Rank 0 writes ``<output>/last.pt`` (resumable) every ``checkpoint_every`` steps,
    ``<output>/metrics.csv`` at each validation and the final ``model.pt`` (no training state).

    Args:
        config: The run.
        progress: Called on rank 0 after every step (and with the metrics after each validation).
        cancel: Checked before every step (on every rank; one rank's true stops all); when it returns
            true, ``last.pt`` is written and :class:`TrainingCancelled` raised.
        resume: A ``last.pt`` to continue from: the same step, optimiser, scheduler and scaler state.
        log: Receives warnings for the user on rank 0 (default: standard error).

    Returns:
        The final checkpoint's path (on every rank).

    Raises:
        TrainingCancelled: If ``cancel()`` returned true.
        CheckpointError: If ``resume`` is not a resumable checkpoint of this configuration.
    """
    world = Distributed.from_environment()
    device = resolve_device(config.train.device, world.local_rank)
    if world.enabled and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        return _train(config, world, device, progress, cancel, resume, log or _print_warning)
    finally:
        if world.enabled and dist.is_initialized():
            dist.destroy_process_group()


def _train(
    config: TrainConfig,
    world: Distributed,
    device: torch.device,
    progress: Callable[[Progress], None] | None,
    cancel: Callable[[], bool] | None,
    resume: str | Path | None,
    warn: Callable[[str], None],
) -> Path:
    run = config.train
    if run.threads:
        torch.set_num_threads(run.threads)
    if world.enabled and run.freeze_encoder_steps:
        raise ValueError("train.freeze_encoder_steps is not supported with several processes (DDP)")
    base = load_checkpoint(run.init) if run.init else None
    data = prepare_data(config, world, base.card if base else None)
    output = Path(run.output)
    if world.is_main:
        output.mkdir(parents=True, exist_ok=True)
        for note in data.notes:
            warn(note)
    normalization = base.card.normalization if base else config.normalization()

    torch.manual_seed(run.seed)
    if base is not None:
        model = start_from(base, data.classes)
    else:
        model = GeoFuseNet(config.model_config(len(data.classes), len(data.optical_bands)))
    model_config = model.config
    model = model.to(device).train()
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.optim.lr, weight_decay=config.optim.weight_decay
    )
    total = config.total_steps
    budget_s = run.max_minutes * 60.0
    horizon = [total]
    """The step the schedule decays to: ``total``, or where the time budget will end the run."""
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, config.optim, horizon[0])
    )
    use_amp = run.amp and device.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)

    step, losses = 0, []
    if resume is not None:
        checkpoint = load_checkpoint(resume)
        _check_resumable(checkpoint.train_state, config, Path(resume))
        model.load_state_dict(checkpoint.state_dict)
        state = checkpoint.train_state or {}
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        step, losses = int(state["step"]), [float(v) for v in state["losses"]]

    network = model
    if world.enabled:
        find_unused = _needs_unused_parameter_search(model, device)
        model = nn.parallel.DistributedDataParallel(
            model,
            device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=find_unused,
        )

    epoch_length = run.steps_per_epoch * run.batch_size * world.world_size
    if data.polygons is not None:
        train_set: RandomCropDataset | PolygonCropDataset = PolygonCropDataset(
            config.data.optical,
            config.data.elevation,
            data.polygons,
            run.crop_size,
            epoch_length,
            normalization,
            data.summary["bands"],
            seed=run.seed,
        )
    else:
        train_set = RandomCropDataset(data.train, run.crop_size, epoch_length, normalization, seed=run.seed)
    val_loader = None
    if data.val:
        val_set = GridWindowDataset(data.val, run.val_window, normalization)
        val_loader = DataLoader(
            val_set,
            batch_size=run.batch_size,
            sampler=RankSampler(len(val_set), world.rank, world.world_size, 1),
            num_workers=run.workers,
        )

    card_training: dict[str, Any] = {
        "data": data.summary,
        "seed": run.seed,
        "generator_seed": data.summary.get("generator_seed"),
        "variant": model_config.variant,
        "lambda_align": config.model.lambda_align,
        "zero_elevation": run.zero_elevation,
        "crop_size": run.crop_size,
        "batch_size": run.batch_size,
        "world_size": world.world_size,
        "total_steps": total,
        "max_minutes": run.max_minutes,
        "budget_clock": run.budget_clock,
        "freeze_encoder_steps": run.freeze_encoder_steps,
        "config": config.to_dict(),
    }
    if base is not None:
        new = [info.name for info in data.classes[len(base.card.classes) :]]
        card_training["base_model"] = lineage(run.init, base, new)
        card_training["new_classes"] = new

    def card(metrics: SegmentationMetrics | None, done: int) -> ModelCard:
        summary = dict(card_training, steps=done, final_loss=losses[-1] if losses else None)
        summary["metrics"] = metrics.to_dict() if metrics is not None else None
        return ModelCard(model_config, data.classes, normalization, data.optical_bands, data.gsd_m, summary)

    log = MetricsLog(output, data.classes, resume is not None) if world.is_main else None
    bar = None
    if world.is_main:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=step, unit="step", dynamic_ncols=True, desc="train")
    started = time.perf_counter()
    clock = BUDGET_CLOCKS[run.budget_clock]
    budget_started = clock()
    first_step = step
    metrics: SegmentationMetrics | None = None
    loss_value = losses[-1] if losses else float("nan")
    out_of_time = False

    def save_resumable(done: int) -> Path:
        path = output / RESUME_NAME
        if world.is_main:
            state = _train_state(done, config, optimizer, scheduler, scaler, losses)
            save_checkpoint(path, network, card(metrics, done), state)
        if world.enabled:
            dist.barrier()
        return path

    try:
        while step < total and not out_of_time:
            epoch, start_batch = divmod(step, run.steps_per_epoch)
            train_set.set_epoch(epoch)
            loader = DataLoader(
                train_set,
                batch_size=run.batch_size,
                sampler=RankSampler(epoch_length, world.rank, world.world_size, run.batch_size, start_batch),
                num_workers=run.workers,
                drop_last=True,
                generator=torch.Generator(),
                pin_memory=device.type == "cuda",
            )
            for batch in loader:
                if cancel is not None and _any_rank(cancel(), world, device):
                    raise TrainingCancelled(save_resumable(step), step)
                torch.manual_seed(_step_seed(run.seed, world.rank, step))
                if run.freeze_encoder_steps:
                    set_encoders_frozen(network, step < run.freeze_encoder_steps)
                optical, elevation, mask = _model_inputs(batch, device, run.zero_elevation)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                    logits, align = model(optical, elevation)
                    ce = F.cross_entropy(logits.float(), mask, ignore_index=IGNORE_INDEX)
                loss = ce + config.model.lambda_align * align.float()
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                step += 1
                loss_value = float(loss.detach())
                losses.append(loss_value)
                lr = scheduler.get_last_lr()[0]
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss_value:.4f}", ce=f"{float(ce.detach()):.4f}", lr=f"{lr:.2e}")
                elapsed = clock() - budget_started
                pace = elapsed / (step - first_step)
                fraction, eta = step / total, (total - step) * pace
                if budget_s:
                    out_of_time = _any_rank(elapsed >= budget_s, world, device)
                    horizon[0] = min(total, step + max(int((budget_s - elapsed) / pace), 1))
                    fraction, eta = max(fraction, elapsed / budget_s), min(eta, max(budget_s - elapsed, 0.0))
                finished = step >= total or out_of_time
                if progress is not None and world.is_main:
                    progress(Progress(step, total, loss_value, lr, fraction=min(fraction, 1.0), eta_s=eta))
                if step % run.checkpoint_every == 0 and not finished:
                    save_resumable(step)
                end_of_epoch = step % run.steps_per_epoch == 0
                if finished or (end_of_epoch and (step // run.steps_per_epoch) % run.val_every == 0):
                    metrics = _validate_and_log(
                        network,
                        val_loader,
                        data.classes,
                        device,
                        run,
                        world,
                        log,
                        epoch,
                        step,
                        losses,
                        lr,
                        time.perf_counter() - started,
                    )
                    if metrics is not None and progress is not None and world.is_main:
                        progress(Progress(step, total, loss_value, lr, metrics, min(fraction, 1.0), eta))
                if finished or end_of_epoch:
                    break
    finally:
        if bar is not None:
            bar.close()
        if log is not None:
            log.close()

    final = output / FINAL_NAME
    if world.is_main:
        summary_card = card(metrics, step)
        summary_card.training["duration_s"] = round(time.perf_counter() - started, 1)
        save_checkpoint(final, network, summary_card)
    if world.enabled:
        dist.barrier()
    return final


def _print_warning(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _validate_and_log(
    network: GeoFuseNet,
    loader: DataLoader | None,
    classes: Sequence[ClassInfo],
    device: torch.device,
    run: RunSettings,
    world: Distributed,
    log: MetricsLog | None,
    epoch: int,
    step: int,
    losses: list[float],
    lr: float,
    elapsed: float,
) -> SegmentationMetrics | None:
    if loader is None:
        return None
    matrix = validate(network, loader, len(classes), device, run.zero_elevation, world)
    metrics = compute_metrics(matrix, [info.name for info in classes])
    window = losses[-run.steps_per_epoch :]
    if log is not None:
        log.write(epoch, step, sum(window) / len(window), lr, metrics, elapsed)
    return metrics
