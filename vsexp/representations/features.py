"""Light-curve features for the random-forest baseline (the "existing methods" of the paper).

Four groups (``FEATURE_GROUPS``; a forest can be fitted on some of them, ``model.feature_groups``),
49 numbers per curve:

1. ``statistics`` from the ``light-curve`` package: amplitude, percentile ranges and ratios, skew,
   kurtosis, Stetson K, von Neumann eta, linear trend, reduced chi2, excess variance...
2. ``periodogram``: a Lomb-Scargle periodogram (``light_curve.Periodogram``, FFT-based, 0-25
   cycles/day by default; ``max_frequency`` lowers the ceiling at the same frequency step, and the
   cost with it; ``single_precision`` computes it in float32, ~1.6x faster): the top three periods
   and their signal-to-noise.
3. ``harmonic``: a 4-harmonic weighted least-squares fit at the best period, refined on a fine local
   grid (version 2: the best of the three periodogram peaks, each refined, by the variance its
   2-harmonic fit explains; version 3: the same among the three peaks and the highest one's daily
   aliases, f ± 1 and f ± 2 per sidereal day; version 1: the highest peak):
   log P, amplitudes A1-A4, R21, R31, phi21 and phi31 (as sin/cos), the variance the fit explains,
   the same fit at twice the period (eclipsing binaries with unequal minima are better fitted at
   2P; their odd harmonics at 2P then matter).
4. ``second_period``: the highest peak of the fit's residuals' periodogram, its signal-to-noise and
   its ratio to the period (double-mode pulsators such as RRd have P1/P0 = 0.745); with
   ``second_period="coarse"`` the residuals' periodogram is searched on a coarser grid and refined
   at its highest peaks (``second_period_coarse``), at about a seventh of the cost.
"""

from __future__ import annotations

import functools
import logging

import light_curve as lc
import numpy as np

from vsexp.representations.extractor import (FEATURE_GROUPS, FEATURE_VERSIONS, FEATURES_VERSION, MAX_FREQUENCY,
                                             MAX_FREQUENCY_RANGE, SECOND_PERIOD_SEARCHES)

log = logging.getLogger(__name__)

FREQUENCY_STEP = MAX_FREQUENCY / 2**17  # cycles/day: ~0.6 / span for a 3,000-day survey
N_HARMONICS = 4
REFINEMENT_CANDIDATES = 41  # frequencies of the fine grid around each periodogram peak
SIDEREAL_DAY = 1.0027379  # cycles/day: a ground-based survey observes at about the same sidereal time each night,
ALIAS_ORDERS = (-2, -1, 1, 2)  # so a period's peak recurs at f + k / sidereal day; version 3 tries these k
COARSE_FACTOR = 4  # second_period="coarse": the residuals' grid is this many times coarser than the main one,
COARSE_CANDIDATES = 5  # and this many of its highest peaks are refined on the main grid's step


def frequency_grid(max_frequency: float = MAX_FREQUENCY) -> np.ndarray:
    """Angular frequencies from 0 to ``max_frequency`` cycles/day in 2**k steps no wider than
    ``FREQUENCY_STEP`` (``fast=True`` needs 2**k + 1 points from 0)."""
    steps = 2 ** int(np.ceil(np.log2(max_frequency / FREQUENCY_STEP)))
    return np.linspace(0.0, 2 * np.pi * max_frequency, steps + 1)


STATISTICS = (
    lc.Amplitude(), lc.BeyondNStd(1.0), lc.BeyondNStd(2.0), lc.Cusum(), lc.Eta(), lc.EtaE(),
    lc.InterPercentileRange(0.1), lc.InterPercentileRange(0.25), lc.Kurtosis(), lc.LinearTrend(),
    lc.MagnitudePercentageRatio(0.4, 0.05), lc.MagnitudePercentageRatio(0.2, 0.1),
    lc.MedianAbsoluteDeviation(), lc.MedianBufferRangePercentage(0.1), lc.PercentAmplitude(),
    lc.PercentDifferenceMagnitudePercentile(0.05), lc.PercentDifferenceMagnitudePercentile(0.2),
    lc.ReducedChi2(), lc.Skew(), lc.StandardDeviation(), lc.StetsonK(), lc.WeightedMean(), lc.ExcessVariance(),
)


