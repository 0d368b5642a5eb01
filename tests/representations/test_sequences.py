"""Padded sequences: padding, clipping, channels, mask, training-only statistics; the cache."""

import dataclasses
import hashlib
import json

import numpy as np
import pytest

from vsexp.config import DmdtConfig, FeatureConfig, SequenceConfig
from vsexp.errors import ConfigError
from vsexp.representations import cache
from vsexp.representations.cache import Transform, build_representations, curve_triples
from vsexp.representations.features import FEATURE_NAMES, FEATURES_VERSION, MAX_FREQUENCY, extract_features
from vsexp.representations.folded import Fold
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


def test_phase_order_sorts_the_kept_points_by_phase():
    config = SequenceConfig(length=8, channels="mag,phase,dmag,log_period", order="phase")
    times, mags = np.arange(9.0), 10.0 + np.arange(9.0)
    phases = np.array([0.7, 0.1, 0.9, 0.4, 0.3, 0.8, 0.2, 0.6, 0.0])  # the ninth point is clipped first
    stats = SequenceStats((0.0, 0.0, 0.0, -1.0), (1.0,) * 4)
    out = pad_sequences([(times, mags)], config, stats, [Fold(0.01, phases)])[0]
    np.testing.assert_allclose(out[:, 0], [11, 16, 14, 13, 17, 10, 15, 12])
    np.testing.assert_allclose(out[:, 1], [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9], atol=1e-6)
    np.testing.assert_allclose(out[:, 2], [0, 5, -2, -1, 4, -7, 5, -3])  # steps along the folded curve
    np.testing.assert_allclose(out[:, 3], -1.0)  # log10(0.01) standardised with mean -1
    no_period = pad_sequences([(times, mags)], config, stats, [None])[0]
    np.testing.assert_allclose(no_period[:, 0], mags[:8])  # time order, phase 0, the mean log period
    np.testing.assert_allclose(no_period[:, [1, 3]], 0.0)


def test_stats_from_given_curves_only():
    curves = [(np.arange(4.0), np.array([10.0, 12.0, 10.0, 12.0]))]
    stats = fit_stats(curves, SequenceConfig(length=8))
    assert stats.mean == (11.0,) and stats.std == (1.0,)


def test_bad_sequence_config_refused():
    for channels in ("flux", "mag,mag", ""):
        with pytest.raises(ConfigError, match="sequence.channels must be distinct names from mag, mag_centred"):
            SequenceConfig(channels=channels)
    with pytest.raises(ConfigError, match="sequence.order must be one of time, phase, got 'period'"):
        SequenceConfig(order="period")
    with pytest.raises(ConfigError, match="the 'dt' channel has no meaning in phase order"):
        SequenceConfig(channels="mag,dt", order="phase")


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


def test_phase_ordered_sequences_cached_and_served_alike(tiny_dataset):
    sequence = SequenceConfig(length=64, channels="mag_centred,phase,log_period", order="phase")
    representations = build_representations(tiny_dataset, sequence, DmdtConfig(max_dm_bins=16, max_dt_bins=12,
                                                                               fd_sample=20), kinds=("sequence",))
    cached = np.asarray(representations.array("sequence"))
    stats = representations.transform.sequence_stats
    phase = cached[:, :, 1] * stats.std[1] + stats.mean[1]
    lengths = np.minimum([len(t) for t in tiny_dataset.table["times"]], 64)
    ordered = [np.all(np.diff(phase[i, :n]) >= -1e-5) for i, n in enumerate(lengths)]
    assert all(ordered) and np.mean([phase[i, :n].max() > 0.5 for i, n in enumerate(lengths)]) > 0.9
    raw = curve_triples(tiny_dataset.table.iloc[:5])
    np.testing.assert_allclose(representations.transform.inputs("sequence", raw), cached[:5], atol=1e-5)


EXTRACTOR_FIELDS = ("features_version", "max_frequency", "single_precision")  # what transforms saved before them lack


