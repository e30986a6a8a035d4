"""GeoFuse checkpoints: one file holding the model card and the weights, read as data, never as code.

The card says everything inference needs to use the weights correctly (architecture, class table, input
bands and normalisation, ground sampling distance) and what training produced them. Files are loaded with
``torch.load(weights_only=True)``, so a checkpoint crafted to run code on unpickling is refused, and the card
is validated against a versioned schema before any weight is touched.
"""

from __future__ import annotations

import dataclasses
import math
import os
import pickle
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint_format import (
    CHECKPOINT_FORMAT,
    FORMAT_VERSION,
    MAX_CARD_INT,
    card_shape_problem,
    format_problem,
    training_crop,
)
from .classes import ISPRS_CLASSES, ClassInfo, classes_from_dicts, classes_to_dicts
from .data.normalize import NormalizationConfig
from .errors import GeoFuseError
from .models.network import GeoFuseNet, ModelConfig
from .tiling import DEFAULT_TILE, default_tile

MAX_PARAMETERS = 1 << 28
"""Most parameters a card may ask for (1 GiB of float32; the small width needs 3 million), counted on the
meta device before anything is allocated."""
CARD_KEYS = ("model", "classes", "normalization", "optical_bands", "gsd_m", "training")
PLAIN_SCALARS = (str, int, float, bool, type(None))


class CheckpointError(GeoFuseError):
    """A file that is not a usable GeoFuse checkpoint; the message says why in a user's terms."""


