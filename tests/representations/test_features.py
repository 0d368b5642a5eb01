"""Feature extraction: batched harmonic fits equal one fit per frequency; the period choice by version."""

import numpy as np
import pytest

from tests.conftest import sine_curve
from vsexp.representations import features as features_module
from vsexp.representations.features import (FEATURE_NAMES, FEATURE_VERSIONS, FEATURES_VERSION, HARMONIC_NAMES,
                                            SIDEREAL_DAY, best_period, candidate_periods, explained_variances,
                                            extract_features, feature_columns, harmonic_fit, frequency_grid,
                                            refine_frequency)


@pytest.mark.parametrize("spacing", ["even", "uneven"])  # a refinement grid (phasors by recurrence) or any list
@pytest.mark.parametrize("harmonics", [1, 2, 4])
def test_batched_explained_variance_equals_one_fit_per_frequency(harmonics, spacing):
    times, mags, errors = sine_curve(n=150, period=0.6, amplitude=0.4, span=800.0)
    times = times + 53_000.0  # MJD-sized times: large phases
    weights = 1.0 / errors**2
    offsets = np.linspace(-0.01, 0.01, 9) if spacing == "even" else np.array([-0.01, -0.004, 0.0, 0.003, 0.01])
    frequencies = 1 / 0.6 + offsets
    batched = explained_variances(times, mags, weights, frequencies, harmonics)
    one_by_one = [harmonic_fit(times, mags, weights, f, harmonics)[1] for f in frequencies]
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-9, atol=1e-12)


def test_several_refinement_grids_in_one_batch_give_the_numbers_of_one_grid_at_a_time():
    times, mags, errors = sine_curve(n=150, period=0.6, amplitude=0.4, span=800.0)
    weights = 1.0 / errors**2
    grids = np.stack([features_module.refinement_candidates(f, 800.0) for f in (1 / 0.6, 1 / 0.3, 2.9)])
    batched = explained_variances(times, mags, weights, grids, 2)
    one_by_one = np.concatenate([explained_variances(times, mags, weights, grid, 2) for grid in grids])
    # equal to rounding: numpy's vectorised loops may sum a batch in another order on another CPU
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-12, atol=0)


def test_explained_variance_stays_a_fraction_where_the_normal_equations_are_singular():
    times, mags, errors = sine_curve(n=150, period=0.6, amplitude=0.4, span=800.0)
    frequencies = np.array([0.0, 1e-7, 1 / 0.6])  # a zero frequency repeats the constant: a singular Gram matrix
    explained = explained_variances(times, mags, 1.0 / errors**2, frequencies, 2)
    assert np.all((explained >= -1e-9) & (explained <= 1 + 1e-9)) and explained[2] > 0.9


def test_refined_frequency_is_the_best_fit_near_the_periodogram_peak():
    times, mags, errors = sine_curve(n=200, period=0.6, amplitude=0.4, span=800.0)
    frequency, explained = refine_frequency(times, mags, 1.0 / errors**2, 1 / 0.6 + 0.0008, times[-1] - times[0])
    assert abs(frequency - 1 / 0.6) < 0.0003 and explained > 0.9
    flat = refine_frequency(times, np.full(times.size, 15.0), np.ones(times.size), 1 / 0.6, 800.0)
    assert flat[1] == 0.0  # no variance to explain


def test_best_period_prefers_the_candidate_whose_fit_explains_most():
    times, mags, errors = sine_curve(n=200, period=0.6, amplitude=0.4, span=800.0)
    alias = 1 / (1 / 0.6 + 1.0)  # the one-day alias of the true period
    assert best_period(times, mags, errors, np.array([alias, 0.6, np.nan])) == 0.6
    assert best_period(times, mags, errors, np.array([np.nan, np.nan, np.nan])) is not None


