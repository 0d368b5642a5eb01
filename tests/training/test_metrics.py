"""Evaluation metrics on hand-made predictions."""

import numpy as np
import pytest

from sklearn import metrics as skm

from vsexp.training import metrics
from vsexp.training.metrics import (balanced_class_weights, bootstrap_macro_f1, evaluate_predictions,
                                     macro_f1_from_confusion)


def test_macro_weighted_per_class_and_confusion():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 1, 2, 0])
    probabilities = np.eye(3)[y_pred]
    result = evaluate_predictions(y_true, probabilities, ["A", "B", "C"])
    assert result["scalars"]["accuracy"] == pytest.approx(6 / 8)
    f1 = {"A": 2 * 0.75 * 0.75 / 1.5, "B": 2 * (2 / 3) / (2 / 3 + 1), "C": 2 * 0.5 / 1.5}
    assert result["per_class"]["B"]["f1"] == pytest.approx(f1["B"])
    assert result["scalars"]["macro_f1"] == pytest.approx(np.mean(list(f1.values())))
    assert result["scalars"]["weighted_f1"] == pytest.approx((4 * f1["A"] + 2 * f1["B"] + 2 * f1["C"]) / 8)
    np.testing.assert_array_equal(result["confusion"], [[3, 1, 0], [0, 2, 0], [1, 0, 1]])
    np.testing.assert_allclose(result["confusion_normalised"].sum(axis=1), 1.0)
    assert "macro avg" in result["report"]


def test_class_weights_from_counts():
    weights = balanced_class_weights(np.array([0, 0, 0, 1]), 2)
    assert weights == {0: pytest.approx(4 / 6), 1: pytest.approx(2.0)}


def test_macro_f1_from_confusion_matches_scikit_learn_with_an_absent_class():
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 4, 300), rng.integers(0, 4, 300)  # class 4 neither present nor predicted
    confusion = skm.confusion_matrix(y_true, y_pred, labels=range(5))
    expected = skm.f1_score(y_true, y_pred, labels=range(5), average="macro", zero_division=0)
    assert macro_f1_from_confusion(confusion) == pytest.approx(expected)
    assert macro_f1_from_confusion(np.stack([confusion, np.eye(5, dtype=int)])) == pytest.approx([expected, 1.0])


def _noisy_predictions(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 3, n)
    wrong = rng.random(n) < 0.2
    return y_true, np.where(wrong, (y_true + 1) % 3, y_true)


def test_bootstrap_interval_brackets_the_score_and_narrows_with_more_stars():
    y_true, y_pred = _noisy_predictions(200, 0)
    result = evaluate_predictions(y_true, np.eye(3)[y_pred], ["A", "B", "C"])["scalars"]
    assert result["macro_f1_ci_low"] < result["macro_f1"] < result["macro_f1_ci_high"]
    small = np.subtract(*bootstrap_macro_f1(*_noisy_predictions(200, 1), 3)[::-1])
    large = np.subtract(*bootstrap_macro_f1(*_noisy_predictions(3200, 1), 3)[::-1])
    assert 0.15 < large / small < 0.4  # the width shrinks as 1/sqrt(n): 16x the stars, ~1/4 the width
    assert bootstrap_macro_f1(y_true, y_true, 3) == (1.0, 1.0)
    assert bootstrap_macro_f1(y_true, y_pred, 3) == bootstrap_macro_f1(y_true, y_pred, 3)  # seeded


def test_bootstrap_in_chunks_draws_the_same_distribution(monkeypatch):
    y_true, y_pred = _noisy_predictions(500, 2)
    whole = bootstrap_macro_f1(y_true, y_pred, 3)
    monkeypatch.setattr(metrics, "BOOTSTRAP_CHUNK", 500 * 7)  # 143 chunks of 7 resamples
    assert metrics.bootstrap_macro_f1(y_true, y_pred, 3) == pytest.approx(whole, abs=0.01)
