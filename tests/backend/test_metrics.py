"""Confusion matrix and scores against hand-computed values, including undefined classes."""

from __future__ import annotations

import json
import math

import pytest
import torch

from geofuse.backend.classes import IGNORE_INDEX
from geofuse.backend.metrics import (
    ISPRS_MEAN_CLASSES,
    ConfusionMatrix,
    compute_metrics,
    confusion_matrix,
)

ISPRS_NAMES = ["impervious surfaces", "building", "low vegetation", "tree", "car", "clutter"]


def test_confusion_matrix_by_hand() -> None:
    target = torch.tensor([[0, 0, 1], [1, 2, 2]])
    prediction = torch.tensor([[0, 1, 1], [1, 2, 0]])
    expected = torch.tensor([[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    assert torch.equal(confusion_matrix(prediction, target, 3), expected)


def test_ignore_index_pixels_are_not_counted() -> None:
    target = torch.tensor([0, IGNORE_INDEX, 1, IGNORE_INDEX])
    prediction = torch.tensor([0, 1, 0, 7])
    assert torch.equal(confusion_matrix(prediction, target, 2), torch.tensor([[1, 0], [1, 0]]))


def test_out_of_range_and_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"prediction holds values outside 0\.\.1"):
        confusion_matrix(torch.tensor([2]), torch.tensor([0]), 2)
    with pytest.raises(ValueError, match="target holds values"):
        confusion_matrix(torch.tensor([0]), torch.tensor([3]), 2)
    with pytest.raises(ValueError, match="shape"):
        confusion_matrix(torch.tensor([0, 1]), torch.tensor([0]), 2)


def test_scores_by_hand() -> None:
    # Rows: reference, columns: prediction.
    matrix = torch.tensor([[5, 1, 0], [2, 3, 1], [0, 0, 4]])
    metrics = compute_metrics(matrix, ["a", "b", "c"], mean_classes=(0, 1))
    a, b, c = metrics.classes
    assert metrics.overall_accuracy == pytest.approx(12 / 16)
    assert (a.precision, a.recall, a.f1, a.iou) == pytest.approx((5 / 7, 5 / 6, 10 / 13, 5 / 8))
    assert (b.precision, b.recall, b.f1, b.iou) == pytest.approx((3 / 4, 3 / 6, 6 / 10, 3 / 7))
    assert (c.precision, c.recall, c.f1, c.iou) == pytest.approx((4 / 5, 1.0, 8 / 9, 4 / 5))
    assert (a.support, a.predicted) == (6, 7)
    assert metrics.mean_f1 == pytest.approx((10 / 13 + 6 / 10) / 2)
    assert metrics.mean_iou == pytest.approx((5 / 8 + 3 / 7) / 2)
    assert metrics.mean_iou_all == pytest.approx((5 / 8 + 3 / 7 + 4 / 5) / 3)
    assert metrics.mean_f1_all == pytest.approx((10 / 13 + 6 / 10 + 8 / 9) / 3)
    assert metrics.undefined == () and metrics.total == 16
    # F1 is the harmonic mean of precision and recall where both exist.
    assert a.f1 == pytest.approx(2 * a.precision * a.recall / (a.precision + a.recall))


def test_class_absent_from_truth_and_prediction_is_none_and_left_out_of_means() -> None:
    matrix = torch.zeros(6, 6, dtype=torch.int64)
    matrix[0, 0], matrix[0, 1], matrix[1, 1], matrix[2, 2], matrix[3, 3], matrix[5, 5] = 8, 2, 6, 4, 4, 3
    metrics = compute_metrics(matrix, ISPRS_NAMES)
    car = metrics.classes[4]
    assert (car.precision, car.recall, car.f1, car.iou) == (None, None, None, None)
    assert metrics.undefined == (4,)
    assert metrics.mean_classes == ISPRS_MEAN_CLASSES
    ious = [8 / 10, 6 / 8, 1.0, 1.0]
    assert metrics.mean_iou == pytest.approx(sum(ious) / 4)
    assert metrics.mean_iou_all == pytest.approx((sum(ious) + 1.0) / 5)
    for value in (metrics.mean_iou, metrics.mean_f1, metrics.mean_iou_all, metrics.mean_f1_all):
        assert value is not None and not math.isnan(value)
    text = json.dumps(metrics.to_dict(), allow_nan=False)
    assert json.loads(text)["classes"][4]["iou"] is None


def test_predicted_but_absent_class_counts_as_an_error() -> None:
    matrix = torch.tensor([[3, 1], [0, 0]])
    metrics = compute_metrics(matrix, ["a", "b"], mean_classes=(0, 1))
    b = metrics.classes[1]
    assert b.recall is None and b.precision == 0.0 and b.iou == 0.0 and b.f1 == 0.0
    assert metrics.undefined == ()
    assert metrics.mean_iou == pytest.approx((3 / 4 + 0.0) / 2)


def test_empty_matrix_gives_none_everywhere() -> None:
    metrics = compute_metrics(torch.zeros(3, 3, dtype=torch.int64), ["a", "b", "c"], mean_classes=(0, 1))
    assert metrics.overall_accuracy is None and metrics.mean_iou is None and metrics.mean_f1_all is None
    assert metrics.undefined == (0, 1, 2)


def test_accumulated_matrices_are_summable_across_processes() -> None:
    generator = torch.Generator().manual_seed(0)
    target = torch.randint(0, 6, (4, 16, 16), generator=generator)
    prediction = torch.randint(0, 6, (4, 16, 16), generator=generator)
    target[0, :2] = IGNORE_INDEX
    whole = confusion_matrix(prediction, target, 6)
    rank0, rank1 = ConfusionMatrix(6), ConfusionMatrix(6)
    rank0.update(prediction[:1], target[:1])
    rank0.update(prediction[1:2], target[1:2])
    rank1.update(prediction[2:], target[2:])
    assert rank0.matrix.dtype == torch.int64
    assert torch.equal(rank0.matrix + rank1.matrix, whole)
    rank0.reset()
    assert int(rank0.matrix.sum()) == 0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="does not match 2 classes"):
        compute_metrics(torch.zeros(3, 3, dtype=torch.int64), ["a", "b"])
    with pytest.raises(ValueError, match="mean_classes"):
        compute_metrics(torch.zeros(2, 2, dtype=torch.int64), ["a", "b"], mean_classes=(0, 4))
