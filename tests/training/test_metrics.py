"""Evaluation metrics on hand-made predictions."""

import numpy as np
import pytest

from vsexp.training.metrics import balanced_class_weights, evaluate_predictions


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
