"""Folded curves: the right period (2P for eclipsing binaries), phase 0 at maximum light."""

import numpy as np

from tests.conftest import sine_curve
from vsexp.representations.features import FEATURE_NAMES, extract_features
from vsexp.representations.folded import fold, folding_period


def test_sine_folds_at_its_period_with_maximum_light_first():
    times, mags, errors = sine_curve(n=200, period=0.6, amplitude=0.4, span=800.0)
    features = extract_features([(times, mags, errors)])[0]
    assert folding_period(features) == np.float64(folding_period(features))
    assert abs(folding_period(features) - 0.6) < 0.001
    folded = fold(times, mags, errors, folding_period(features), 32)
    assert folded.shape == (32, 2)
    assert np.argmin(folded[:, 0]) in (0, 31)  # brightest (smallest magnitude) at phase 0
    assert np.isclose(folded[:, 1].sum(), 1.0)


def test_contact_binary_folds_at_its_period_whichever_peak_the_features_take():
    rng = np.random.default_rng(3)
    times = np.sort(rng.uniform(0, 1500, 300))
    period = 0.37
    phase = times / period
    mags = 15 + 0.3 * np.cos(4 * np.pi * phase) + 0.06 * np.cos(2 * np.pi * phase) + rng.normal(0, 0.01, 300)
    curve = (times, mags, np.full(300, 0.01))
    highest_peak = extract_features([curve], version=1)[0]  # the periodogram's highest peak: P / 2
    assert abs(10 ** highest_peak[FEATURE_NAMES.index("log_period")] - period / 2) < 0.002
    assert abs(folding_period(highest_peak) - period) < 0.003  # doubled by the fit at twice the period
    best_fit = extract_features([curve])[0]  # version 2: the peak whose fit explains most is P itself
    assert abs(10 ** best_fit[FEATURE_NAMES.index("log_period")] - period) < 0.003
    assert abs(folding_period(best_fit) - period) < 0.003  # and it is not doubled again


def test_undefined_period_gives_zeros():
    times, mags, errors = sine_curve(n=20)
    assert not fold(times, mags, errors, float("nan"), 16).any()
