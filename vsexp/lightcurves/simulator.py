"""A synthetic survey simulator that draws OGLE-like and CRTS-like variable-star light curves.

Each star is drawn in three steps:

1. **Cadence** (``SurveyProfile``): a number of points from a log-normal around the survey's
   median, spread over observing seasons across several years; OGLE-like surveys observe once a
   night, CRTS-like surveys make visits of four exposures ~7-10 minutes apart.
2. **Signal** (one generator per class): physically plausible periods, amplitudes and shapes —
   Fourier series for pulsators (steep-rise RRab, near-sinusoidal RRc, double-mode RRd with
   P1/P0 = 0.745, Cepheids in F and 1O modes, multi-mode delta Scuti), eclipse geometry for
   detached binaries, ``cos 4 pi phi`` shapes with unequal minima for contact binaries,
   multi-periodic light with red noise for Miras, semi-regulars and small-amplitude red giants,
   and spots whose amplitude and phase drift for RS CVn stars.
3. **Noise**: a magnitude-dependent error model (a floor plus a photon-noise term growing as
   10^(0.2 m)) calibrated on the real files in ``shared/data``, scatter drawn from it, and a few
   outliers.

Class counts follow the paper's Table 1 proportions scaled by a size preset, with a floor per class
so that rare classes survive a 60/20/20 split. Every star has its own seed derived from
``(seed, class, index)``, so output does not depend on how work is split across processes.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.signal import lfilter

from vsexp.errors import ConfigError
from vsexp.lightcurves.record import LightCurve

log = logging.getLogger(__name__)

TWO_PI = 2.0 * np.pi


@dataclasses.dataclass(frozen=True)
class SurveyProfile:
    """Cadence and noise of a survey.

    Attributes:
        name: survey name written on every curve.
        median_points / points_sigma: log-normal number of points per curve.
        years: range of baseline lengths in years.
        season_days: length of the observing season each year.
        exposures_per_visit: exposures taken per visit (CRTS takes four).
        exposure_spacing_days: time between exposures of one visit.
        error_floor: systematic error floor in magnitudes.
        error_mag_ref / error_at_ref: the photon-noise term reaches ``error_at_ref`` at ``error_mag_ref``.
        outlier_fraction: fraction of points replaced by outliers.
    """

    name: str
    median_points: float
    points_sigma: float
    years: tuple[float, float]
    season_days: float
    exposures_per_visit: int
    exposure_spacing_days: float
    error_floor: float
    error_mag_ref: float
    error_at_ref: float
    outlier_fraction: float


OGLE_PROFILE = SurveyProfile(
    name="synthetic-ogle", median_points=359, points_sigma=0.45, years=(4.0, 8.0), season_days=240,
    exposures_per_visit=1, exposure_spacing_days=0.0, error_floor=0.004, error_mag_ref=16.5,
    error_at_ref=0.0069, outlier_fraction=0.003,
)
CRTS_PROFILE = SurveyProfile(
    name="synthetic-crts", median_points=300, points_sigma=0.4, years=(7.5, 8.5), season_days=200,
    exposures_per_visit=4, exposure_spacing_days=0.0072, error_floor=0.05, error_mag_ref=19.2,
    error_at_ref=0.183, outlier_fraction=0.005,
)


def fourier(phase: np.ndarray, amplitudes, phases) -> np.ndarray:
    """sum_k A_k sin(2 pi k phase + phi_k) for k = 1..K; phase: [n]."""
    k = np.arange(1, len(amplitudes) + 1)[:, None]
    return (np.asarray(amplitudes)[:, None] * np.sin(TWO_PI * k * phase[None, :] + np.asarray(phases)[:, None])).sum(0)


def red_noise(times: np.ndarray, timescale: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """An Ornstein-Uhlenbeck (damped random walk) process with stationary std ``sigma``, at ``times``."""
    step = timescale / 5.0
    grid = np.arange(times[0] - step, times[-1] + 2 * step, step)
    decay = math.exp(-step / timescale)
    values = lfilter([sigma * math.sqrt(1 - decay**2)], [1, -decay], rng.standard_normal(grid.size))
    return np.interp(times, grid, values)


def _pulsator(times, rng, period, amplitude, ratio, harmonics, phase_step=0.0):
    """A Fourier pulsator: harmonic k has amplitude ratio**(k-1) and phase k*phi1 + (k-1)*phase_step.

    A common phase with ratio ~0.5 gives the sawtooth of RRab stars and F-mode Cepheids
    (fast brightening, slow decline); a small ratio gives the near-sinusoids of RRc and 1O Cepheids.
    """
    phi1 = rng.uniform(0, TWO_PI)
    k = np.arange(1, harmonics + 1)
    amps = ratio ** (k - 1) * rng.uniform(0.8, 1.2, harmonics)
    amps[0] = 1.0
    shape = fourier(times / period, amps, k * phi1 + (k - 1) * phase_step)
    return amplitude * shape / np.ptp(fourier(np.linspace(0, 1, 200), amps, k * phi1 + (k - 1) * phase_step))


def rrab(t, rng, band_scale):
    period = float(np.clip(rng.normal(0.58, 0.08), 0.4, 0.9))
    amp = rng.uniform(0.4, 1.05) * band_scale
    return _pulsator(t, rng, period, amp, rng.uniform(0.45, 0.6), 6, rng.normal(0, 0.15)), {"period": period, "subtype": "RRab"}


def rrc(t, rng, band_scale):
    period = rng.uniform(0.24, 0.42)
    amp = rng.uniform(0.22, 0.5) * band_scale
    return _pulsator(t, rng, period, amp, rng.uniform(0.05, 0.2), 3, rng.normal(1.0, 0.3)), {"period": period, "subtype": "RRc"}


def rrd(t, rng, band_scale):
    fundamental = rng.uniform(0.46, 0.56)
    overtone = 0.745 * fundamental
    a1 = rng.uniform(0.2, 0.35) * band_scale
    signal = _pulsator(t, rng, overtone, a1, 0.1, 2) + _pulsator(t, rng, fundamental, a1 * rng.uniform(0.3, 0.7), 0.3, 3)
    return signal, {"period": overtone, "period_fundamental": fundamental, "subtype": "RRd"}


def rr_lyrae(t, rng, band_scale):
    """OGLE's RRL class mixes the subtypes as the bulge and LMC catalogues do (~75% ab)."""
    kind = rng.choice(3, p=[0.75, 0.22, 0.03])
    return (rrab, rrc, rrd)[kind](t, rng, band_scale)


