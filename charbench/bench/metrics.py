"""Classification metrics from a confusion matrix, in numpy (top-k comes from the logits, counted during eval).

Conventions follow scikit-learn: per-class recall is ``None`` for a class with no test images, balanced accuracy
is the mean recall over classes that have images, and macro-F1 averages F1 over classes that appear in the true
labels or the predictions.
"""

from __future__ import annotations

import numpy as np


def confusion_matrix(targets: np.ndarray, preds: np.ndarray, num_classes: int) -> np.ndarray:
    """``[true, predicted]`` counts as int64 ``[C, C]``."""
    targets = np.asarray(targets, dtype=np.int64)
    preds = np.asarray(preds, dtype=np.int64)
    flat = np.bincount(targets * num_classes + preds, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def per_class_recall(cm: np.ndarray) -> list[float | None]:
    """Recall (per-class accuracy) of every class; None where the class has no true images."""
    support = cm.sum(axis=1)
    diag = np.diag(cm)
    return [float(d / s) if s else None for d, s in zip(diag, support)]


def balanced_accuracy(cm: np.ndarray) -> float:
    """Mean per-class recall over classes that have true images."""
    recalls = [r for r in per_class_recall(cm) if r is not None]
    return float(np.mean(recalls)) if recalls else 0.0


def macro_f1(cm: np.ndarray) -> float:
    """F1 averaged over the classes present in the true labels or the predictions."""
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    present = (cm.sum(axis=0) + cm.sum(axis=1)) > 0
    if not present.any():
        return 0.0
    f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=(2 * tp + fp + fn) > 0)
    return float(f1[present].mean())


def most_confused(cm: np.ndarray, class_names: list[str], k: int = 10) -> list[dict]:
    """The ``k`` largest off-diagonal cells: true class, predicted class, count and share of the true class."""
    off = cm.astype(np.int64).copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(off, axis=None, kind="stable")[::-1][:k]
    support = cm.sum(axis=1)
    pairs = []
    for cell in flat:
        t, p = divmod(int(cell), cm.shape[1])
        if off[t, p] == 0:
            break
        pairs.append(
            {
                "true": class_names[t],
                "predicted": class_names[p],
                "true_index": t,
                "predicted_index": p,
                "count": int(off[t, p]),
                "fraction_of_true": float(off[t, p] / support[t]),
            }
        )
    return pairs


def summarize(cm: np.ndarray, class_names: list[str], loss_sum: float, top5_correct: int, k: int = 10) -> dict:
    """Every accuracy figure of the report from one evaluation's confusion matrix, loss sum and top-5 count."""
    total = int(cm.sum())
    correct = int(np.trace(cm))
    return {
        "count": total,
        "top1": correct / total if total else 0.0,
        "top5": top5_correct / total if total else 0.0,
        "balanced_accuracy": balanced_accuracy(cm),
        "macro_f1": macro_f1(cm),
        "loss": loss_sum / total if total else float("nan"),
        "per_class_accuracy": dict(zip(class_names, per_class_recall(cm))),
        "most_confused": most_confused(cm, class_names, k),
    }
