"""Evaluation metrics: accuracy, balanced accuracy, macro and weighted P/R/F1 (macro-F1 with a bootstrap
interval), per class, confusion."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

BOOTSTRAP_RESAMPLES = 1000
INTERVAL_LEVEL = 0.95
BOOTSTRAP_CHUNK = 2_000_000  # resampled stars held in memory at once


def macro_f1_from_confusion(confusion: np.ndarray, scored: np.ndarray | None = None) -> np.ndarray:
    """Macro-F1 of confusion matrices [..., k, k] (rows true, columns predicted): the mean over all k
    classes (or the ``scored`` class indices) of 2 TP / (predicted + actual), 0 for a class neither
    present nor predicted (as scikit-learn's ``zero_division=0``)."""
    true_positive = np.diagonal(confusion, axis1=-2, axis2=-1).astype(float)
    denominator = confusion.sum(axis=-1) + confusion.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denominator > 0, 2 * true_positive / denominator, 0.0)
    return (f1 if scored is None else f1[..., scored]).mean(axis=-1)


def bootstrap_macro_f1(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int, *,
                       resamples: int = BOOTSTRAP_RESAMPLES, level: float = INTERVAL_LEVEL,
                       seed: int = 0, scored: np.ndarray | None = None) -> tuple[float, float]:
    """Percentile bootstrap interval of macro-F1: the stars resampled with replacement ``resamples``
    times. How far the score would move on another draw of as many stars, i.e. how large a
    difference between two models scored on these stars can be before it means anything."""
    n = len(y_true)
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    cells = np.asarray(y_true) * num_classes + np.asarray(y_pred)
    scores = []
    per_chunk = max(1, BOOTSTRAP_CHUNK // n)
    for start in range(0, resamples, per_chunk):
        count = min(per_chunk, resamples - start)
        picked = cells[rng.integers(0, n, size=(count, n))] + (num_classes**2) * np.arange(count)[:, None]
        confusion = np.bincount(picked.ravel(), minlength=count * num_classes**2).reshape(count, num_classes, num_classes)
        scores.append(macro_f1_from_confusion(confusion, scored))
    low, high = np.quantile(np.concatenate(scores), [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def evaluate_predictions(y_true: np.ndarray, probabilities: np.ndarray, class_names: list[str], *,
                         interval: bool = True, scored_classes: list[str] | None = None) -> dict:
    """Every metric a run logs, from true class indices and predicted probabilities.

    Args:
        y_true: [n] class indices into ``class_names``.
        probabilities: [n, num_classes].
        interval: also bootstrap macro-F1's interval (callers that keep only point scores skip it).
        scored_classes: the classes the macro and weighted averages run over (default: all); data
            holding only some of a model's classes (real OGLE Cepheids) are scored on those.

    Returns:
        ``scalars`` (flat name -> float; with ``interval``, ``macro_f1_ci_low``/``macro_f1_ci_high``
        bound its 95% bootstrap interval, see ``bootstrap_macro_f1``), ``per_class`` ({class: {precision, recall, f1, support}}),
        ``confusion`` [k, k] counts (rows true, columns predicted), ``confusion_normalised`` (rows sum
        to 1), ``report`` (scikit-learn's text classification report).
    """
    labels = np.arange(len(class_names))
    scored = labels if scored_classes is None else np.array([list(class_names).index(c) for c in scored_classes])
    y_pred = probabilities.argmax(axis=1)
    scalars = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred) if len(np.unique(y_true)) > 1 else float("nan"),
    }
    for average in ("macro", "weighted"):
        precision, recall, f1, _ = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=scored, average=average, zero_division=0)
        scalars.update({f"{average}_precision": precision, f"{average}_recall": recall, f"{average}_f1": f1})
    if interval:
        scalars["macro_f1_ci_low"], scalars["macro_f1_ci_high"] = bootstrap_macro_f1(y_true, y_pred, len(class_names),
                                                                                     scored=scored)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0)
    per_class = {name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                 for name, p, r, f, s in zip(class_names, precision, recall, f1, support)}
    confusion = skm.confusion_matrix(y_true, y_pred, labels=labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalised = np.nan_to_num(confusion / confusion.sum(axis=1, keepdims=True))
    report = skm.classification_report(y_true, y_pred, labels=labels, target_names=class_names, digits=3, zero_division=0)
    return {"scalars": {k: float(v) for k, v in scalars.items()}, "per_class": per_class, "confusion": confusion,
            "confusion_normalised": normalised, "report": report}


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> dict[int, float]:
    """n / (k * n_c) from the training labels (the paper weights classes by their counts)."""
    counts = np.bincount(labels, minlength=num_classes).astype(float)
    weights = len(labels) / (num_classes * np.maximum(counts, 1))
    return {i: float(w) for i, w in enumerate(weights)}


def reliability(y_true: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> dict:
    """Top-label calibration: per confidence bin the mean confidence, the accuracy and the count.

    Returns:
        ``ece`` (expected calibration error: count-weighted mean |accuracy - confidence|) and
        ``bins``: a list of {low, high, confidence, accuracy, count} for the non-empty bins.
    """
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        chosen = which == b
        if not chosen.any():
            continue
        mean_confidence, accuracy = float(confidence[chosen].mean()), float(correct[chosen].mean())
        rows.append({"low": float(edges[b]), "high": float(edges[b + 1]), "confidence": mean_confidence,
                     "accuracy": accuracy, "count": int(chosen.sum())})
        ece += chosen.mean() * abs(accuracy - mean_confidence)
    return {"ece": float(ece), "bins": rows}
