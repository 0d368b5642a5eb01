"""Combining classifiers: temperature-scaled members, then probability averaging or stacking.

Every member gives class probabilities for the same stars. Each member is first calibrated by
temperature scaling (one temperature per member, fitted on the validation split by minimising the
log loss: ``p ∝ p_member ** (1 / T)``), then the calibrated probabilities are combined:

- ``average``: their mean;
- ``stacking``: a class-balanced multinomial logistic regression on the members' log-probabilities,
  its regularisation chosen by stratified cross-validation on the validation split.

Only the validation split is used to fit the combiner; the test split stays untouched.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold

from vsexp.config import COMBINATION_METHODS, check_choices
from vsexp.errors import ConfigError

METHODS = COMBINATION_METHODS
PROBABILITY_FLOOR = 1e-6  # forests give exact zeros; their logs must stay finite


def _log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    clipped = np.clip(probabilities, PROBABILITY_FLOOR, 1.0)
    return np.log(clipped / clipped.sum(axis=1, keepdims=True))


def scale_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities sharpened (T < 1) or softened (T > 1): softmax(log p / T)."""
    return np.exp(log_softmax(_log_probabilities(probabilities) / temperature, axis=1))


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the mean log loss of ``labels`` (searched over 0.05..20)."""
    log_p = _log_probabilities(probabilities)
    rows = np.arange(len(labels))

    def log_loss(log_t: float) -> float:
        return -float(log_softmax(log_p / np.exp(log_t), axis=1)[rows, labels].mean())

    return float(np.exp(minimize_scalar(log_loss, bounds=(np.log(0.05), np.log(20.0)), method="bounded").x))


class ProbabilityCombiner:
    """Calibrates and combines the probabilities of several members (see the module docstring).

    Attributes (after ``fit``):
        temperatures: one per member.
        stacker: the fitted logistic regression (``stacking`` only).
    """

    def __init__(self, method: str = "stacking", seed: int = 0):
        check_choices("combination method", method, METHODS)
        self.method, self.seed = method, seed
        self.temperatures: list[float] = []
        self.stacker = None

    def calibrated(self, member_probabilities: list[np.ndarray]) -> list[np.ndarray]:
        if len(member_probabilities) != len(self.temperatures):
            raise ConfigError(f"the combiner was fitted on {len(self.temperatures)} members, "
                              f"got {len(member_probabilities)}")
        return [scale_temperature(p, t) for p, t in zip(member_probabilities, self.temperatures)]

    def fit(self, member_probabilities: list[np.ndarray], labels: np.ndarray) -> "ProbabilityCombiner":
        """Fit the temperatures and (for stacking) the logistic regression on validation predictions."""
        if len(member_probabilities) < 2:
            raise ConfigError("combining needs at least two members")
        self.temperatures = [fit_temperature(p, labels) for p in member_probabilities]
        if self.method == "stacking":
            counts = np.bincount(labels, minlength=member_probabilities[0].shape[1])
            folds = min(5, int(counts.min()))
            if folds < 2:
                raise ConfigError("stacking needs at least two validation stars of every class")
            self.stacker = LogisticRegressionCV(
                Cs=np.logspace(-3, 2, 11), cv=StratifiedKFold(folds, shuffle=True, random_state=self.seed),
                class_weight="balanced", scoring="f1_macro", max_iter=2000,
            ).fit(self._stack_features(member_probabilities), labels)
        return self

    def _stack_features(self, member_probabilities: list[np.ndarray]) -> np.ndarray:
        return np.hstack([_log_probabilities(p) for p in self.calibrated(member_probabilities)])

    def predict_proba(self, member_probabilities: list[np.ndarray]) -> np.ndarray:
        if self.method == "average":
            return np.mean(self.calibrated(member_probabilities), axis=0)
        return self.stacker.predict_proba(self._stack_features(member_probabilities))
