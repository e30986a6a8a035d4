"""Rank 0's record of a training run's validations: a CSV row each, and TensorBoard scalars if it imports."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from .classes import ClassInfo
from .metrics import SegmentationMetrics

METRICS_NAME = "metrics.csv"


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
