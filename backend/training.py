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

The configuration is :class:`~geofuse.backend.train_config.TrainConfig`; ``configs/reference.toml`` lists
every key with its default. The tiles come from :mod:`~geofuse.backend.data.kinds`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader

from .checkpoint import ModelCard, load_checkpoint, save_checkpoint
from .classes import IGNORE_INDEX
from .data.folder import GridWindowDataset
from .data.kinds import prepare_data, training_crops
from .device import resolve_device
from .distributed import Distributed, any_rank, parallel, process_group, rank_loader
from .errors import Cancelled
from .finetune import lineage, set_encoders_frozen, start_from
from .metrics import ConfusionMatrix, SegmentationMetrics, compute_metrics
from .metrics_log import MetricsLog
from .models.network import GeoFuseNet
from .optimisation import Budget, Optimiser
from .train_config import TrainConfig

FINAL_NAME = "model.pt"
RESUME_NAME = "last.pt"


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


def _step_seed(seed: int, rank: int, step: int) -> int:
    """A torch seed for (seed, rank, step), so every step's randomness is fixed whatever was resumed."""
    return int(np.random.SeedSequence((seed, rank, step)).generate_state(1, np.uint64)[0]) >> 1


def _model_inputs(batch: Mapping[str, Tensor], device: torch.device, zero_elevation: bool) -> tuple:
    optical = batch["optical"].to(device, non_blocking=True)
    elevation = batch["elevation"].to(device, non_blocking=True)
    if zero_elevation:
        elevation = torch.zeros_like(elevation)
    return optical, elevation, batch["mask"].to(device, non_blocking=True)