def cepheid(t, rng, band_scale):
    """Classical Cepheids, F (60%) and 1O (40%) modes; I-band amplitudes match OGLE-IV LMC."""
    if rng.random() < 0.6:
        period = float(10 ** np.clip(rng.normal(0.55, 0.25), 0.1, 1.6))
        amp = rng.uniform(0.25, 0.7) * band_scale
        return _pulsator(t, rng, period, amp, rng.uniform(0.3, 0.5), 5, rng.normal(0.2, 0.2)), {"period": period, "subtype": "F"}
    period = float(10 ** rng.uniform(-0.3, 0.6))
    amp = rng.uniform(0.1, 0.3) * band_scale
    return _pulsator(t, rng, period, amp, rng.uniform(0.05, 0.2), 3, rng.normal(1.0, 0.3)), {"period": period, "subtype": "1O"}


def delta_scuti(t, rng, band_scale):
    """One to three radial/non-radial modes; high-amplitude stars are the less common kind."""
    period = float(10 ** rng.uniform(math.log10(0.03), math.log10(0.2)))
    amp = (rng.uniform(0.15, 0.45) if rng.random() < 0.4 else rng.uniform(0.03, 0.15)) * band_scale
    signal = _pulsator(t, rng, period, amp, rng.uniform(0.1, 0.35), 3)
    for ratio in rng.choice([0.756, 0.773, 0.8, 1.28], size=rng.integers(0, 3), replace=False):
        signal += _pulsator(t, rng, period * ratio, amp * rng.uniform(0.1, 0.5), 0.1, 1)
    return signal, {"period": period, "subtype": "DSCT"}


