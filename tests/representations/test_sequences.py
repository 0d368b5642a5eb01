"""Padded sequences: padding, clipping, channels, mask, training-only statistics; the cache."""

import numpy as np
import pytest

from vsexp.config import DmdtConfig, SequenceConfig
from vsexp.errors import ConfigError
from vsexp.representations.cache import build_representations
from vsexp.representations.sequences import SequenceStats, fit_stats, pad_sequences


def test_pads_at_end_and_clips():
    config = SequenceConfig(length=8)
    stats = SequenceStats((15.0,), (1.0,))
    short = (np.arange(3.0), np.array([15.0, 16.0, 14.0]))
    long = (np.arange(12.0), np.full(12, 17.0))
    out = pad_sequences([short, long], config, stats)
    assert out.shape == (2, 8, 1)
    np.testing.assert_array_equal(out[0, :, 0], [0, 1, -1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(out[1, :, 0], np.full(8, 2.0))


def test_dt_dmag_channels_with_mask():
    config = SequenceConfig(length=8, channels="dt,dmag", mask=True)
    times, mags = np.array([0.0, 1.0, 11.0]), np.array([15.0, 15.5, 15.0])
    stats = SequenceStats((0.0, 0.0), (1.0, 1.0))
    out = pad_sequences([(times, mags)], config, stats)[0]
    assert out.shape == (8, 3)
    np.testing.assert_allclose(out[:3, 0], [-4.0, 0.0, 1.0])  # log10 dt, floor 1e-4 for the first
    np.testing.assert_allclose(out[:3, 1], [0.0, 0.5, -0.5])
    np.testing.assert_array_equal(out[:, 2], [1, 1, 1, 0, 0, 0, 0, 0])


def test_centred_magnitudes_with_time_steps():
    config = SequenceConfig(length=8, channels="mag_centred,dt")
    times, mags = np.array([0.0, 0.1, 10.1]), np.array([17.0, 17.4, 16.8])
    out = pad_sequences([(times, mags)], config, SequenceStats((0.0, 0.0), (1.0, 1.0)))[0]
    np.testing.assert_allclose(out[:4, 0], [0.0, 0.4, -0.2, 0.0], atol=1e-6)  # the median 17.0 removed
    np.testing.assert_allclose(out[:3, 1], [-4.0, -1.0, 1.0], atol=1e-6)


def test_stats_from_given_curves_only():
    curves = [(np.arange(4.0), np.array([10.0, 12.0, 10.0, 12.0]))]
    stats = fit_stats(curves, SequenceConfig(length=8))
    assert stats.mean == (11.0,) and stats.std == (1.0,)


def test_bad_sequence_config_refused():
    for channels in ("flux", "mag,mag", ""):
        with pytest.raises(ConfigError, match="sequence.channels must be distinct names from mag, mag_centred"):
            SequenceConfig(channels=channels)


def test_representations_are_cached_and_fitted_on_train(tiny_dataset):
    sequence, dmdt = SequenceConfig(length=64), DmdtConfig(max_dm_bins=16, max_dt_bins=12, fd_sample=20)
    first = build_representations(tiny_dataset, sequence, dmdt)
    files = sorted(p.name for p in first.folder.glob("*.npy"))
    mtimes = {p: p.stat().st_mtime_ns for p in first.folder.glob("*.npy")}
    second = build_representations(tiny_dataset, sequence, dmdt)
    assert {p: p.stat().st_mtime_ns for p in second.folder.glob("*.npy")} == mtimes
    assert len(files) >= 2
    train = tiny_dataset.split("train")
    all_mags = np.concatenate([m[:64] for m in train["mags"]])
    assert second.transform.sequence_stats.mean[0] == pytest.approx(all_mags.mean())
    assert second.inputs("sequence", "test").shape == ((tiny_dataset.table["split"] == "test").sum(), 64, 1)
    assert second.inputs("dmdt", "train").dtype == np.uint8
