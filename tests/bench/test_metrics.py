"""Metrics from the confusion matrix, checked against hand-computed values."""

import numpy as np
import pytest

from charbench.bench.metrics import (
    balanced_accuracy,
    confusion_matrix,
    macro_f1,
    most_confused,
    per_class_recall,
    summarize,
)

TRUE = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
PRED = np.array([0, 0, 1, 2, 1, 0, 2, 2, 2, 1])


def test_confusion_matrix_counts():
    cm = confusion_matrix(TRUE, PRED, 4)
    assert cm.tolist() == [[2, 1, 1, 0], [1, 1, 0, 0], [0, 1, 3, 0], [0, 0, 0, 0]]
    assert cm.dtype == np.int64


def test_recall_balanced_accuracy_and_f1():
    cm = confusion_matrix(TRUE, PRED, 4)
    assert per_class_recall(cm) == [0.5, 0.5, 0.75, None]  # class 3 has no images
    assert balanced_accuracy(cm) == pytest.approx((0.5 + 0.5 + 0.75) / 3)
    # F1 per class: 2TP / (2TP + FP + FN); class 3 is in neither labels nor predictions, so it is left out
    f1 = [4 / (4 + 1 + 2), 2 / (2 + 2 + 1), 6 / (6 + 1 + 1)]
    assert macro_f1(cm) == pytest.approx(np.mean(f1))


def test_class_only_predicted_counts_in_macro_f1():
    cm = confusion_matrix(np.array([0, 0]), np.array([0, 1]), 2)
    assert macro_f1(cm) == pytest.approx((2 / 3 + 0.0) / 2)
    assert balanced_accuracy(cm) == 0.5


def test_most_confused_orders_by_count():
    cm = np.array([[5, 3, 0], [1, 5, 0], [0, 7, 1]])
    pairs = most_confused(cm, ["a", "b", "c"], k=5)
    assert [(p["true"], p["predicted"], p["count"]) for p in pairs] == [("c", "b", 7), ("a", "b", 3), ("b", "a", 1)]
    assert pairs[0]["fraction_of_true"] == pytest.approx(7 / 8)


def test_summarize():
    cm = confusion_matrix(TRUE, PRED, 4)
    s = summarize(cm, ["a", "b", "c", "d"], loss_sum=5.0, top5_correct=10)
    assert s["count"] == 10 and s["top1"] == pytest.approx(0.6) and s["top5"] == 1.0 and s["loss"] == 0.5
    assert s["per_class_accuracy"]["d"] is None
    empty = summarize(np.zeros((2, 2), np.int64), ["a", "b"], 0.0, 0)
    assert empty["top1"] == 0.0 and empty["count"] == 0