def detached_binary(t, rng, band_scale):
    """EA: flat maxima, a primary eclipse and a shallower secondary, possibly off phase 0.5."""
    period = float(10 ** rng.uniform(math.log10(0.5), math.log10(12)))
    depth1 = rng.uniform(0.2, 0.9) * band_scale
    depth2 = depth1 * rng.uniform(0.05, 0.8)
    width = rng.uniform(0.02, 0.07)
    offset = 0.5 + (rng.normal(0, 0.02) if rng.random() < 0.3 else 0.0)
    phase = (t / period + rng.uniform()) % 1.0

    def eclipse(center, depth):
        distance = np.abs(((phase - center) + 0.5) % 1.0 - 0.5) / width
        return depth * np.clip(1 - distance**2, 0, None) ** 0.6

    signal = eclipse(0.0, depth1) + eclipse(offset, depth2) + rng.uniform(0, 0.03) * band_scale * np.cos(2 * TWO_PI * phase)
    return signal, {"period": period, "subtype": "EA"}


def contact_binary(t, rng, band_scale):
    """EW: continuously varying light with minima of nearly equal depth, P ~ 0.22-0.6 d."""
    period = float(np.clip(10 ** rng.normal(math.log10(0.36), 0.1), 0.22, 0.7))
    amp = rng.uniform(0.1, 0.55) * band_scale
    phase = t / period + rng.uniform()
    shape = np.cos(2 * TWO_PI * phase) + rng.uniform(0.0, 0.15) * np.cos(TWO_PI * phase) \
        + rng.uniform(0.0, 0.2) * np.cos(4 * TWO_PI * phase)
    return amp * shape / 2.0, {"period": period, "subtype": "EW"}


def eclipsing_binary(t, rng, band_scale):
    """OGLE's ECL class: contact and detached systems (about half each)."""
    return (contact_binary if rng.random() < 0.5 else detached_binary)(t, rng, band_scale)


def long_period_variable(t, rng, band_scale, mira_share=0.15, semiregular_share=0.35):
    """Miras, semi-regulars and OSARGs: long periods, cycle-to-cycle changes and red noise."""
    kind = rng.choice(3, p=[mira_share, semiregular_share, 1 - mira_share - semiregular_share])
    if kind == 0:
        period, amp, subtype = rng.uniform(150, 500), rng.uniform(1.0, 2.5), "Mira"
    elif kind == 1:
        period, amp, subtype = float(10 ** rng.uniform(1.5, 2.3)), rng.uniform(0.1, 0.9), "SR"
    else:
        period, amp, subtype = float(10 ** rng.uniform(1.0, 2.0)), rng.uniform(0.02, 0.15), "OSARG"
    amp *= band_scale
    wander = red_noise(t, 3 * period, 0.3, rng)  # phase wander in cycles
    signal = amp / 2 * np.sin(TWO_PI * (t / period + wander) + rng.uniform(0, TWO_PI))
    signal += amp / 2 * rng.uniform(0.1, 0.6) * np.sin(TWO_PI * t / (period * rng.uniform(0.5, 0.8)))
    signal += red_noise(t, period * rng.uniform(1, 5), amp * rng.uniform(0.1, 0.4), rng)
    return signal, {"period": float(period), "subtype": subtype}


def crts_lpv(t, rng, band_scale):
    """CRTS's LPVs are bright, large-amplitude Miras and semi-regulars (V amplitudes ~0.7-3 mag)."""
    return long_period_variable(t, rng, band_scale, mira_share=0.45, semiregular_share=0.5)


