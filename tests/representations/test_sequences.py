"""Padded sequences: padding, clipping, channels, mask, training-only statistics; the cache."""

import dataclasses
import hashlib
import json

import numpy as np
import pytest

from vsexp.config import DmdtConfig, SequenceConfig
from vsexp.errors import ConfigError
from vsexp.representations import cache
from vsexp.representations.cache import Transform, build_representations, curve_triples
from vsexp.representations.extractor import FeatureConfig
from vsexp.representations.features import FEATURE_NAMES, FEATURES_VERSION, MAX_FREQUENCY, extract_features
from vsexp.representations.folded import Fold
from vsexp.representations.protocol import Settings
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


def _settings(sequence=SequenceConfig(length=64), extractor=FeatureConfig(), **dmdt) -> Settings:
    return Settings(sequence, DmdtConfig(**({"max_dm_bins": 16, "max_dt_bins": 12, "fd_sample": 20} | dmdt)), extractor)


def test_representations_are_cached_and_fitted_on_train(tiny_dataset):
    first = build_representations(tiny_dataset, ("sequence", "dmdt"), _settings())
    files = sorted(p.name for p in first.folder.glob("*.npy"))
    mtimes = {p: p.stat().st_mtime_ns for p in first.folder.glob("*.npy")}
    second = build_representations(tiny_dataset, ("sequence", "dmdt"), _settings())
    assert {p: p.stat().st_mtime_ns for p in second.folder.glob("*.npy")} == mtimes
    assert len(files) >= 2
    train = tiny_dataset.split("train")
    all_mags = np.concatenate([m[:64] for m in train["mags"]])
    _, stats = second.transform.states["sequence"]
    assert stats.mean[0] == pytest.approx(all_mags.mean())
    test_inputs = second.inputs("test")
    assert list(test_inputs) == ["sequence", "dmdt"]
    assert test_inputs["sequence"].shape == ((tiny_dataset.table["split"] == "test").sum(), 64, 1)
    assert second.inputs("train")["dmdt"].dtype == np.uint8


def test_phase_ordered_sequences_cached_and_served_alike(tiny_dataset):
    sequence = SequenceConfig(length=64, channels="mag_centred,phase,log_period", order="phase")
    representations = build_representations(tiny_dataset, ("sequence",), _settings(sequence))
    cached = np.asarray(representations.array("sequence"))
    _, stats = representations.transform.states["sequence"]
    phase = cached[:, :, 1] * stats.std[1] + stats.mean[1]
    lengths = np.minimum([len(t) for t in tiny_dataset.table["times"]], 64)
    ordered = [np.all(np.diff(phase[i, :n]) >= -1e-5) for i, n in enumerate(lengths)]
    assert all(ordered) and np.mean([phase[i, :n].max() > 0.5 for i, n in enumerate(lengths)]) > 0.9
    raw = curve_triples(tiny_dataset.table.iloc[:5])
    np.testing.assert_allclose(representations.transform.inputs(raw)["sequence"], cached[:5], atol=1e-5)


def _record_extractors(monkeypatch) -> list[FeatureConfig]:
    """Replaces the feature extractor by a recorder of the extractor it is called with."""
    extractors = []
    monkeypatch.setattr(cache, "features_by", lambda curves, extractor, groups: extractors.append(extractor) or
                        np.full((len(curves), len(FEATURE_NAMES)), np.nan, np.float32))
    return extractors


def _first_format(transform: Transform) -> dict:
    """The transform as the first format saved it: every state in one flat dict, no extractor fields."""
    states = transform.to_dict()["representations"]
    return {**states["sequence"], "dmdt_bins": states["dmdt"], "fold_bins": 64, "feature_center": None,
            "feature_scale": None}


def test_transform_keeps_the_feature_version_it_was_trained_with(tiny_dataset, monkeypatch):
    sequence = SequenceConfig(length=64, channels="mag_centred,phase,log_period", order="phase")
    transform = build_representations(tiny_dataset, ("sequence", "dmdt"), _settings(sequence)).transform
    assert transform.extractor.version == FEATURES_VERSION
    assert Transform.from_dict(transform.to_dict()).to_dict() == transform.to_dict()
    old = Transform.from_dict(_first_format(transform), names=["sequence"])  # saved before versions existed
    assert old.names == ("sequence",) and old.extractor.version == 1 and old.key("sequence") != transform.key("sequence")
    extractors = _record_extractors(monkeypatch)
    old.inputs(curve_triples(tiny_dataset.table.iloc[:3]))
    assert extractors == [FeatureConfig(1, MAX_FREQUENCY)]  # served with the extractor it was trained with


@pytest.mark.parametrize("extractor", [FeatureConfig(max_frequency=12.5), FeatureConfig(single_precision=True),
                                       FeatureConfig(max_frequency=12.5, single_precision=True)])
def test_transform_keeps_the_periodogram_ceiling_and_precision_it_was_trained_with(tiny_dataset, monkeypatch, extractor):
    sequence = SequenceConfig(length=64, channels="mag_centred,phase,log_period", order="phase")
    names = ("features", "sequence", "folded")
    default = build_representations(tiny_dataset, names, _settings(sequence))
    other = build_representations(tiny_dataset, names, _settings(sequence, extractor))
    transform = other.transform
    assert transform.extractor == extractor
    assert Transform.from_dict(transform.to_dict()).extractor == transform.extractor
    for name in names:  # cached apart from the default extractor's inputs
        assert transform.key(name) != default.transform.key(name)
    np.testing.assert_array_equal(np.asarray(other.array("features")),
                                  extract_features(curve_triples(tiny_dataset.table), max_frequency=extractor.max_frequency,
                                                   single_precision=extractor.single_precision))
    extractors = _record_extractors(monkeypatch)
    transform.inputs(curve_triples(tiny_dataset.table.iloc[:3]))
    assert extractors == [extractor]


def test_regression_a_transform_cached_before_feature_versions_is_not_reused(tiny_dataset):
    # the bug: a transform cached by an earlier vsexp (no version: read as 1) was reused for a new
    # model, whose features then came from version 2 for training but version 1 when served
    settings = _settings(SequenceConfig(length=32), max_dm_bins=8, max_dt_bins=6)
    fresh = build_representations(tiny_dataset, ("sequence", "dmdt"), settings).transform
    old_key = hashlib.sha256(json.dumps([dataclasses.asdict(settings.sequence), dataclasses.asdict(settings.dmdt)],
                                        sort_keys=True).encode()).hexdigest()[:12]
    (cache.representations_folder(tiny_dataset) / f"transform-{old_key}.json").write_text(json.dumps(_first_format(fresh)))
    representations = build_representations(tiny_dataset, ("features", "sequence"), settings)
    assert representations.transform.extractor.version == FEATURES_VERSION
    old = cache.Representations(tiny_dataset, Transform.from_dict(_first_format(fresh), ["features"]), representations.folder)
    np.testing.assert_array_equal(np.asarray(old.array("features")), cache.dataset_features(tiny_dataset, FeatureConfig(version=1)))
