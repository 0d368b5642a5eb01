"""Feature extraction: the batched harmonic fits agree with one least-squares fit per frequency."""

import numpy as np
import pytest

from tests.conftest import sine_curve
from vsexp.representations.features import explained_variances, harmonic_fit, refine_frequency


@pytest.mark.parametrize("harmonics", [1, 2, 4])
def test_batched_explained_variance_equals_one_fit_per_frequency(harmonics):
    times, mags, errors = sine_curve(n=150, period=0.6, amplitude=0.4, span=800.0)
    weights = 1.0 / errors**2
    frequencies = 1 / 0.6 + np.linspace(-0.01, 0.01, 9)
    batched = explained_variances(times, mags, weights, frequencies, harmonics)
    one_by_one = [harmonic_fit(times, mags, weights, f, harmonics)[1] for f in frequencies]
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-9, atol=1e-12)


def test_refined_frequency_is_the_best_fit_near_the_periodogram_peak():
    times, mags, errors = sine_curve(n=200, period=0.6, amplitude=0.4, span=800.0)
    frequency, explained = refine_frequency(times, mags, 1.0 / errors**2, 1 / 0.6 + 0.0008, times[-1] - times[0])
    assert abs(frequency - 1 / 0.6) < 0.0003 and explained > 0.9
    flat = refine_frequency(times, np.full(times.size, 15.0), np.ones(times.size), 1 / 0.6, 800.0)
    assert flat[1] == 0.0  # no variance to explain