class Trainer:
    """This process's part of a training run: the network, its optimiser and schedule, the data, the clock.

    :meth:`fit` runs :meth:`step` over each epoch's batches, :meth:`validate` after every ``val_every``-th
    epoch and after the last step, :meth:`save_resumable` every ``checkpoint_every`` steps and on cancel,
    and :meth:`save_final` at the end. Only rank 0 writes files, the metrics log and the progress bar.

    Args:
        config, resume: As for :func:`train`.
        world, device: This process's place in the run, and where it trains.
        warn: Receives warnings for the user (rank 0 only).

    Raises:
        CheckpointError: If ``resume`` is not a resumable checkpoint of this configuration.
        ValueError: For settings that cannot run here (encoder freezing under DDP, unusable data).
    """

    def __init__(
        self,
        config: TrainConfig,
        world: Distributed,
        device: torch.device,
        warn: Callable[[str], None],
        resume: str | Path | None = None,
    ) -> None:
        run = config.train
        if run.threads:
            torch.set_num_threads(run.threads)
        if world.enabled and run.freeze_encoder_steps:
            raise ValueError("train.freeze_encoder_steps is not supported with several processes (DDP)")
        self.config, self.world, self.device = config, world, device
        self.base = load_checkpoint(run.init) if run.init else None
        self.data = prepare_data(config, world, self.base.card if self.base else None)
        self.output = Path(run.output)
        if world.is_main:
            self.output.mkdir(parents=True, exist_ok=True)
            for note in self.data.notes:
                warn(note)
        self.normalization = self.base.card.normalization if self.base else config.normalization()
        self.network = self._build_network()
        self.total = config.total_steps
        self.budget = Budget(self.total, run.max_minutes, run.budget_clock)
        self.optimiser = Optimiser(self.network.parameters(), config.optim, self.budget, device, run.amp)
        self.done, self.losses, self.resumed = 0, [], resume is not None
        if resume is not None:
            self._restore(Path(resume))
        self.model = parallel(self.network, world, device)
        self.epoch_length = run.steps_per_epoch * run.batch_size * world.world_size
        self.train_set = training_crops(
            self.data, config.data, run.crop_size, self.epoch_length, self.normalization, run.seed
        )
        self.val_loader = self._val_loader()
        self.card_training = self._card_training()
        self.metrics: SegmentationMetrics | None = None
        self.log: MetricsLog | None = None
        self.bar: Any = None
        self.started = 0.0
        self.out_of_time = False

    def _build_network(self) -> GeoFuseNet:
        """The base checkpoint's network (with any new classes) or a fresh one, seeded by ``train.seed``."""
        torch.manual_seed(self.config.train.seed)
        if self.base is not None:
            network = start_from(self.base, self.data.classes)
        else:
            config = self.config.model_config(len(self.data.classes), len(self.data.optical_bands))
            network = GeoFuseNet(config)
        return network.to(self.device).train()

    def _restore(self, path: Path) -> None:
        """Continue from a resumable checkpoint: weights, optimiser, scheduler, scaler and step."""
        checkpoint = load_checkpoint(path)
        self.config.check_resumable(checkpoint.train_state, path)
        self.network.load_state_dict(checkpoint.state_dict)
        state = checkpoint.train_state or {}
        self.optimiser.load_state_dict(state)
        self.done, self.losses = int(state["step"]), [float(v) for v in state["losses"]]

    def _val_loader(self) -> DataLoader | None:
        """This rank's share of the validation windows (None without validation tiles)."""
        if not self.data.val:
            return None
        run = self.config.train
        windows = GridWindowDataset(self.data.val, run.val_window, self.normalization)
        return rank_loader(windows, len(windows), self.world, run.batch_size, run.workers)

    def _card_training(self) -> dict[str, Any]:
        """The card's training summary, less what changes as the run goes (steps, loss, metrics)."""
        run = self.config.train
        summary: dict[str, Any] = {
            "data": self.data.summary,
            "seed": run.seed,
            "generator_seed": self.data.summary.get("generator_seed"),
            "variant": self.network.config.variant,
            "lambda_align": self.config.model.lambda_align,
            "zero_elevation": run.zero_elevation,
            "crop_size": run.crop_size,
            "batch_size": run.batch_size,
            "world_size": self.world.world_size,
            "total_steps": self.total,
            "max_minutes": run.max_minutes,
            "budget_clock": run.budget_clock,
            "freeze_encoder_steps": run.freeze_encoder_steps,
            "config": self.config.to_dict(),
        }
        if self.base is not None:
            new = [info.name for info in self.data.classes[len(self.base.card.classes) :]]
            summary["base_model"] = lineage(run.init, self.base, new)
            summary["new_classes"] = new
        return summary

    def card(self) -> ModelCard:
        """The model card as of now: steps done, last loss, last validation's scores."""
        final_loss = self.losses[-1] if self.losses else None
        summary = dict(self.card_training, steps=self.done, final_loss=final_loss)
        summary["metrics"] = self.metrics.to_dict() if self.metrics is not None else None
        data = self.data
        return ModelCard(
            self.network.config, data.classes, self.normalization, data.optical_bands, data.gsd_m, summary
        )

    def fit(
        self, progress: Callable[[Progress], None] | None = None, cancel: Callable[[], bool] | None = None
    ) -> Path:
        """Train to the last step (or the end of the time budget) and save the final model; the arguments,
        the result and the errors are :func:`train`'s."""
        if self.world.is_main:
            from tqdm import tqdm

            self.log = MetricsLog(self.output, self.data.classes, self.resumed)
            self.bar = tqdm(
                total=self.total, initial=self.done, unit="step", dynamic_ncols=True, desc="train"
            )
        self.started = time.perf_counter()
        self.budget.start(self.done)
        try:
            while self.done < self.total and not self.out_of_time:
                self._epoch(progress, cancel)
        finally:
            if self.bar is not None:
                self.bar.close()
            if self.log is not None:
                self.log.close()
        return self.save_final()

    def _epoch(self, progress: Callable[[Progress], None] | None, cancel: Callable[[], bool] | None) -> None:
        """Steps until the end of the current epoch, of the run or of the time budget."""
        run = self.config.train
        epoch, start_batch = divmod(self.done, run.steps_per_epoch)
        self.train_set.set_epoch(epoch)
        batches = rank_loader(
            self.train_set,
            self.epoch_length,
            self.world,
            run.batch_size,
            run.workers,
            start_batch,
            drop_last=True,
            pin_memory=self.device.type == "cuda",
        )
        for batch in batches:
            if cancel is not None and any_rank(cancel(), self.world, self.device):
                raise TrainingCancelled(self.save_resumable(), self.done)
            loss, ce = self.step(batch)
            lr = self.optimiser.lr
            if self.bar is not None:
                self.bar.update(1)
                self.bar.set_postfix(loss=f"{loss:.4f}", ce=f"{ce:.4f}", lr=f"{lr:.2e}")
            fraction, eta, self.out_of_time = self.budget.after(
                self.done, lambda spent: any_rank(spent, self.world, self.device)
            )
            finished = self.done >= self.total or self.out_of_time
            if progress is not None and self.world.is_main:
                progress(Progress(self.done, self.total, loss, lr, fraction=fraction, eta_s=eta))
            if self.done % run.checkpoint_every == 0 and not finished:
                self.save_resumable()
            end_of_epoch = self.done % run.steps_per_epoch == 0
            if finished or (end_of_epoch and (self.done // run.steps_per_epoch) % run.val_every == 0):
                self.metrics = self.validate(epoch, lr)
                if self.metrics is not None and progress is not None and self.world.is_main:
                    progress(Progress(self.done, self.total, loss, lr, self.metrics, fraction, eta))
            if finished or end_of_epoch:
                return

    def step(self, batch: Mapping[str, Tensor]) -> tuple[float, float]:
        """One optimiser step on ``batch``, its randomness fixed by (seed, rank, step).

        Returns:
            The loss L = CE + λ·L_align and its cross-entropy part.
        """
        run = self.config.train
        torch.manual_seed(_step_seed(run.seed, self.world.rank, self.done))
        if run.freeze_encoder_steps:
            set_encoders_frozen(self.network, self.done < run.freeze_encoder_steps)
        optical, elevation, mask = _model_inputs(batch, self.device, run.zero_elevation)
        with self.optimiser.autocast():
            logits, align = self.model(optical, elevation)
            ce = F.cross_entropy(logits.float(), mask, ignore_index=IGNORE_INDEX)
        loss = ce + self.config.model.lambda_align * align.float()
        self.optimiser.step(loss)
        self.done += 1
        self.losses.append(float(loss.detach()))
        return self.losses[-1], float(ce.detach())

    def validate(self, epoch: int, lr: float) -> SegmentationMetrics | None:
        """Score the validation windows (the confusion matrix summed over all ranks) and log the scores with
        the epoch's mean loss on rank 0.

        Returns:
            The scores, None when there is no validation data.
        """
        if self.val_loader is None:
            return None
        elapsed = time.perf_counter() - self.started
        matrix = ConfusionMatrix(len(self.data.classes), IGNORE_INDEX, self.device)
        self.network.eval()
        with torch.inference_mode():
            for batch in self.val_loader:
                optical, elevation, mask = _model_inputs(batch, self.device, self.config.train.zero_elevation)
                matrix.update(self.network(optical, elevation).argmax(dim=1), mask)
        self.network.train()
        if self.world.enabled:
            dist.all_reduce(matrix.matrix)
        metrics = compute_metrics(matrix.matrix, [info.name for info in self.data.classes])
        window = self.losses[-self.config.train.steps_per_epoch :]
        if self.log is not None:
            self.log.write(epoch, self.done, sum(window) / len(window), lr, metrics, elapsed)
        return metrics

    def save_resumable(self) -> Path:
        """Write ``<output>/last.pt`` (weights, card, training state) on rank 0; every rank waits for it."""
        path = self.output / RESUME_NAME
        if self.world.is_main:
            state = {"step": self.done, "config": self.config.to_dict(), **self.optimiser.state_dict()}
            state["losses"] = list(self.losses)
            save_checkpoint(path, self.network, self.card(), state)
        self.world.barrier()
        return path

    def save_final(self) -> Path:
        """Write ``<output>/model.pt`` (no training state) on rank 0; every rank waits for it."""
        final = self.output / FINAL_NAME
        if self.world.is_main:
            card = self.card()
            card.training["duration_s"] = round(time.perf_counter() - self.started, 1)
            save_checkpoint(final, self.network, card)
        self.world.barrier()
        return final


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
    with process_group(world, device):
        return Trainer(config, world, device, log or _print_warning, resume).fit(progress, cancel)


def _print_warning(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