@functools.lru_cache(maxsize=4)
def periodograms(max_frequency: float = MAX_FREQUENCY) -> tuple[lc.Extractor, lc.Periodogram, lc.Periodogram]:
    """The statistics, the three-peak periodogram and the residuals' one-peak periodogram, both
    from 0 to ``max_frequency`` cycles/day."""
    grid = frequency_grid(max_frequency)
    return (lc.Extractor(*STATISTICS), lc.Periodogram(peaks=3, freqs=grid, fast=True),
            lc.Periodogram(peaks=1, freqs=grid, fast=True))


def periodogram_inputs(curves, single_precision: bool):
    """What the periodograms are given: ``curves`` as they are, or in single precision with times
    counted from each curve's first observation (float32 keeps ~1e-4 d over a 3,000-day span, and
    light-curve's FFT periodogram runs ~1.6x faster in it)."""
    if not single_precision:
        return curves
    return [((times - times[0]).astype(np.float32), mags.astype(np.float32), errors.astype(np.float32))
            for times, mags, errors in curves]


HARMONIC_NAMES = [
    "log_period", "refined_power", *[f"amplitude_{k}" for k in range(1, N_HARMONICS + 1)], "r21", "r31",
    "sin_phi21", "cos_phi21", "sin_phi31", "cos_phi31", "explained_at_p", "explained_at_2p", "odd_even_at_2p",
]
SECOND_PERIOD_NAMES = ["log_second_period", "second_period_s_to_n", "period_ratio"]
FEATURE_GROUP_NAMES = {"statistics": list(periodograms()[0].names), "periodogram": list(periodograms()[1].names),
                       "harmonic": HARMONIC_NAMES, "second_period": SECOND_PERIOD_NAMES}  # config.FEATURE_GROUPS
FEATURE_NAMES = [name for group in FEATURE_GROUPS for name in FEATURE_GROUP_NAMES[group]]


def feature_columns(groups) -> list[int]:
    """Column indices in ``FEATURE_NAMES`` of the features of ``groups`` (names in ``FEATURE_GROUPS``)."""
    return [FEATURE_NAMES.index(name) for group in FEATURE_GROUPS if group in groups for name in FEATURE_GROUP_NAMES[group]]


def _design(times: np.ndarray, frequency: float, harmonics: int) -> np.ndarray:
    """[n, 1 + 2 * harmonics]: constant, then cos and sin of each harmonic."""
    angle = 2 * np.pi * frequency * times[:, None] * np.arange(1, harmonics + 1)[None, :]
    return np.hstack([np.ones((times.size, 1)), np.cos(angle), np.sin(angle)])


def harmonic_fit(times, mags, weights, frequency, harmonics=N_HARMONICS):
    """Weighted least-squares Fourier fit.

    Returns:
        (coefficients [1 + 2 * harmonics], fraction of weighted variance explained, model [n])
    """
    design = _design(times, frequency, harmonics)
    root = np.sqrt(weights)
    coefficients, *_ = np.linalg.lstsq(design * root[:, None], mags * root, rcond=None)
    model = design @ coefficients
    mean = np.average(mags, weights=weights)
    total = np.sum(weights * (mags - mean) ** 2)
    explained = 1.0 - np.sum(weights * (mags - model) ** 2) / total if total > 0 else 0.0
    return coefficients, float(explained), model


