"""Phase-folded light curves: the curve folded at its best period, binned in phase.

The period comes from the feature extractor (Lomb-Scargle peak, refined by a harmonic fit); when a
4-harmonic fit at twice that period leaves clearly less variance unexplained (eclipsing binaries
with unequal minima, whose periodogram peaks at half the orbital period), the curve is folded at
2P. Pulsators do not pass: at 2P the fit holds fewer of their true harmonics. Phase 0 is put at the
brightest point of the fitted harmonic model, so the same class looks the same in every star.

Output per curve: [bins, 2] — the mean magnitude per phase bin, centred on the curve's median and
divided by its 5-95% range (empty bins interpolated around the circle), and the share of points in
the bin. Period and amplitude themselves are in the feature vector.
"""

from __future__ import annotations

import hashlib
import json
from typing import NamedTuple

import numpy as np

from vsexp.representations.features import FEATURE_NAMES, harmonic_fit, normalised_weights

RESIDUAL_RATIO = 0.7  # 2P wins when it leaves at most 70% of the variance P leaves unexplained...
MIN_GAIN = 0.01  # ...and explains at least 1% more of the total
_LOG_PERIOD = FEATURE_NAMES.index("log_period")
_EXPLAINED_P = FEATURE_NAMES.index("explained_at_p")
_EXPLAINED_2P = FEATURE_NAMES.index("explained_at_2p")


def folding_period(features: np.ndarray) -> float:
    """The period to fold at from one curve's feature vector (NaN when there is none)."""
    period = 10 ** features[_LOG_PERIOD]
    at_p, at_2p = features[_EXPLAINED_P], features[_EXPLAINED_2P]
    if (1 - at_2p) < RESIDUAL_RATIO * (1 - at_p) and at_2p > at_p + MIN_GAIN:
        period *= 2
    return float(period)


def aligned_phases(times, mags, errors, period: float) -> np.ndarray:
    """Each point's phase in [0, 1) at ``period``, zero at the brightest point of the harmonic fit."""
    _, _, model = harmonic_fit(times, mags, normalised_weights(np.asarray(errors)), 1.0 / period)
    phase = (times / period) % 1.0
    return (phase - phase[np.argmin(model)]) % 1.0


class Fold(NamedTuple):
    """A curve's folding period and each point's aligned phase."""

    period: float
    phases: np.ndarray


def _foldable(times, period: float) -> bool:
    return bool(np.isfinite(period) and period > 0 and len(times) >= 4)


def curve_folds(curves, features: np.ndarray) -> list[Fold | None]:
    """Each curve folded at its folding period; None where the period is undefined."""
    folds = []
    for (times, mags, errors), vector in zip(curves, features):
        period = folding_period(vector)
        folds.append(Fold(period, aligned_phases(np.asarray(times), np.asarray(mags), np.asarray(errors), period))
                     if _foldable(times, period) else None)
    return folds


def fold(times, mags, errors, period: float, bins: int) -> np.ndarray:
    """[bins, 2] folded, binned, normalised curve (zeros when the period is undefined)."""
    out = np.zeros((bins, 2), dtype=np.float32)
    if not _foldable(times, period):
        return out
    phase = aligned_phases(times, mags, errors, period)
    low, median, high = np.percentile(mags, [5, 50, 95])
    scale = max(high - low, 1e-3)
    index = np.minimum((phase * bins).astype(int), bins - 1)
    counts = np.bincount(index, minlength=bins)
    sums = np.bincount(index, weights=(mags - median) / scale, minlength=bins)
    filled = counts > 0
    centres = (np.arange(bins) + 0.5) / bins
    values = np.interp(centres, centres[filled], sums[filled] / counts[filled], period=1.0)
    out[:, 0] = values
    out[:, 1] = counts / counts.sum()
    return out


def folded_curves(curves, features: np.ndarray, bins: int) -> np.ndarray:
    """[n, bins, 2] for curves [(times, mags, errors), ...] and their feature vectors [n, F]."""
    return np.stack([fold(np.asarray(t), np.asarray(m), np.asarray(e), folding_period(f), bins)
                     for (t, m, e), f in zip(curves, features)]) if len(curves) else np.zeros((0, bins, 2), np.float32)


FOLD_BINS = 64


class FoldedRepresentation:
    """``folded``: [bins, 2] float32, the curve folded at its period (state: the number of bins;
    nothing is fitted)."""

    name = "folded"

    def fit(self, settings, train) -> int:
        return FOLD_BINS

    def needs_features(self, bins: int) -> bool:
        return True

    def compute(self, bins: int, curves, features, extractor, progress=None) -> np.ndarray:
        return folded_curves(curves, features, bins)

    def to_dict(self, bins: int) -> dict:
        return {"version": 1, "bins": bins}

    def from_dict(self, data: dict) -> int:
        return data["bins"]

    def cache_key(self, bins: int, extractor) -> str:
        from vsexp.representations.protocol import extractor_state

        part = {"version": 1, "bins": bins, "features": extractor_state(extractor)}  # as keyed before the protocol
        return hashlib.sha256(json.dumps(part, sort_keys=True).encode()).hexdigest()[:12]


REPRESENTATION = FoldedRepresentation()