def _record_extractors(monkeypatch) -> list[FeatureConfig]:
    """Replaces the feature extractor by a recorder of the extractor it is called with."""
    extractors = []
    monkeypatch.setattr(cache, "extract_features", lambda curves, version, max_frequency, single_precision, groups:
                        extractors.append(FeatureConfig(version, max_frequency, single_precision)) or
                        np.full((len(curves), len(FEATURE_NAMES)), np.nan, np.float32))
    return extractors


def test_transform_keeps_the_feature_version_it_was_trained_with(tiny_dataset, monkeypatch):
    sequence = SequenceConfig(length=64, channels="mag_centred,phase,log_period", order="phase")
    transform = build_representations(tiny_dataset, sequence, DmdtConfig(max_dm_bins=16, max_dt_bins=12, fd_sample=20),
                                      kinds=("sequence",)).transform
    assert transform.features_version == FEATURES_VERSION
    assert Transform.from_dict(transform.to_dict()).to_dict() == transform.to_dict()
    saved_before_versions = {k: v for k, v in transform.to_dict().items() if k not in EXTRACTOR_FIELDS}
    old = Transform.from_dict(saved_before_versions)
    assert old.features_version == 1 and old.key("sequence") != transform.key("sequence")
    assert old.key("features") != transform.key("features")
    extractors = _record_extractors(monkeypatch)
    old.inputs("sequence", curve_triples(tiny_dataset.table.iloc[:3]))
    assert extractors == [FeatureConfig(1, MAX_FREQUENCY)]  # served with the extractor it was trained with


@pytest.mark.parametrize("extractor", [FeatureConfig(max_frequency=12.5), FeatureConfig(single_precision=True),
                                       FeatureConfig(max_frequency=12.5, single_precision=True)])
def test_transform_keeps_the_periodogram_ceiling_and_precision_it_was_trained_with(tiny_dataset, monkeypatch, extractor):
    sequence = SequenceConfig(length=64, channels="mag_centred,phase,log_period", order="phase")
    dmdt_config = DmdtConfig(max_dm_bins=16, max_dt_bins=12, fd_sample=20)
    default = build_representations(tiny_dataset, sequence, dmdt_config, kinds=("sequence",))
    other = build_representations(tiny_dataset, sequence, dmdt_config, kinds=("sequence",), extractor=extractor)
    transform = other.transform
    assert transform.extractor == extractor
    assert Transform.from_dict(transform.to_dict()).extractor == transform.extractor
    for kind in ("features", "sequence", "folded"):  # cached apart from the default extractor's inputs
        assert transform.key(kind) != default.transform.key(kind)
    np.testing.assert_array_equal(np.asarray(other.array("features")),
                                  extract_features(curve_triples(tiny_dataset.table), max_frequency=extractor.max_frequency,
                                                   single_precision=extractor.single_precision))
    extractors = _record_extractors(monkeypatch)
    transform.inputs("sequence", curve_triples(tiny_dataset.table.iloc[:3]))
    assert extractors == [extractor]


def test_regression_a_transform_cached_before_feature_versions_is_not_reused(tiny_dataset):
    # the bug: a transform cached by an earlier vsexp (no version: read as 1) was reused for a new
    # model, whose features then came from version 2 for training but version 1 when served
    sequence, dmdt_config = SequenceConfig(length=32), DmdtConfig(max_dm_bins=8, max_dt_bins=6, fd_sample=20)
    fresh = build_representations(tiny_dataset, sequence, dmdt_config).transform
    old_key = hashlib.sha256(json.dumps([dataclasses.asdict(sequence), dataclasses.asdict(dmdt_config)],
                                        sort_keys=True).encode()).hexdigest()[:12]
    old_state = {k: v for k, v in fresh.to_dict().items() if k not in EXTRACTOR_FIELDS}
    (cache.representations_folder(tiny_dataset) / f"transform-{old_key}.json").write_text(json.dumps(old_state))
    representations = build_representations(tiny_dataset, sequence, dmdt_config, kinds=("features",))
    assert representations.transform.features_version == FEATURES_VERSION
    old = cache.Representations(tiny_dataset, Transform.from_dict(old_state), representations.folder)
    np.testing.assert_array_equal(np.asarray(old.array("features")), cache.dataset_features(tiny_dataset, FeatureConfig(version=1)))