def rs_cvn(t, rng, band_scale):
    """Spotted stars: rotational modulation whose amplitude and phase drift as spots evolve."""
    period = float(10 ** rng.uniform(math.log10(0.5), math.log10(30)))
    amp = rng.uniform(0.03, 0.25) * band_scale
    lifetime = rng.uniform(100, 600)
    envelope = np.clip(1 + red_noise(t, lifetime, 0.4, rng), 0.1, None)
    phase_drift = red_noise(t, lifetime, 0.25, rng)
    signal = amp / 2 * envelope * np.sin(TWO_PI * (t / period + phase_drift) + rng.uniform(0, TWO_PI))
    signal += red_noise(t, rng.uniform(300, 1500), rng.uniform(0.02, 0.1) * band_scale, rng)  # activity cycle
    return signal, {"period": period, "subtype": "RSCVn"}


@dataclasses.dataclass(frozen=True)
class ClassModel:
    """How one class is drawn: its signal generator, mean-magnitude range and band scale."""

    generator: Callable
    mean_mag: tuple[float, float]  # median and spread (normal, clipped to the survey's range)
    band_scale: float = 1.0  # I-band amplitudes are ~0.6 of V-band ones


# The paper's Table 1 counts, which also give the class mix of the smaller presets.
OGLE_TABLE1 = {"CEPH": 2698, "DSCT": 464, "ECLP": 50000, "LPV": 22371, "RRL": 28473}
CRTS_TABLE1 = {"EW": 30745, "EA": 4683, "RRab": 2431, "RRc": 28473, "RRd": 502, "RSCVn": 1522, "LPV": 511}

OGLE_CLASSES = {
    "CEPH": ClassModel(cepheid, (15.3, 0.7)),
    "DSCT": ClassModel(delta_scuti, (17.5, 1.0), 0.6),
    "ECLP": ClassModel(eclipsing_binary, (17.0, 1.2), 0.6),
    "LPV": ClassModel(long_period_variable, (14.5, 1.2)),
    "RRL": ClassModel(rr_lyrae, (17.5, 0.8), 0.6),
}
CRTS_CLASSES = {
    "EW": ClassModel(contact_binary, (15.8, 1.4)),
    "EA": ClassModel(detached_binary, (15.9, 1.4)),
    "RRab": ClassModel(rrab, (17.2, 1.5)),
    "RRc": ClassModel(rrc, (16.4, 1.4)),
    "RRd": ClassModel(rrd, (15.3, 1.2)),
    "RSCVn": ClassModel(rs_cvn, (15.1, 1.1)),
    "LPV": ClassModel(crts_lpv, (13.2, 1.5), 1.2),
}

SURVEYS = {"ogle": (OGLE_PROFILE, OGLE_CLASSES, OGLE_TABLE1), "crts": (CRTS_PROFILE, CRTS_CLASSES, CRTS_TABLE1)}

# size preset -> (total stars before floors, per-class floor); "paper" is Table 1 exactly.
SIZES = {"tiny": (120, 24), "small": (6000, 400), "medium": (30000, 1000), "paper": (None, 0)}


def class_counts(survey: str, size: str) -> dict[str, int]:
    """Stars per class for a survey and size preset (Table 1 proportions, floored per class)."""
    if survey not in SURVEYS:
        raise ConfigError(f"unknown synthetic survey '{survey}' (allowed: {', '.join(SURVEYS)})")
    if size not in SIZES:
        raise ConfigError(f"unknown size preset '{size}' (allowed: {', '.join(SIZES)})")
    table = SURVEYS[survey][2]
    total, floor = SIZES[size]
    if total is None:
        return dict(table)
    table_total = sum(table.values())
    return {name: max(floor, round(total * count / table_total)) for name, count in table.items()}