@dataclass
class ModelCard:
    """What a checkpoint's weights are and how to feed them.

    Attributes:
        model: The architecture (variant, width, channels, fusion settings).
        classes: The class table; output channel ``i`` is ``classes[i]``.
        normalization: How raw optical and elevation windows become network inputs.
        optical_bands: Names of the optical bands in the order the model expects, e.g. ``["R", "G", "B"]``
            or ``["IR", "R", "G"]`` (ISPRS Vaihingen's IRRG).
        gsd_m: Ground sampling distance (metres per pixel) of the training data.
        training: Plain-types summary of training (data, seed, steps, metrics); free-form but data only.
    """

    model: ModelConfig
    classes: tuple[ClassInfo, ...] = ISPRS_CLASSES
    normalization: NormalizationConfig = field(default_factory=NormalizationConfig)
    optical_bands: tuple[str, ...] = ("R", "G", "B")
    gsd_m: float = 0.1
    training: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Keep the parts consistent with each other, so a card can be trusted once built."""
        if len(self.classes) != self.model.num_classes:
            raise CheckpointError(
                f"the class table has {len(self.classes)} classes but the model predicts "
                f"{self.model.num_classes}"
            )
        if len(self.optical_bands) != self.model.optical_channels:
            raise CheckpointError(
                f"{len(self.optical_bands)} optical band names for a model with "
                f"{self.model.optical_channels} optical channels"
            )
        if not (
            isinstance(self.gsd_m, int | float)
            and not isinstance(self.gsd_m, bool)
            and math.isfinite(self.gsd_m)
            and self.gsd_m > 0
        ):
            raise CheckpointError(f"gsd_m must be a positive number of metres, got {self.gsd_m!r}")
        _check_plain(self.training, "training")

    def to_dict(self) -> dict[str, Any]:
        """Plain-types form stored in the checkpoint."""
        return {
            "model": self.model.to_dict(),
            "classes": classes_to_dicts(self.classes),
            "normalization": self.normalization.to_dict(),
            "optical_bands": list(self.optical_bands),
            "gsd_m": float(self.gsd_m),
            "training": self.training,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ModelCard:
        """Validate and rebuild a stored card.

        Raises:
            CheckpointError: Naming the part of the card that is missing or malformed.
        """
        if not isinstance(data, Mapping):
            raise CheckpointError("the model card is not a mapping")
        _check_card_shape(data)
        missing = [key for key in CARD_KEYS if key not in data]
        unknown = sorted(set(data) - set(CARD_KEYS))
        if missing or unknown:
            raise CheckpointError(f"model card: missing {missing}, unknown {unknown}")
        bands = data["optical_bands"]
        if not (isinstance(bands, list) and all(isinstance(b, str) for b in bands)):
            raise CheckpointError("model card: optical_bands must be a list of band names")
        if not isinstance(data["training"], Mapping):
            raise CheckpointError("model card: training must be a mapping")
        _check_model_types(data["model"])
        model = dict(data["model"])
        # Cards from before ModelConfig.reference_size: the per-stage choices those models made at their
        # training crop (then derived from each tile's token count) become their fixed choices.
        model.setdefault("reference_size", training_crop(data["training"]) or DEFAULT_TILE)
        try:
            return cls(
                model=ModelConfig.from_dict(model),
                classes=classes_from_dicts(data["classes"]),
                normalization=NormalizationConfig.from_dict(data["normalization"]),
                optical_bands=tuple(bands),
                gsd_m=data["gsd_m"],
                training=dict(data["training"]),
            )
        except CheckpointError:
            raise
        except (TypeError, ValueError, KeyError) as error:
            raise CheckpointError(f"model card: {error}") from error

    def tile_size(self) -> int:
        """The inference tile to use by default (:func:`~geofuse.backend.tiling.default_tile`)."""
        return default_tile(training_crop(self.training))

    def describe(self) -> str:
        """A few lines for a CLI or a dock: what the model is and what it expects."""
        new = self.training.get("new_classes")
        new = set(new) if isinstance(new, list) else set()
        names = ", ".join(info.name + (" (new)" if info.name in new else "") for info in self.classes)
        text = (
            f"GeoFuse {self.model.variant} ({self.model.width}), "
            f"optical bands {'/'.join(self.optical_bands)} + elevation, trained at {self.gsd_m:g} m/pixel\n"
            f"classes: {names}"
        )
        base, data = self.training.get("base_model"), self.training.get("data")
        if (
            isinstance(base, Mapping)
            and isinstance(data, Mapping)
            and isinstance(data.get("polygons"), Mapping)
        ):
            polygons = data["polygons"]
            text += (
                f"\nfine-tuned from {base.get('file')} with {polygons.get('polygons_used')} polygons "
                f"of {polygons.get('file')}"
            )
        return text


@dataclass
class Checkpoint:
    """A loaded checkpoint: the card, the weights and, for ``--resume``, the training state."""

    card: ModelCard
    state_dict: dict[str, torch.Tensor]
    train_state: dict[str, Any] | None = None

    def build_model(self, device: str | torch.device = "cpu") -> GeoFuseNet:
        """The network with these weights, in eval mode.

        The architecture is first built on the ``meta`` device (no memory) and its parameter names and
        shapes compared with the stored weights, so a card that does not fit its weights, or one asking for
        an enormous network, is refused before anything is allocated.

        Raises:
            CheckpointError: If the weights do not fit the architecture the card describes.
        """
        try:
            with torch.device("meta"):
                expected = GeoFuseNet(self.card.model).state_dict()
        except (TypeError, ValueError, RuntimeError, OverflowError, MemoryError) as error:
            raise CheckpointError(f"the model card's architecture cannot be built: {error}") from error
        parameters = sum(tensor.numel() for tensor in expected.values())
        if parameters > MAX_PARAMETERS:
            raise CheckpointError(
                f"the model card asks for {parameters:,} parameters; at most {MAX_PARAMETERS:,} are loaded"
            )
        problems = _state_dict_mismatch(expected, self.state_dict)
        if problems:
            raise CheckpointError(f"the weights do not match the model card's architecture: {problems}")
        broken = [
            name
            for name, tensor in self.state_dict.items()
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())
        ]
        if broken:
            raise CheckpointError(
                f"the weights hold NaN or infinite values ({', '.join(broken[:3])}"
                f"{f' and {len(broken) - 3} more' if len(broken) > 3 else ''}): the training diverged"
            )
        model = GeoFuseNet(self.card.model)
        try:
            model.load_state_dict(self.state_dict, strict=True)
        except RuntimeError as error:
            raise CheckpointError(
                f"the weights do not match the model card's architecture: {error}"
            ) from error
        return model.to(device).eval()


def _state_dict_mismatch(expected: Mapping[str, torch.Tensor], stored: Mapping[str, torch.Tensor]) -> str:
    """A short account of missing, unexpected and mis-shaped weights (at most three of each), or ``""``."""

    def some(names: Sequence[str]) -> str:
        return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")

    missing = [name for name in expected if name not in stored]
    unexpected = [name for name in stored if name not in expected]
    shapes = [
        f"{name} {tuple(stored[name].shape)} instead of {tuple(expected[name].shape)}"
        for name in expected
        if name in stored and stored[name].shape != expected[name].shape
    ]
    parts = [
        f"{label} {some(names)}"
        for label, names in (("missing", missing), ("unexpected", unexpected), ("shape", shapes))
        if names
    ]
    return "; ".join(parts)


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    card: ModelCard,
    train_state: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically (temporary file in the same folder, then rename).

    Args:
        path: Destination ``.pt`` file.
        model: The network; a DDP wrapper is unwrapped.
        card: The model card.
        train_state: Optimiser/scheduler/step state for resuming, or None for a release checkpoint.

    Returns:
        The path written.
    """
    path = Path(path)
    network = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": FORMAT_VERSION,
        "card": card.to_dict(),
        "state_dict": {key: value.detach().cpu() for key, value in network.state_dict().items()},
        "train_state": dict(train_state) if train_state is not None else None,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 lets the umask decide the mode, as for any file the user writes (mkstemp's is 0600).
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(payload, stream)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read and validate a checkpoint without executing anything from it.

    Raises:
        CheckpointError: For a missing, empty, truncated, foreign, code-carrying, newer-format or
            inconsistent file; the message names the file and the reason.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"model file not found: {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"model file is empty: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        if found is None:  # a byte the safe unpickler does not know: foreign or damaged, not a checkpoint
            raise CheckpointError(
                f"{path} is not a readable checkpoint (truncated or another format)"
            ) from error
        raise CheckpointError(
            f"{path} is not a plain-data GeoFuse checkpoint: it holds objects that would run code when "
            f"loaded ({found.group(1)}), and was refused"
        ) from error
    except Exception as error:  # torch.load fails in many ways on foreign bytes; each means the same here
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated or another format): {_first_line(error)}"
        ) from error
    return _checkpoint_from_payload(payload, path)


