"""Fine-tuning: a base checkpoint adapted to the user's imagery from a few digitised polygons.

:func:`start_from` builds the network of a base checkpoint for a class table that may have grown (a class
name the base did not know adds an output channel: the base classes keep their weights, the new channel
starts as a fresh layer would), and :func:`lineage` says on the new card where it came from.
:func:`finetune` is the one entry point of the CLI (``geofuse finetune``), the worker and so
``geofuse:finetune`` and the dock: it trains in a hidden folder beside the output and moves only the
finished checkpoint into place, so a failure or a cancel leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .checkpoint import Checkpoint, CheckpointError
from .classes import ClassInfo
from .models.network import GeoFuseNet

CLASSIFIER = ("decoder.classifier.weight", "decoder.classifier.bias")
"""The per-class parameters: output channel ``i`` of these is class ``i``."""


def weights_sha256(state_dict: Mapping[str, torch.Tensor]) -> str:
    """A fingerprint of the weights alone (names, shapes, dtypes, values), independent of the card and of
    how the file was written, so two files with the same weights have the same lineage."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().cpu().contiguous()
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}\n".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def start_from(base: Checkpoint, classes: Sequence[ClassInfo]) -> GeoFuseNet:
    """The base network, widened to ``classes`` (the base classes first, in their order, then new ones).

    Raises:
        CheckpointError: If ``classes`` does not begin with the base classes or the weights do not fit.
    """
    known = len(base.card.classes)
    if [info.name for info in classes[:known]] != [info.name for info in base.card.classes]:
        raise CheckpointError("the class table must begin with the base model's classes, in their order")
    model = GeoFuseNet(dataclasses.replace(base.card.model, num_classes=len(classes)))
    state = model.state_dict()
    try:
        for name, tensor in base.state_dict.items():
            if name in CLASSIFIER:
                state[name][:known] = tensor
            else:
                state[name] = tensor
        model.load_state_dict(state)
    except (KeyError, RuntimeError) as error:
        raise CheckpointError(f"the base model's weights do not match its card: {error}") from error
    return model


def lineage(path: str | Path, base: Checkpoint, new_classes: Sequence[str]) -> dict[str, Any]:
    """What the new card records of its base: file name, weights' sha256, classes kept and added."""
    return {
        "file": Path(path).name,
        "sha256": weights_sha256(base.state_dict),
        "variant": base.card.model.variant,
        "gsd_m": base.card.gsd_m,
        "classes": [info.name for info in base.card.classes],
        "new_classes": list(new_classes),
    }


def set_encoders_frozen(model: GeoFuseNet, frozen: bool) -> None:
    """Freeze (or release) both encoders: no gradients and fixed normalisation statistics, so a few
    polygons first teach the fusion blocks and the decoder without disturbing the base features."""
    for encoder in (model.cnn, model.vss):
        encoder.train(not frozen and model.training)
        for parameter in encoder.parameters():
            parameter.requires_grad_(not frozen)


@dataclass(frozen=True)
class FinetuneRequest:
    """One fine-tuning run, as the CLI, the worker and Processing describe it.

    Attributes:
        optical: Optical raster.
        elevation: Elevation raster (any grid; warped onto the optical one).
        polygons: Training polygons (any OGR vector, any CRS).
        class_field: Their class field (class names or indices).
        output: The new checkpoint (``.pt``).
        base: The checkpoint to start from.
        layer: Layer of ``polygons`` ("" = the first).
        bands: 1-based optical bands in the model's order (empty = the first ones).
        minutes: Time budget (0 = none).
        budget_clock: What the budget counts: ``wall`` clock or this ``process``'s CPU time.
        steps: Step budget; the run ends at whichever budget comes first.
        freeze_encoder_steps: Steps with both encoders frozen, at the start.
        batch_size: Crops per step.
        crop_size: Crop side in pixels.
        lr: Peak learning rate (lower than for training from scratch: the base is already good).
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        seed: Seed of crops and augmentation.
        threads: torch CPU threads (0 = torch's default).
        overwrite: Replace an existing ``output``.
    """

    optical: str
    elevation: str
    polygons: str
    class_field: str
    output: str
    base: str
    layer: str = ""
    bands: tuple[int, ...] = ()
    minutes: float = 5.0
    budget_clock: str = "wall"
    steps: int = 1000
    freeze_encoder_steps: int = 0
    batch_size: int = 4
    crop_size: int = 256
    lr: float = 5e-4
    device: str = "auto"
    seed: int = 0
    threads: int = 0
    overwrite: bool = False

    def config(self, folder: Path) -> dict[str, Any]:
        """The training config (``backend.train_config``) of this run, writing into ``folder``."""
        return {
            "data": {
                "kind": "polygons",
                "optical": self.optical,
                "elevation": self.elevation,
                "polygons": self.polygons,
                "polygon_layer": self.layer,
                "class_field": self.class_field,
                "bands": list(self.bands),
            },
            "optim": {"lr": self.lr, "warmup_steps": min(20, max(self.steps // 10, 1))},
            "train": {
                "init": self.base,
                "steps": self.steps,
                "max_minutes": self.minutes,
                "budget_clock": self.budget_clock,
                "freeze_encoder_steps": self.freeze_encoder_steps,
                "batch_size": self.batch_size,
                "crop_size": self.crop_size,
                "device": self.device,
                "seed": self.seed,
                "threads": self.threads,
                "checkpoint_every": self.steps + 1,
                "output": str(folder),
            },
        }


def finetune(
    request: FinetuneRequest,
    progress: Callable[[Any], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Fine-tune ``request.base`` on the polygons and write ``request.output``; nothing else remains.

    Returns:
        The new checkpoint's path.

    Raises:
        FileExistsError: If the output exists and ``overwrite`` is false (checked before any work).
        TrainingCancelled: If ``cancel()`` returned true (no file is left behind).
        ValueError, FileNotFoundError, CheckpointError: For unusable inputs, with one clear line.
    """
    from .train_config import TrainConfig
    from .training import train

    output = Path(request.output)
    if output.suffix.lower() != ".pt":
        raise ValueError(f"{output}: a GeoFuse model is a .pt file")
    if output.is_dir():
        raise ValueError(f"{output} is a folder")
    if output.exists() and not request.overwrite:
        raise FileExistsError(f"{output} exists; choose another name or allow overwriting")
    if not output.parent.is_dir():
        raise FileNotFoundError(f"the folder of {output} does not exist")
    folder = Path(tempfile.mkdtemp(prefix=f".{output.stem}.finetune-", dir=output.parent))
    try:
        config = TrainConfig.from_dict(request.config(folder))
        model = train(config, progress=progress, cancel=cancel, log=log)
        if output.exists() and not request.overwrite:
            raise FileExistsError(f"{output} appeared while fine-tuning; it was kept and nothing was written")
        os.replace(model, output)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return output
