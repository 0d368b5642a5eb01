"""The probability combiner: temperature scaling, averaging, stacking; the reliability summary."""

import numpy as np
import pytest
from scipy.special import softmax

from vsexp.errors import ConfigError
from vsexp.models.ensemble import ProbabilityCombiner, fit_temperature, scale_temperature
from vsexp.training.metrics import reliability


def _members(n=600, classes=4, seed=0):
    """Labels, two noisy members and the calibrated probabilities.

    The true class's logit is raised by 1.5 over unit Gaussian noise, so the Bayes posterior is
    softmax(1.5 * logits): logits x 4 is over-confident (T = 4 / 1.5), x 0.5 under-confident (T = 1 / 3).
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    logits = rng.normal(0, 1, (n, classes))
    logits[np.arange(n), labels] += 1.5
    return labels, softmax(4 * logits, axis=1), softmax(0.5 * logits, axis=1), softmax(1.5 * logits, axis=1)


def test_temperature_undoes_a_known_sharpening():
    labels, sharp, soft, posterior = _members(n=4000)
    assert fit_temperature(sharp, labels) == pytest.approx(4 / 1.5, rel=0.1)
    assert fit_temperature(soft, labels) == pytest.approx(0.5 / 1.5, rel=0.1)
    np.testing.assert_allclose(scale_temperature(sharp, 4 / 1.5), posterior, atol=0.02)  # up to the 1e-6 floor


def test_calibration_lowers_the_expected_calibration_error():
    labels, sharp, _, _ = _members()
    calibrated = scale_temperature(sharp, fit_temperature(sharp, labels))
    assert reliability(labels, calibrated)["ece"] < reliability(labels, sharp)["ece"] / 2


@pytest.mark.parametrize("method", ["average", "stacking"])
def test_combined_probabilities_are_distributions_at_least_as_good_as_the_weaker_member(method):
    labels, sharp, soft, _ = _members()
    combiner = ProbabilityCombiner(method).fit([sharp[:400], soft[:400]], labels[:400])
    combined = combiner.predict_proba([sharp[400:], soft[400:]])
    assert combined.shape == (200, 4) and np.allclose(combined.sum(axis=1), 1)
    accuracy = (combined.argmax(1) == labels[400:]).mean()
    assert accuracy >= min((p[400:].argmax(1) == labels[400:]).mean() for p in (sharp, soft)) - 0.02


def test_combiner_refuses_bad_use():
    labels, sharp, soft, _ = _members()
    with pytest.raises(ConfigError, match="unknown combination method 'vote'"):
        ProbabilityCombiner("vote")
    with pytest.raises(ConfigError, match="at least two members"):
        ProbabilityCombiner().fit([sharp], labels)
    combiner = ProbabilityCombiner("average").fit([sharp, soft], labels)
    with pytest.raises(ConfigError, match="fitted on 2 members, got 1"):
        combiner.predict_proba([sharp])


def test_reliability_on_a_hand_made_case():
    probabilities = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    summary = reliability(np.array([0, 1, 0, 0]), probabilities, bins=10)
    assert [b["count"] for b in summary["bins"]] == [2, 2]
    assert summary["ece"] == pytest.approx(0.5 * abs(1.0 - 0.6) + 0.5 * abs(0.5 - 0.9))