@functools.lru_cache(maxsize=8)
def _product_terms(harmonics: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where each weighted inner product of the basis [1, cos kwt, sin kwt] (k = 1..H) comes from,
    given S_m = sum w e^{imwt} for m = 0..2H laid out as [Re S_0..S_2H, Im S_0..S_2H]:
    <b_i, b_j> = (low_sign * part[low] + high_sign * part[high]) / 2, by the product-to-sum rules
    cos p cos q = [cos(p-q) + cos(p+q)] / 2, sin p sin q = [cos(p-q) - cos(p+q)] / 2,
    cos p sin q = [sin(q+p) + sin(q-p)] / 2 (the constant is the cosine of order 0).

    Returns:
        (low index, high index, low sign, high sign), each [1 + 2H, 1 + 2H]
    """
    orders = np.r_[0:harmonics + 1, 1:harmonics + 1]
    sine = np.r_[np.zeros(harmonics + 1, bool), np.ones(harmonics, bool)]
    p, q = orders[:, None], orders[None, :]
    sine_i, sine_j = sine[:, None], sine[None, :]
    imaginary = sine_i ^ sine_j
    offset = np.where(imaginary, 2 * harmonics + 1, 0)
    cosine_order, sine_order = np.where(sine_i, q, p), np.where(sine_i, p, q)
    low_sign = np.where(imaginary, np.sign(sine_order - cosine_order), 1)
    high_sign = np.where(sine_i & sine_j, -1, 1)
    return np.abs(p - q) + offset, p + q + offset, low_sign, high_sign


def _phasors(times: np.ndarray, frequencies: np.ndarray) -> np.ndarray:
    """[n_frequencies, n] e^{2 pi i f t}, for ``frequencies`` [k] or [blocks, k] (rows flattened in
    order). Evenly spaced rows (refinement grids) by recurrence, row j = row 0 * e^{2 pi i (j * step) t}:
    two complex exponentials per point and row instead of one per frequency and point (the
    exponentials were most of the harmonic refinement's cost)."""
    grid = np.atleast_2d(frequencies)
    steps = np.diff(grid, axis=1)
    if grid.shape[1] < 3 or (steps.max(axis=1) - steps.min(axis=1) > 1e-9 * np.abs(steps[:, 0])).any():
        return np.exp(2j * np.pi * grid.reshape(-1)[:, None] * times[None, :])
    factors = np.empty((*grid.shape, times.size), complex)
    factors[:, 0] = np.exp(2j * np.pi * grid[:, :1] * times[None, :])
    factors[:, 1:] = np.exp(2j * np.pi * steps[:, :1] * times[None, :])[:, None, :]
    return np.cumprod(factors, axis=1).reshape(-1, times.size)


def explained_variances(times, mags, weights, frequencies, harmonics: int) -> np.ndarray:
    """Fraction of the weighted variance that a Fourier fit explains, at each of ``frequencies``
    ([k], or [blocks, k] for several refinement grids at once).

    The same quantity as ``harmonic_fit``'s, for many frequencies at once, from the normal
    equations on the weighted-mean-subtracted magnitudes (explained = c.b / total): the Gram matrix
    of the 1 + 2H basis functions follows from the 2H + 1 sums S_m = sum w e^{imwt}
    (``_product_terms``) and the right-hand side from sum w y e^{imwt}, m <= H — a matrix-vector
    product per order instead of a [1 + 2H, n] design matrix and its Gram matrix per frequency.

    Returns:
        [n_frequencies] (rows flattened in order)
    """
    blocks = np.asarray(frequencies, dtype=np.float64)
    frequencies = blocks.reshape(-1)
    centred = mags - np.average(mags, weights=weights)
    total = np.sum(weights * centred**2)
    if total <= 0 or frequencies.size == 0:
        return np.zeros(frequencies.size)
    powers = np.empty((2 * harmonics, frequencies.size, times.size), complex)  # e^{imwt}, m = 1..2H
    powers[0] = _phasors(times, blocks)
    for order in range(1, 2 * harmonics):
        np.multiply(powers[order - 1], powers[0], out=powers[order])
    columns = np.stack([weights, weights * centred], axis=1).astype(complex)
    products = (powers.reshape(-1, times.size) @ columns).reshape(2 * harmonics, frequencies.size, 2)
    sums = np.concatenate([np.full((frequencies.size, 1), weights.sum()), products[:, :, 0].T], axis=1)
    projections = products[:harmonics, :, 1].T
    low, high, low_sign, high_sign = _product_terms(harmonics)
    parts = np.concatenate([sums.real, sums.imag], axis=1)
    gram = 0.5 * (low_sign * parts[:, low] + high_sign * parts[:, high])
    right = np.concatenate([np.zeros((frequencies.size, 1)), projections.real, projections.imag], axis=1)
    try:
        coefficients = np.linalg.solve(gram, right[:, :, None])[:, :, 0]
        explained = np.einsum("ki,ki->k", coefficients, right) / total
    except np.linalg.LinAlgError:
        explained = np.full(frequencies.size, np.nan)
    degenerate = ~((explained > -1e-9) & (explained < 1 + 1e-9))  # a singular or near-singular Gram matrix
    if degenerate.any():  # (frequencies far below 1 / span): the pseudo-inverse's least-squares answer
        coefficients = (np.linalg.pinv(gram[degenerate], hermitian=True) @ right[degenerate, :, None])[:, :, 0]
        explained[degenerate] = np.einsum("ki,ki->k", coefficients, right[degenerate]) / total
    return explained


def refinement_candidates(frequency: float, span: float) -> np.ndarray:
    """The fine grid that ``refine_frequency`` searches: the positive ones of
    ``REFINEMENT_CANDIDATES`` frequencies within one coarse grid step (1 / span) of ``frequency``."""
    step = 1.0 / max(span, 1.0)
    candidates = frequency + np.linspace(-step, step, REFINEMENT_CANDIDATES)
    return candidates[candidates > 0]


def refine_frequency(times, mags, weights, frequency, span) -> tuple[float, float]:
    """Best 2-harmonic fit frequency on a fine grid within one coarse grid step of ``frequency``."""
    candidates = refinement_candidates(frequency, span)
    if candidates.size == 0:
        return frequency, 0.0
    explained = explained_variances(times, mags, weights, candidates, 2)
    best = int(np.argmax(explained))
    return float(candidates[best]), float(explained[best])


def normalised_weights(errors: np.ndarray) -> np.ndarray:
    """Inverse-variance weights scaled to mean 1."""
    weights = 1.0 / errors**2
    return weights / weights.mean()


def _best_refined(times, mags, weights, periods) -> tuple[float, float, float] | None:
    """(period, refined frequency, variance explained) of the candidate ``periods`` whose refined
    2-harmonic fit explains the most; None when no candidate is usable. The candidates' refinement
    grids are fitted in one batch (the same numbers as one at a time, with a fraction of the overhead)."""
    span = times[-1] - times[0]
    usable = [float(p) for p in periods if np.isfinite(p) and p > 0]
    grids = [refinement_candidates(1.0 / period, span) for period in usable]
    if grids and all(grid.size == REFINEMENT_CANDIDATES for grid in grids):
        explained = explained_variances(times, mags, weights, np.stack(grids), 2).reshape(len(grids), -1)
        refined = [(float(grid[np.argmax(row)]), float(row.max())) for grid, row in zip(grids, explained)]
    else:  # a grid reaching zero frequency (a period beyond the span) is shorter: one at a time
        refined = [refine_frequency(times, mags, weights, 1.0 / period, span) for period in usable]
    best = None
    for period, (frequency, explained) in zip(usable, refined):
        if best is None or explained > best[2]:
            best = (period, frequency, explained)
    return best


def best_period(times, mags, errors, periods) -> float:
    """Of candidate ``periods`` (periodogram peaks), the one whose refined 2-harmonic fit explains the
    most variance: the highest peak of a grid sampled at ~0.6/span is often an alias of the true one
    (choosing among the top three changed 27% of real CRTS periods)."""
    best = _best_refined(times, mags, normalised_weights(errors), periods) if times.size >= 2 * N_HARMONICS + 2 else None
    return best[0] if best is not None else float(periods[0])


def candidate_periods(periods: np.ndarray, version: int, span: float, max_frequency: float) -> np.ndarray:
    """The periods whose refined fits ``harmonic_features`` compares, by feature version: 1 the highest
    periodogram peak, 2 the three highest, 3 those and the highest one's daily aliases within
    (1 / span, ``max_frequency``] cycles/day — the alias of an RR Lyrae at 0.6 d one cycle per day
    higher lies at 0.375 d, among the RRc, and need not be among the three peaks."""
    if version == 1:
        return periods[:1]
    if version == 2 or not (np.isfinite(periods[0]) and periods[0] > 0):
        return periods
    aliases = 1.0 / periods[0] + SIDEREAL_DAY * np.asarray(ALIAS_ORDERS)
    aliases = aliases[(aliases > 1.0 / max(span, 1.0)) & (aliases <= max_frequency)]
    return np.concatenate([periods, 1.0 / aliases])


def harmonic_features(times, mags, errors, periods) -> tuple[list[float], np.ndarray]:
    """The harmonic group of features and the residuals of the fit at the refined period: of the
    candidate ``periods`` (one or more), the one whose refined fit explains most (``best_period``)."""
    weights = normalised_weights(errors)
    best = _best_refined(times, mags, weights, periods) if times.size >= 2 * N_HARMONICS + 2 else None
    if best is None:
        return [np.nan] * len(HARMONIC_NAMES), mags - np.median(mags)
    _, frequency, power = best
    coefficients, explained, model = harmonic_fit(times, mags, weights, frequency)
    cosines, sines = coefficients[1: N_HARMONICS + 1], coefficients[N_HARMONICS + 1:]
    amplitudes = np.hypot(cosines, sines)
    phases = np.arctan2(cosines, sines)  # m = c + sum A_k sin(k w t + phi_k)
    phi21 = phases[1] - 2 * phases[0]
    phi31 = phases[2] - 3 * phases[0]
    first = amplitudes[0] if amplitudes[0] > 0 else np.nan
    double, explained_double, _ = harmonic_fit(times, mags, weights, frequency / 2)
    double_amplitudes = np.hypot(double[1: N_HARMONICS + 1], double[N_HARMONICS + 1:])
    even = double_amplitudes[1] + double_amplitudes[3]
    odd_even = (double_amplitudes[0] + double_amplitudes[2]) / even if even > 0 else np.nan
    values = [np.log10(1.0 / frequency), power, *amplitudes, amplitudes[1] / first, amplitudes[2] / first,
              np.sin(phi21), np.cos(phi21), np.sin(phi31), np.cos(phi31), explained, explained_double, odd_even]
    return values, mags - model


@functools.lru_cache(maxsize=4)
def coarse_periodogram(max_frequency: float = MAX_FREQUENCY) -> lc.Periodogram:
    """The residuals' periodogram on a grid ``COARSE_FACTOR`` times coarser than the main one."""
    steps = (len(frequency_grid(max_frequency)) - 1) // COARSE_FACTOR
    return lc.Periodogram(freqs=np.linspace(0.0, 2 * np.pi * max_frequency, steps + 1), fast=True)


def second_period_coarse(times, residuals, max_frequency: float = MAX_FREQUENCY) -> tuple[float, float]:
    """(period, signal-to-noise) of the highest peak of the residuals' Lomb-Scargle periodogram,
    found on a grid ``COARSE_FACTOR`` times coarser than the main one, in single precision, its
    ``COARSE_CANDIDATES`` highest peaks each refined by a direct periodogram on the main grid's step
    within one coarse step. The signal-to-noise is the refined peak's power above the coarse grid's
    mean, in its standard deviations (``light_curve.Periodogram``'s definition over its grid)."""
    if times.size < 3:
        return np.nan, np.nan
    times, residuals = (times - times[0]).astype(np.float32), residuals.astype(np.float32)
    angular, power = coarse_periodogram(max_frequency).freq_power(times, residuals)
    spread = power.std()
    if not spread > 0:
        return np.nan, np.nan
    inner = power[1:-1]
    peaks = np.flatnonzero((inner > power[:-2]) & (inner >= power[2:])) + 1
    step = angular[1] - angular[0]
    best = (np.nan, -np.inf)
    for index in peaks[np.argsort(power[peaks])[-COARSE_CANDIDATES:]]:
        grid = np.linspace(max(angular[index] - step, step / COARSE_FACTOR), angular[index] + step, 2 * COARSE_FACTOR + 1)
        fine, fine_power = lc.Periodogram(freqs=grid, fast=False).freq_power(times, residuals)
        top = int(np.argmax(fine_power))
        if fine_power[top] > best[1]:
            best = (2 * np.pi / float(fine[top]), float(fine_power[top]))
    if not np.isfinite(best[1]):
        return np.nan, np.nan
    return best[0], (best[1] - float(power.mean())) / float(spread)


def extract_features(curves, n_jobs: int = -1, version: int = FEATURES_VERSION,
                     max_frequency: float = MAX_FREQUENCY, single_precision: bool = False,
                     groups=FEATURE_GROUPS, second_period: str = "full") -> np.ndarray:
    """Features of ``curves`` = [(times, mags, errors), ...] (times sorted).

    Args:
        version: which extractor (``FEATURE_VERSIONS``); a model is served with the version it was
            trained on.
        max_frequency: the periodograms' ceiling in cycles/day (``MAX_FREQUENCY_RANGE``); each
            periodogram costs in proportion to it. A model is served with the ceiling it was trained on.
        single_precision: the two periodograms in float32 (``periodogram_inputs``); the statistics
            and harmonic fits stay in float64. A model is served with the precision it was trained on.
        groups: the groups (``FEATURE_GROUPS``) to compute, with what they are computed from (the
            harmonic fit starts from the periodogram's peaks, the second period from its residuals);
            the other groups' columns are NaN. A forest fitted on the statistics alone is served
            without either periodogram.
        second_period: ``full`` or ``coarse`` (``FeatureConfig.second_period``).

    Returns:
        [n_curves, len(FEATURE_NAMES)] float32; NaN where a feature is undefined or not computed
        (the forest handles missing values).
    """
    if version not in FEATURE_VERSIONS:
        raise ValueError(f"unknown feature version {version}; this vsexp computes {FEATURE_VERSIONS}")
    low, high = MAX_FREQUENCY_RANGE
    if not low <= max_frequency <= high:
        raise ValueError(f"max_frequency {max_frequency} cycles/day is outside [{low}, {high}]")
    if second_period not in SECOND_PERIOD_SEARCHES:
        raise ValueError(f"second_period must be one of {SECOND_PERIOD_SEARCHES}, got '{second_period}'")
    unknown = set(groups) - set(FEATURE_GROUPS)
    if unknown or not groups:
        raise ValueError(f"feature groups must be a non-empty subset of {', '.join(FEATURE_GROUPS)}, got {sorted(groups)}")
    statistics_extractor, peak_periodogram, residual_periodogram = periodograms(float(max_frequency))
    triples = [(np.ascontiguousarray(t, np.float64), np.ascontiguousarray(m, np.float64),
                np.ascontiguousarray(e, np.float64)) for t, m, e in curves]
    features = np.full((len(triples), len(FEATURE_NAMES)), np.nan, np.float32)
    if not triples:
        return features
    options = dict(sorted=True, check=False, n_jobs=n_jobs, fill_value=np.nan)

    def put(group, values):  # a group computed only as another's input stays NaN
        if group in groups:
            features[:, feature_columns([group])] = values

    if "statistics" in groups:
        put("statistics", statistics_extractor.many(triples, **options))
    if not set(groups) & {"periodogram", "harmonic", "second_period"}:
        return _finite(features)
    peak = peak_periodogram.many(periodogram_inputs(triples, single_precision), **options)
    put("periodogram", peak)
    if not set(groups) & {"harmonic", "second_period"}:
        return _finite(features)
    peaks = peak[:, [FEATURE_GROUP_NAMES["periodogram"].index(f"periodogram_period_{k}") for k in range(3)]]
    harmonic, residuals = [], []
    for (times, mags, errors), periods in zip(triples, peaks):
        candidates = candidate_periods(periods, version, times[-1] - times[0], max_frequency)
        values, residual = harmonic_features(times, mags, errors, candidates)
        harmonic.append(values)
        residuals.append((times, np.ascontiguousarray(residual), errors))
    harmonic = np.asarray(harmonic, dtype=np.float64)
    put("harmonic", harmonic)
    if "second_period" in groups:
        period = 10 ** harmonic[:, 0]
        if second_period == "coarse":
            second = np.array([second_period_coarse(times, residual, max_frequency) for times, residual, _ in residuals],
                              dtype=np.float64).reshape(-1, 2)
        else:
            second = residual_periodogram.many(periodogram_inputs(residuals, single_precision), **options)
        other = second[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            put("second_period", np.stack([np.log10(other), second[:, 1], np.minimum(other, period) / np.maximum(other, period)],
                                          axis=1))
    return _finite(features)


def _finite(features: np.ndarray) -> np.ndarray:
    features[~np.isfinite(features)] = np.nan
    return features


def features_by(curves, extractor, groups=FEATURE_GROUPS) -> np.ndarray:
    """``extract_features`` with an extractor's settings (a ``FeatureConfig``)."""
    return extract_features(curves, version=extractor.version, max_frequency=extractor.max_frequency,
                            single_precision=extractor.single_precision, groups=groups,
                            second_period=extractor.second_period)


class FeaturesRepresentation:
    """``features``: [F] float32 with NaN where undefined (state: the groups a model uses; the
    others are not computed when it serves, and stay NaN)."""

    name = "features"

    def fit(self, settings, train) -> tuple[str, ...]:
        return FEATURE_GROUPS

    def needs_features(self, groups) -> bool:
        return True

    def compute(self, groups, curves, features, extractor, progress=None) -> np.ndarray:
        return features if features is not None else features_by(curves, extractor, groups)

    def to_dict(self, groups) -> dict:
        return {"groups": list(groups)}

    def from_dict(self, data: dict) -> tuple[str, ...]:
        return tuple(data["groups"])

    def cache_key(self, groups, extractor) -> str:
        from vsexp.representations.protocol import features_key

        return features_key(extractor)  # every group is cached; a model's groups are its columns


REPRESENTATION = FeaturesRepresentation()
