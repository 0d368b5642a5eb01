"""The ``unknown`` answer: calibrated probabilities and a threshold on the top one, both fitted on
the validation split (``UnknownConfig``).

A classifier of N classes calls every star one of them. Stars of other types tend to get lower top
probabilities; a threshold below which the served model answers ``unknown`` turns that into a
decision. Its cost is set by ``rate``, the share of validation stars of the named classes (every
class but ``Other``) called unknown; what it buys is measured on the test split: the share of
``Other`` stars (when the model has that class) called Other or unknown.

>>> import numpy as np
>>> probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.45, 0.55]])
>>> decision = fit_unknown(probabilities, np.array([0, 0, 1, 1]), ["A", "B"], rate=0.25)
>>> labels_with_unknown(scale_temperature(probabilities, decision["temperature"]), ["A", "B"], decision["threshold"])
['A', 'A', 'B', 'unknown']
"""

from __future__ import annotations

import numpy as np

from vsexp.lightcurves.classes import OTHER
from vsexp.models.ensemble import fit_temperature, scale_temperature

UNKNOWN = "unknown"
UNKNOWN_METRICS = ("unknown_share_named", "named_called_other_or_unknown", "other_called_other_or_unknown",
                   "other_called_unknown")  # unknown_metrics' keys

__all__ = ["UNKNOWN", "UNKNOWN_METRICS", "fit_unknown", "labels_with_unknown", "scale_temperature", "unknown_metrics"]


def fit_unknown(probabilities: np.ndarray, labels: np.ndarray, class_names: list[str], rate: float) -> dict:
    """``{"temperature", "threshold", "rate"}`` from the validation split's probabilities [n, C] and
    class indices [n]: the temperature minimising the log loss, then the ``rate`` quantile of the
    calibrated top probability of the stars of the named classes."""
    temperature = fit_temperature(probabilities, labels)
    top = scale_temperature(probabilities, temperature).max(axis=1)
    named = np.isin(labels, [i for i, name in enumerate(class_names) if name != OTHER])
    threshold = float(np.quantile(top[named], rate)) if rate > 0 and named.any() else 0.0
    return {"temperature": temperature, "threshold": threshold, "rate": rate}


def labels_with_unknown(probabilities: np.ndarray, class_names: list[str], threshold: float) -> list[str]:
    """The most probable class of each row, or ``unknown`` where its probability is below ``threshold``."""
    best = probabilities.argmax(axis=1)
    confident = probabilities[np.arange(len(best)), best] >= threshold
    return [class_names[i] if sure else UNKNOWN for i, sure in zip(best, confident)]


def unknown_metrics(labels: np.ndarray, probabilities: np.ndarray, class_names: list[str], threshold: float) -> dict:
    """What the decision does to a split: ``unknown_share_named``, the share of stars of the named
    classes called unknown; ``named_called_other_or_unknown``, of them called Other or unknown (their
    cost); and with an ``Other`` class, ``other_called_other_or_unknown`` (what it buys) and
    ``other_called_unknown``."""
    answers = np.array(labels_with_unknown(probabilities, class_names, threshold))
    truth = np.array(class_names)[labels]
    named, other = truth != OTHER, truth == OTHER
    not_named = (answers == UNKNOWN) | (answers == OTHER)
    metrics = {"unknown_share_named": float(np.mean(answers[named] == UNKNOWN)) if named.any() else 0.0,
               "named_called_other_or_unknown": float(np.mean(not_named[named])) if named.any() else 0.0}
    if other.any():
        metrics.update(other_called_other_or_unknown=float(np.mean(not_named[other])),
                       other_called_unknown=float(np.mean(answers[other] == UNKNOWN)))
    return metrics
