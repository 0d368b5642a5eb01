"""Padded light-curve sequences (paper section 2.2): fixed length, zero-padded at the end.

Channels (``SequenceConfig.channels``, any comma-separated combination):
- ``mag`` (the paper): the raw magnitudes.
- ``mag_centred``: magnitudes minus the curve's median, so the shape is not swamped by the star's
  brightness (standardising raw magnitudes over the training split divides a 0.1 mag pulsation by
  the ~1-2 mag spread of mean brightness between stars).
- ``dt``: log10 of the time step to the previous point (days; the floor for the first point).
- ``dmag``: the magnitude change from the previous point (0 for the first).
- ``phase``: the point's phase at the curve's period, 0 at its brightest (0 where there is none).
- ``log_period``: log10 of that period in days, the same at every point (the training mean where
  there is none): phase order alone hides the period, which is what tells a Cepheid from an RR Lyrae.
``SequenceConfig.order = phase`` sorts the kept points (the first ``length`` in time) by that phase:
the curve folded, as a sequence; ``dmag`` is then the step along the folded curve (``dt`` is refused).
Each channel is standardised with the training split's mean and std.
An optional mask channel (1 = real point, 0 = padding) lets a model ignore padding. Padding is 0
after standardisation, so it sits at the training mean.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from vsexp.config import SequenceConfig

MIN_DT_DAYS = 1e-4  # log10(dt) floor: exposures minutes apart stay distinguishable


@dataclasses.dataclass(frozen=True)
class SequenceStats:
    """Per-channel mean and std from the training split (mask excluded)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def to_dict(self) -> dict:
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: dict) -> "SequenceStats":
        return cls(tuple(data["mean"]), tuple(data["std"]))


def raw_channels(times: np.ndarray, mags: np.ndarray, config: SequenceConfig, fold=None) -> np.ndarray:
    """[min(n, length), channels] unstandardised values of one curve (NaN: unknown).

    Args:
        fold: the curve's ``folded.Fold`` (period, phases) when ``config.needs_period``; None when
            the curve has no period (time order, phase 0, log period unknown).
    """
    times, mags = times[: config.length], mags[: config.length]
    phases = fold.phases[: config.length] if fold is not None else np.zeros(len(times))
    if config.order == "phase":
        order = np.argsort(phases, kind="stable")
        times, mags, phases = times[order], mags[order], phases[order]
    columns = []
    for name in config.channel_names:
        if name == "mag":
            columns.append(mags)
        elif name == "mag_centred":
            columns.append(mags - np.median(mags))
        elif name == "dt":
            log_dt = np.log10(np.maximum(np.diff(times, prepend=times[0]), MIN_DT_DAYS))
            log_dt[0] = np.log10(MIN_DT_DAYS)
            columns.append(log_dt)
        elif name == "dmag":
            columns.append(np.diff(mags, prepend=mags[0]))
        elif name == "phase":
            columns.append(phases)
        else:  # log_period
            columns.append(np.full(len(times), np.log10(fold.period) if fold is not None else np.nan))
    return np.stack(columns, axis=1)


def _folds(curves, folds):
    return folds if folds is not None else [None] * len(curves)


def fit_stats(curves, config: SequenceConfig, folds=None) -> SequenceStats:
    """Channel statistics over the points a model will see, from training curves [(times, mags, ...), ...]
    (and their ``folded.Fold``s when ``config.needs_period``)."""
    values = np.concatenate([raw_channels(np.asarray(c[0]), np.asarray(c[1]), config, fold)
                             for c, fold in zip(curves, _folds(curves, folds))])
    mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    usable = np.isfinite(std) & (std > 0)
    return SequenceStats(tuple(np.nan_to_num(mean).tolist()), tuple(np.where(usable, std, 1.0).tolist()))


def pad_sequences(curves, config: SequenceConfig, stats: SequenceStats, folds=None) -> np.ndarray:
    """Standardise, clip to ``config.length`` and zero-pad at the end.

    Args:
        curves: sequence of (times [n_i], mags [n_i], ...).
        folds: per curve, its ``folded.Fold`` or None (``folded.curve_folds``), when
            ``config.needs_period``.

    Returns:
        [n_curves, length, channels (+1 mask)] float32.
    """
    n_channels = len(stats.mean) + int(config.mask)
    out = np.zeros((len(curves), config.length, n_channels), dtype=np.float32)
    mean, std = np.asarray(stats.mean), np.asarray(stats.std)
    for index, (curve, fold) in enumerate(zip(curves, _folds(curves, folds))):
        values = np.nan_to_num((raw_channels(np.asarray(curve[0]), np.asarray(curve[1]), config, fold) - mean) / std)
        out[index, : len(values), : len(mean)] = values
        if config.mask:
            out[index, : len(values), -1] = 1.0
    return out


def _curve_folds(curves, features, config: SequenceConfig):
    """Each curve's fold when the sequences need periods (``config.needs_period``), else None."""
    if not config.needs_period:
        return None
    from vsexp.representations.folded import curve_folds

    return curve_folds(curves, features)


class SequenceRepresentation:
    """``sequence``: [length, channels] float32 (state: the settings and the training statistics)."""

    name = "sequence"

    def fit(self, settings, train) -> tuple[SequenceConfig, SequenceStats]:
        config = settings.sequence
        features = train.features() if config.needs_period else None
        return config, fit_stats(train.curves, config, _curve_folds(train.curves, features, config))

    def needs_features(self, state) -> bool:
        return state[0].needs_period

    def compute(self, state, curves, features, extractor, progress=None) -> np.ndarray:
        config, stats = state
        return pad_sequences(curves, config, stats, _curve_folds(curves, features, config))

    def to_dict(self, state) -> dict:
        return {"sequence_config": dataclasses.asdict(state[0]), "sequence_stats": state[1].to_dict()}

    def from_dict(self, data: dict) -> tuple[SequenceConfig, SequenceStats]:
        return SequenceConfig(**data["sequence_config"]), SequenceStats.from_dict(data["sequence_stats"])


REPRESENTATION = SequenceRepresentation()
