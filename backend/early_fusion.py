"""The model a user would pick instead of GeoFuse: an early-fusion U-Net, as a reference in the ablation.

The optical bands and the normalised elevation are stacked into one input (early fusion) for
segmentation_models_pytorch's U-Net with a ResNet-18 encoder, trained from scratch (no ImageNet weights:
they would not fit a 4-channel input, and GeoFuse starts from scratch too) with the same recipe as a
GeoFuse arm: the same tiles, random crops, batch, AdamW, learning-rate schedule, seed, threads and time
budget (:func:`train_early_fusion`). It is not part of the plugin; segmentation_models_pytorch and
torchvision come with the optional ``bench`` extra and are imported only when a U-Net is built, so the
default install never needs them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

from .checkpoint import ModelCard
from .classes import IGNORE_INDEX
from .data.folder import RandomCropDataset
from .data.kinds import prepare_data
from .device import resolve_device
from .errors import GeoFuseError
from .optimisation import lr_factor
from .train_config import BUDGET_CLOCKS, TrainConfig

ENCODER = "resnet18"
STRIDE = 32
"""The U-Net's total downsampling: inputs are padded to a multiple of it."""
MISSING_EXTRA = (
    "the early-fusion U-Net needs segmentation-models-pytorch and a torchvision that matches your torch: "
    'pip install "geofuse[bench]" (see the README, section Ablation)'
)


class MissingExtraError(GeoFuseError):
    """segmentation_models_pytorch (the ``bench`` extra) is not importable."""


def import_smp() -> ModuleType:
    """segmentation_models_pytorch, imported on first use.

    Raises:
        MissingExtraError: If it (or the torchvision it needs) does not import.
    """
    try:
        import segmentation_models_pytorch
    except Exception as error:  # an ImportError, or a torchvision built for another torch failing to load
        raise MissingExtraError(f"{MISSING_EXTRA} ({type(error).__name__}: {error})") from error
    return segmentation_models_pytorch


class EarlyFusionUNet(nn.Module):
    """``model(optical, elevation) -> logits``: smp's U-Net (ResNet-18) on the channels stacked.

    Any input size works: the input is padded (edges replicated) to a multiple of 32 and the logits are
    cropped back.

    Args:
        num_classes: Output classes.
        optical_channels: Optical bands; the input has one channel more (the elevation).
    """

    def __init__(self, num_classes: int = 6, optical_channels: int = 3) -> None:
        super().__init__()
        smp = import_smp()
        self.num_classes, self.optical_channels = num_classes, optical_channels
        self.net = smp.Unet(
            ENCODER, encoder_weights=None, in_channels=optical_channels + 1, classes=num_classes
        )

    def forward(self, optical: Tensor, elevation: Tensor) -> Tensor:
        """Logits (B, K, H, W) for optical (B, C, H, W) and elevation (B, 1, H, W)."""
        inputs = torch.cat([optical, elevation], dim=1)
        height, width = inputs.shape[-2:]
        pad_rows, pad_cols = -height % STRIDE, -width % STRIDE
        if pad_rows or pad_cols:
            inputs = F.pad(inputs, (0, pad_cols, 0, pad_rows), mode="replicate")
        return self.net(inputs)[..., :height, :width]


@dataclass
class EarlyFusionRun:
    """A trained U-Net, the card that tells evaluation its classes and normalisation, and the run's record."""

    model: EarlyFusionUNet
    card: ModelCard
    summary: dict


def train_early_fusion(config: TrainConfig, log: Callable[[str], None] | None = None) -> EarlyFusionRun:
    """Train the U-Net with ``config``'s data, crops, batch, optimiser, schedule, seed, threads and budget.

    The loop is GeoFuse's single-process loop without what the U-Net has no use for (the alignment loss,
    AMP on CPU, resume, validation during training): the crops of step k are those a GeoFuse run with the
    same seed sees, and with ``train.max_minutes`` the schedule decays to the step at which the budget
    will end, as in :func:`~geofuse.backend.training.train`. ``<train.output>/summary.json`` records the
    steps, final loss and time.

    Raises:
        MissingExtraError: Without the ``bench`` extra.
    """
    import_smp()
    run = config.train
    if run.threads:
        torch.set_num_threads(run.threads)
    data = prepare_data(config)
    device = resolve_device(run.device)
    normalization = config.normalization()
    torch.manual_seed(run.seed)
    model = EarlyFusionUNet(len(data.classes), len(data.optical_bands)).to(device).train()
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.optim.lr, weight_decay=config.optim.weight_decay
    )
    total, budget_s = config.total_steps, run.max_minutes * 60.0
    horizon = [total]
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, config.optim, horizon[0])
    )
    crops = RandomCropDataset(
        data.train, run.crop_size, run.steps_per_epoch * run.batch_size, normalization, seed=run.seed
    )
    clock = BUDGET_CLOCKS[run.budget_clock]
    started, wall_started = clock(), time.perf_counter()
    step, loss_value, out_of_time = 0, float("nan"), False
    while step < total and not out_of_time:
        crops.set_epoch(step // run.steps_per_epoch)
        loader = DataLoader(crops, batch_size=run.batch_size, drop_last=True, num_workers=run.workers)
        for batch in loader:
            logits = model(batch["optical"].to(device), batch["elevation"].to(device))
            loss = F.cross_entropy(logits, batch["mask"].to(device), ignore_index=IGNORE_INDEX)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step, loss_value = step + 1, float(loss.detach())
            elapsed = clock() - started
            if budget_s:
                out_of_time = elapsed >= budget_s
                horizon[0] = min(total, step + max(int((budget_s - elapsed) / (elapsed / step)), 1))
            if step >= total or out_of_time or step % run.steps_per_epoch == 0:
                break
    model.eval()
    summary = {
        "model": f"early-fusion U-Net ({ENCODER}, segmentation_models_pytorch)",
        "seed": run.seed,
        "steps": step,
        "final_loss": loss_value,
        "budget_clock": run.budget_clock,
        "seconds": round(time.perf_counter() - wall_started, 1),
    }
    output = Path(run.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if log is not None:
        log(f"U-Net seed {run.seed}: {step} steps, loss {loss_value:.4f}")
    card = ModelCard(
        config.model_config(len(data.classes), len(data.optical_bands)),
        data.classes,
        normalization,
        data.optical_bands,
        data.gsd_m,
        summary,
    )
    return EarlyFusionRun(model, card, summary)