def draw_times(profile: SurveyProfile, rng: np.random.Generator) -> np.ndarray:
    """Observation times (MJD, sorted): seasons over several years, nightly or in 4-exposure visits."""
    n_points = max(8, int(round(rng.lognormal(math.log(profile.median_points), profile.points_sigma))))
    n_visits = max(2, -(-n_points // profile.exposures_per_visit))
    years = rng.uniform(*profile.years)
    n_seasons = max(1, int(math.ceil(years)))
    season_start = rng.uniform(0, 365.25 - profile.season_days)
    # visits fall in seasons, on distinct nights where possible, around local midnight
    season = rng.integers(0, n_seasons, n_visits)
    day = np.floor(rng.uniform(0, profile.season_days, n_visits))
    visits = 53000.0 + season * 365.25 + season_start + day + rng.normal(0.0, 0.08, n_visits)
    visits = np.sort(visits)
    offsets = np.arange(profile.exposures_per_visit) * profile.exposure_spacing_days
    jitter = rng.normal(0, 0.0005, (n_visits, profile.exposures_per_visit)) if profile.exposures_per_visit > 1 else 0.0
    times = (visits[:, None] + offsets[None, :] + jitter).ravel()[:n_points]
    return np.sort(times)


def error_model(profile: SurveyProfile, mags: np.ndarray) -> np.ndarray:
    """Photometric uncertainty of a point of magnitude ``mags``: floor (+) photon noise."""
    photon = profile.error_at_ref * 10 ** (0.2 * (mags - profile.error_mag_ref))
    return np.sqrt(profile.error_floor**2 + photon**2)


def simulate_star(survey: str, label: str, index: int, seed: int) -> LightCurve:
    """Draw one star; its randomness depends only on (seed, survey, label, index)."""
    profile, classes, _ = SURVEYS[survey]
    class_index = list(classes).index(label)
    survey_index = list(SURVEYS).index(survey)
    rng = np.random.default_rng([seed, survey_index, class_index, index])
    model = classes[label]
    times = draw_times(profile, rng)
    signal, meta = model.generator(times, rng, model.band_scale)
    mean_mag = float(np.clip(rng.normal(*model.mean_mag), 11.0, 20.5))
    true_mags = mean_mag + signal - np.median(signal)
    errors = error_model(profile, true_mags) * rng.uniform(0.85, 1.15, times.size)
    mags = true_mags + errors * rng.standard_normal(times.size)
    outliers = rng.random(times.size) < profile.outlier_fraction
    mags[outliers] += rng.normal(0.3, 0.5, int(outliers.sum()))
    meta.update(mean_mag=mean_mag, amplitude=float(np.ptp(signal)))
    return LightCurve(
        object_id=f"{profile.name.upper()}-{label}-{index:06d}", times=times, mags=mags, errors=errors,
        label=label, survey=profile.name, metadata=meta,
    )


def _simulate_chunk(args) -> list[LightCurve]:
    survey, jobs, seed = args
    return [simulate_star(survey, label, index, seed) for label, index in jobs]


def simulate_survey(survey: str, size: str = "small", seed: int = 0, workers: int = 1,
                    chunk_size: int = 2000) -> Iterator[LightCurve]:
    """Yield a synthetic survey's light curves, class by class.

    Args:
        survey: ``ogle`` or ``crts``.
        size: a key of ``SIZES``.
        seed: master seed; the same seed gives the same stars whatever ``workers`` is.
        workers: processes to draw with (curves are yielded in the same order).

    Yields:
        Unvalidated ``LightCurve`` objects (the dataset builder validates them like real ones).
    """
    jobs = [(label, i) for label, count in class_counts(survey, size).items() for i in range(count)]
    chunks = [(survey, jobs[i:i + chunk_size], seed) for i in range(0, len(jobs), chunk_size)]
    if workers <= 1 or len(chunks) == 1:
        for chunk in chunks:
            yield from _simulate_chunk(chunk)
        return
    with ProcessPoolExecutor(workers) as pool:
        for curves in pool.map(_simulate_chunk, chunks):
            yield from curves