def _checkpoint_from_payload(payload: Any, path: Path) -> Checkpoint:
    problem = format_problem(payload, str(path))
    if problem:
        raise CheckpointError(problem)
    state_dict = payload.get("state_dict")
    if not isinstance(state_dict, Mapping) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in state_dict.items()
    ):
        raise CheckpointError(f"{path}: the weights are missing or malformed")
    train_state = payload.get("train_state")
    if train_state is not None and not isinstance(train_state, Mapping):
        raise CheckpointError(f"{path}: the training state is malformed")
    card = ModelCard.from_dict(payload.get("card"))
    return Checkpoint(card, dict(state_dict), dict(train_state) if train_state is not None else None)


def _first_line(error: BaseException) -> str:
    """The gist of a library's error: its first non-empty line, without terminal colour codes (torch's
    messages run to paragraphs of advice meant for developers, some of it unsafe for a user to follow)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    return next((line.strip() for line in text.splitlines() if line.strip()), type(error).__name__)


def _check_model_types(data: Any) -> None:
    """Check each stored model setting has its field's type, so a malformed card is refused here with a
    message instead of failing deep inside a layer (or building something absurd: ``True`` classes)."""
    if not isinstance(data, Mapping):
        raise CheckpointError("model card: model must be a mapping")
    for spec in dataclasses.fields(ModelConfig):
        if spec.name not in data:
            continue
        value, default = data[spec.name], spec.default
        if isinstance(default, bool) or isinstance(value, bool):
            valid = isinstance(value, bool) and isinstance(default, bool)
        elif isinstance(default, int):
            valid = isinstance(value, int) and 0 <= value <= MAX_CARD_INT
        elif isinstance(default, float):
            valid = isinstance(value, int | float) and math.isfinite(value)
        elif isinstance(default, str):
            valid = isinstance(value, str)
        else:
            valid = isinstance(value, Mapping)
            if valid:
                _check_plain(value, f"model.{spec.name}")
                large = [
                    key
                    for key, item in value.items()
                    if isinstance(item, int | float) and abs(item) > MAX_CARD_INT
                ]
                if large:
                    raise CheckpointError(f"model card: model.{spec.name}.{large[0]} is out of range")
        if not valid:
            raise CheckpointError(
                f"model card: model.{spec.name} has the wrong type or is out of range: {value!r}"
            )


def _check_card_shape(data: Any) -> None:
    """Refuse a card too deep, too large or holding huge strings, before anything else reads it."""
    problem = card_shape_problem(data)
    if problem:
        raise CheckpointError(problem)


def _check_plain(value: Any, where: str) -> None:
    """Refuse anything but plain data in free-form card fields, so the card stays JSON-able."""
    if isinstance(value, PLAIN_SCALARS):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CheckpointError(f"{where}: keys must be strings, got {key!r}")
            _check_plain(item, f"{where}.{key}")
        return
    if isinstance(value, Sequence):
        for index, item in enumerate(value):
            _check_plain(item, f"{where}[{index}]")
        return
    raise CheckpointError(f"{where}: {type(value).__name__} is not plain data")
