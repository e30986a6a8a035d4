"""Segmentation metrics from a confusion matrix: OA, per-class precision/recall/F1/IoU, mF1, mIoU.

The confusion matrix is a plain int64 tensor (rows: reference class, columns: predicted class), so
partial matrices from several processes or batches are merged by summing them (``dist.all_reduce``).

Undefined values are explicit, never NaN: a ratio with a zero denominator is ``None`` (JSON ``null``).
A class absent from both the reference and the prediction therefore has precision, recall, F1 and IoU
``None``, is left out of the means, and is listed in ``SegmentationMetrics.undefined``. A class absent
from the reference but predicted somewhere has recall ``None`` and precision, F1 and IoU 0, and counts in
the means (it is a real error). F1 is computed as 2·TP / (2·TP + FP + FN), which equals the harmonic mean
of precision and recall wherever both exist. A mean over classes that are all undefined is ``None``.

ISPRS convention: mF1 and mIoU over the five classes without clutter (:data:`ISPRS_MEAN_CLASSES`), and
also over all classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor

from geofuse.backend.classes import IGNORE_INDEX

ISPRS_MEAN_CLASSES: tuple[int, ...] = (0, 1, 2, 3, 4)
"""Classes averaged in the ISPRS benchmark's mF1/mIoU: all but clutter (index 5)."""


def confusion_matrix(
    prediction: Tensor, target: Tensor, num_classes: int, ignore_index: int = IGNORE_INDEX
) -> Tensor:
    """Count (reference, predicted) class pairs.

    Args:
        prediction: Predicted class indices, any shape.
        target: Reference class indices, same shape; pixels equal to ``ignore_index`` are not counted.
        num_classes: K.
        ignore_index: Reference value to skip.

    Returns:
        int64 tensor (K, K) on the inputs' device; entry [i, j] counts reference i predicted as j.

    Raises:
        ValueError: If shapes differ or a counted value is outside 0..K-1.
    """
    if prediction.shape != target.shape:
        raise ValueError(f"prediction shape {tuple(prediction.shape)} != target shape {tuple(target.shape)}")
    prediction, target = prediction.reshape(-1).long(), target.reshape(-1).long()
    keep = target != ignore_index
    prediction, target = prediction[keep], target[keep]
    for name, values in (("prediction", prediction), ("target", target)):
        if values.numel() and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(
                f"{name} holds values outside 0..{num_classes - 1} "
                f"(min {int(values.min())}, max {int(values.max())}; ignore index {ignore_index})"
            )
    counts = torch.bincount(target * num_classes + prediction, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


class ConfusionMatrix:
    """Accumulates a confusion matrix over batches; ``matrix`` is the summable state."""

    def __init__(
        self, num_classes: int, ignore_index: int = IGNORE_INDEX, device: str | torch.device = "cpu"
    ) -> None:
        """Start from zeros.

        Args:
            num_classes: K.
            ignore_index: Reference value to skip.
            device: Where the counts live (the GPU for NCCL all_reduce).
        """
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64, device=device)

    def update(self, prediction: Tensor, target: Tensor) -> None:
        """Add a batch of predicted and reference class indices (same shape)."""
        self.matrix += confusion_matrix(
            prediction.to(self.matrix.device),
            target.to(self.matrix.device),
            self.num_classes,
            self.ignore_index,
        )

    def reset(self) -> None:
        """Zero the counts, e.g. at the start of an epoch."""
        self.matrix.zero_()


@dataclass(frozen=True)
class ClassScores:
    """Scores of one class; ``None`` where the ratio's denominator is zero."""

    name: str
    precision: float | None
    recall: float | None
    f1: float | None
    iou: float | None
    support: int
    predicted: int


@dataclass(frozen=True)
class SegmentationMetrics:
    """All scores of one evaluation.

    Attributes:
        overall_accuracy: Correct / counted pixels (``None`` if nothing was counted).
        classes: Per-class scores, by class index.
        mean_classes: The class subset of ``mean_f1`` / ``mean_iou``.
        mean_f1: Mean F1 over ``mean_classes`` whose F1 is defined.
        mean_iou: Mean IoU over ``mean_classes`` whose IoU is defined.
        mean_f1_all: Mean F1 over all classes whose F1 is defined.
        mean_iou_all: Mean IoU over all classes whose IoU is defined.
        undefined: Classes absent from both reference and prediction (left out of every mean).
        total: Pixels counted.
    """

    overall_accuracy: float | None
    classes: tuple[ClassScores, ...]
    mean_classes: tuple[int, ...]
    mean_f1: float | None
    mean_iou: float | None
    mean_f1_all: float | None
    mean_iou_all: float | None
    undefined: tuple[int, ...]
    total: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; undefined values are ``None`` (``null``)."""
        return {
            "overall_accuracy": self.overall_accuracy,
            "mean_classes": list(self.mean_classes),
            "mean_f1": self.mean_f1,
            "mean_iou": self.mean_iou,
            "mean_f1_all": self.mean_f1_all,
            "mean_iou_all": self.mean_iou_all,
            "undefined": list(self.undefined),
            "total": self.total,
            "classes": [asdict(scores) for scores in self.classes],
        }


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _mean(values: Sequence[float | None]) -> float | None:
    defined = [value for value in values if value is not None]
    return sum(defined) / len(defined) if defined else None


def compute_metrics(
    matrix: Tensor, class_names: Sequence[str], mean_classes: Sequence[int] = ISPRS_MEAN_CLASSES
) -> SegmentationMetrics:
    """Score a confusion matrix (see the module docstring for the undefined-value rules).

    Args:
        matrix: (K, K) counts, rows reference, columns prediction.
        class_names: K names.
        mean_classes: Classes averaged in ``mean_f1`` / ``mean_iou`` (default: ISPRS, clutter excluded).

    Raises:
        ValueError: If shapes disagree or a subset index is out of range.
    """
    counts = matrix.detach().to("cpu", torch.int64)
    num_classes = len(class_names)
    if counts.shape != (num_classes, num_classes):
        raise ValueError(f"confusion matrix shape {tuple(counts.shape)} does not match {num_classes} classes")
    if any(not 0 <= index < num_classes for index in mean_classes):
        raise ValueError(f"mean_classes {tuple(mean_classes)} must lie in 0..{num_classes - 1}")
    tp = counts.diagonal().tolist()
    support = counts.sum(dim=1).tolist()
    predicted = counts.sum(dim=0).tolist()
    total = int(counts.sum())
    scores = []
    for index, name in enumerate(class_names):
        fp, fn = predicted[index] - tp[index], support[index] - tp[index]
        scores.append(
            ClassScores(
                name=name,
                precision=_ratio(tp[index], predicted[index]),
                recall=_ratio(tp[index], support[index]),
                f1=_ratio(2 * tp[index], 2 * tp[index] + fp + fn),
                iou=_ratio(tp[index], tp[index] + fp + fn),
                support=support[index],
                predicted=predicted[index],
            )
        )
    subset = [scores[index] for index in mean_classes]
    return SegmentationMetrics(
        overall_accuracy=_ratio(sum(tp), total),
        classes=tuple(scores),
        mean_classes=tuple(mean_classes),
        mean_f1=_mean([s.f1 for s in subset]),
        mean_iou=_mean([s.iou for s in subset]),
        mean_f1_all=_mean([s.f1 for s in scores]),
        mean_iou_all=_mean([s.iou for s in scores]),
        undefined=tuple(i for i, s in enumerate(scores) if s.support == 0 and s.predicted == 0),
        total=total,
    )
