"""Padded light-curve sequences (paper section 2.2): fixed length, zero-padded at the end.

Channels (``SequenceConfig.channels``, any comma-separated combination):
- ``mag`` (the paper): the raw magnitudes.
- ``mag_centred``: magnitudes minus the curve's median, so the shape is not swamped by the star's
  brightness (standardising raw magnitudes over the training split divides a 0.1 mag pulsation by
  the ~1-2 mag spread of mean brightness between stars).
- ``dt``: log10 of the time step to the previous point (days; the floor for the first point).
- ``dmag``: the magnitude change from the previous point (0 for the first).
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


def raw_channels(times: np.ndarray, mags: np.ndarray, config: SequenceConfig) -> np.ndarray:
    """[min(n, length), channels] unstandardised values of one curve."""
    times, mags = times[: config.length], mags[: config.length]
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
        else:  # dmag
            columns.append(np.diff(mags, prepend=mags[0]))
    return np.stack(columns, axis=1)


def fit_stats(curves, config: SequenceConfig) -> SequenceStats:
    """Channel statistics over the points a model will see, from training curves [(times, mags, ...), ...]."""
    values = np.concatenate([raw_channels(np.asarray(c[0]), np.asarray(c[1]), config) for c in curves])
    std = values.std(axis=0)
    return SequenceStats(tuple(values.mean(axis=0).tolist()), tuple(np.where(std > 0, std, 1.0).tolist()))


def pad_sequences(curves, config: SequenceConfig, stats: SequenceStats) -> np.ndarray:
    """Standardise, clip to ``config.length`` and zero-pad at the end.

    Args:
        curves: sequence of (times [n_i], mags [n_i], ...).

    Returns:
        [n_curves, length, channels (+1 mask)] float32.
    """
    n_channels = len(stats.mean) + int(config.mask)
    out = np.zeros((len(curves), config.length, n_channels), dtype=np.float32)
    mean, std = np.asarray(stats.mean), np.asarray(stats.std)
    for index, curve in enumerate(curves):
        values = (raw_channels(np.asarray(curve[0]), np.asarray(curve[1]), config) - mean) / std
        out[index, : len(values), : len(mean)] = values
        if config.mask:
            out[index, : len(values), -1] = 1.0
    return out