def test_feature_versions_differ_only_in_the_period_choice_and_unknown_ones_are_refused():
    curves = [sine_curve(n=120, period=p, amplitude=0.3, seed=s, span=900.0) for s, p in enumerate((0.4, 0.7, 3.1))]
    new, old = extract_features(curves), extract_features(curves, version=1)
    statistics = len(FEATURE_NAMES) - len(HARMONIC_NAMES) - 3
    np.testing.assert_array_equal(new[:, :statistics], old[:, :statistics])  # the periodogram statistics are shared
    assert FEATURES_VERSION == 2 and FEATURE_VERSIONS == (1, 2, 3)
    np.testing.assert_array_equal(extract_features(curves, version=3)[:, :statistics], new[:, :statistics])
    with pytest.raises(ValueError, match="unknown feature version 4"):
        extract_features(curves, version=4)


def test_version_3_also_tries_the_highest_peaks_daily_aliases():
    times, mags, errors = sine_curve(n=200, period=0.6, amplitude=0.4, span=800.0)
    alias = 1 / (1 / 0.6 + SIDEREAL_DAY)  # 0.375 d: the true period's alias one cycle per sidereal day higher
    peaks = np.array([alias, np.nan, 2.5])  # the periodogram's three peaks miss the true period
    assert best_period(times, mags, errors, candidate_periods(peaks, 2, 800.0, 25.0)) == alias
    third = candidate_periods(peaks, 3, 800.0, 25.0)
    np.testing.assert_allclose(1 / third[3:], 1 / alias + SIDEREAL_DAY * np.array([-2, -1, 1, 2]))
    assert best_period(times, mags, errors, third) == pytest.approx(0.6, rel=1e-12)
    below_ceiling = candidate_periods(peaks, 3, 800.0, 3.0)  # f + 1 and f + 2 (3.67, 4.67 per day) are over it
    np.testing.assert_allclose(1 / below_ceiling[3:], 1 / alias - SIDEREAL_DAY * np.array([2, 1]))
    slow = candidate_periods(np.array([1.5, np.nan, np.nan]), 3, 800.0, 25.0)  # f - 1 and f - 2 are negative
    np.testing.assert_allclose(1 / slow[3:], 1 / 1.5 + SIDEREAL_DAY * np.array([1, 2]))
    np.testing.assert_array_equal(candidate_periods(peaks, 1, 800.0, 25.0), peaks[:1])
    nothing = np.array([np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(candidate_periods(nothing, 3, 800.0, 25.0), nothing)  # no peak, no aliases


def test_a_lower_periodogram_ceiling_keeps_the_step_and_finds_the_same_periods_below_it():
    assert np.diff(frequency_grid(12.5))[0] == pytest.approx(np.diff(frequency_grid())[0])
    assert len(frequency_grid(12.5)) == 2**16 + 1 and len(frequency_grid(10.0)) == 2**16 + 1
    curves = [sine_curve(n=150, period=p, amplitude=0.3, seed=s, span=900.0) for s, p in enumerate((0.2, 0.7, 3.1))]
    full, lowered = extract_features(curves), extract_features(curves, max_frequency=12.5)
    period = FEATURE_NAMES.index("log_period")
    np.testing.assert_allclose(lowered[:, period], full[:, period], rtol=1e-6)
    fast = sine_curve(n=150, period=0.05, amplitude=0.3, span=900.0)  # 20 cycles/day: above a 12.5 ceiling
    assert extract_features([fast])[0, period] == pytest.approx(np.log10(0.05), abs=1e-3)
    assert extract_features([fast], max_frequency=12.5)[0, period] != pytest.approx(np.log10(0.05), abs=1e-3)
    with pytest.raises(ValueError, match="max_frequency 500.0 cycles/day is outside"):
        extract_features(curves, max_frequency=500.0)


def test_single_precision_periodograms_find_the_same_periods_and_leave_the_rest_in_double():
    curves = [sine_curve(n=150, period=p, amplitude=0.3, seed=s, span=2900.0) for s, p in enumerate((0.09, 0.37, 0.7, 3.1))]
    curves = [(times + 53_500.0, mags, errors) for times, mags, errors in curves]  # MJD: float32 alone would keep ~4 ms
    double, single = extract_features(curves), extract_features(curves, single_precision=True)
    period = FEATURE_NAMES.index("log_period")
    np.testing.assert_allclose(single[:, period], double[:, period], rtol=1e-6)
    np.testing.assert_allclose(single[:, period], np.log10([0.09, 0.37, 0.7, 3.1]), atol=1e-3)
    statistics = FEATURE_NAMES.index("periodogram_period_0")
    np.testing.assert_array_equal(single[:, :statistics], double[:, :statistics])  # computed in float64 either way
    peaks = [FEATURE_NAMES.index(f"periodogram_period_{k}") for k in range(3)]
    assert not np.array_equal(single[:, peaks], double[:, peaks])  # the periodograms did run in float32


@pytest.mark.parametrize("groups", [("statistics",), ("periodogram",), ("harmonic",), ("second_period",),
                                    ("statistics", "harmonic")])
def test_some_feature_groups_are_the_same_columns_as_all_and_the_rest_nan(groups):
    curves = [sine_curve(n=120, period=p, amplitude=0.3, seed=s, span=900.0) for s, p in enumerate((0.3, 0.7, 3.1))]
    everything, some = extract_features(curves), extract_features(curves, groups=groups)
    asked = feature_columns(groups)
    np.testing.assert_array_equal(some[:, asked], everything[:, asked])
    assert np.isnan(np.delete(some, asked, axis=1)).all()
    assert not np.isnan(everything[:, asked]).all()


def test_the_statistics_alone_are_computed_without_either_periodogram(monkeypatch):
    statistics_only = features_module.periodograms()[0]
    monkeypatch.setattr(features_module, "periodograms", lambda max_frequency: (statistics_only, None, None))
    features = extract_features([sine_curve(n=120, period=0.7, amplitude=0.3, span=900.0)], groups=("statistics",))
    assert np.isfinite(features[0, feature_columns(["statistics"])]).all()
    with pytest.raises(ValueError, match="feature groups must be a non-empty subset of statistics, periodogram"):
        extract_features([sine_curve(n=120, period=0.7)], groups=("colour",))


def _double_mode(period=0.4, ratio=0.745, visits=250, span=2800.0, seed=3):
    """A double-mode pulsator observed as CRTS does: four exposures within ~30 minutes per visit."""
    rng = np.random.default_rng(seed)
    nights = np.sort(rng.choice(int(span), visits, replace=False)) + rng.uniform(0.0, 0.3, visits)  # one visit a night
    times = (nights[:, None] + np.arange(4)[None, :] * 0.007).ravel() + 53_500.0
    fundamental = period / ratio
    mags = 15 + 0.25 * np.sin(2 * np.pi * times / period) + 0.12 * np.sin(2 * np.pi * times / fundamental + 1.0)
    errors = np.full(times.size, 0.03)
    return times, mags + rng.normal(0, 0.03, times.size), errors, fundamental


def test_the_coarse_residual_search_finds_a_double_mode_stars_other_mode_as_the_full_one_does():
    times, mags, errors, fundamental = _double_mode()
    full, coarse = (extract_features([(times, mags, errors)], second_period=way)[0] for way in ("full", "coarse"))
    first = FEATURE_NAMES.index("log_second_period")
    np.testing.assert_array_equal(full[:first], coarse[:first])  # only the second-period group differs
    for found in (full, coarse):
        assert abs(10 ** found[first] - fundamental) < 1e-3 and abs(found[first + 2] - 0.745) < 1e-3
    assert coarse[first + 1] == pytest.approx(full[first + 1], rel=0.1)  # the same peak's signal-to-noise
    with pytest.raises(ValueError, match="second_period"):
        extract_features([(times, mags, errors)], second_period="nowhere")
