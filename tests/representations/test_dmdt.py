"""dm-dt histograms: exact equality with numpy.histogram2d, FD bins, normalisation."""

import numpy as np
import pytest

from vsexp.config import DmdtConfig, SequenceConfig
from vsexp.errors import ConfigError
from vsexp.representations.cache import build_representations, curve_triples
from vsexp.representations.protocol import Settings
from vsexp.representations.dmdt import (
    DT_MAX_CELLS,
    DmdtBins,
    _kernel_tables,
    dmdt_counts,
    dmdt_images,
    dmdt_phase_images,
    fd_bins,
    mahabal_bins,
    normalise_counts,
    numpy_dmdt_counts,
)
from vsexp.representations.folded import Fold


def _random_curves(count=80, seed=0, rounding=None):
    rng = np.random.default_rng(seed)
    curves = []
    for _ in range(count):
        n = int(rng.integers(2, 200))
        times = np.sort(rng.uniform(0, 3000, n))
        mags = rng.normal(15, 0.8, n)
        if rounding:  # many ties and pairs exactly on bin edges
            times, mags = np.round(times, rounding[0]), np.round(mags, rounding[1])
        curves.append((times, mags))
    return curves


@pytest.mark.parametrize("rounding", [None, (0, 1)])
@pytest.mark.parametrize("bins", [
    mahabal_bins(),
    DmdtBins(np.linspace(-2, 2, 91), np.logspace(-2, np.log10(3000), 54), "fd"),
    DmdtBins(np.array([-1.0, -0.5, 0.0, 0.3, 1.0]), np.array([0.0, 0.1, 1.0, 10.0, 100.0, 2900.0]), "edges"),
])
def test_counts_equal_numpy_histogram2d(bins, rounding):
    curves = _random_curves(rounding=rounding)
    counts = dmdt_counts(curves, bins)
    for (times, mags), ours in zip(curves, counts):
        np.testing.assert_array_equal(ours, numpy_dmdt_counts(times, mags, bins))


def test_values_on_the_last_edge_are_counted_like_numpy():
    bins = DmdtBins(np.array([-1.0, 0.0, 1.0]), np.array([1.0, 2.0, 3.0]), "edges")
    times, mags = np.array([0.0, 1.0, 3.0]), np.array([0.0, 1.0, -1.0])  # dt=3 and dm=1 hit last edges
    np.testing.assert_array_equal(dmdt_counts([(times, mags)], bins)[0], numpy_dmdt_counts(times, mags, bins))


def test_single_and_multi_thread_agree():
    curves = _random_curves(count=40, seed=1)
    bins = mahabal_bins()
    np.testing.assert_array_equal(dmdt_counts(curves, bins, threads=1), dmdt_counts(curves, bins))


def test_fd_bins_on_known_case():
    # evenly spaced times, uniform magnitudes: FD counts are known from numpy's estimator per curve
    times = np.arange(50, dtype=float)
    mags = np.linspace(14, 16, 50)
    bins = fd_bins([(times, mags)] * 3, DmdtConfig(max_dm_bins=1000, max_dt_bins=1000))
    i, j = np.triu_indices(50, 1)
    expected_dm = np.histogram_bin_edges(mags[j] - mags[i], "fd").size - 1
    expected_dt = np.histogram_bin_edges(np.log10(times[j] - times[i]), "fd").size - 1
    assert bins.shape == (expected_dm, expected_dt)
    assert bins.dt_edges[0] == 1.0 and bins.dt_edges[-1] == 49.0  # the closest pair is 1 day apart
    later = fd_bins([(times, mags)] * 3, DmdtConfig(dt_low_quantile=0.1))
    assert later.dt_edges[0] == np.quantile(times[j] - times[i], 0.1)
    capped = fd_bins([(times, mags)], DmdtConfig(max_dm_bins=8, max_dt_bins=5))
    assert capped.shape == (8, 5) and capped.details["fd_median_dm_bins"] == expected_dm


def test_mahabal_normalisation_scales_by_pairs():
    counts = np.array([[[3, 0], [0, 7]]])
    images = normalise_counts(counts, np.array([5]))  # 10 pairs
    np.testing.assert_array_equal(images[0], [[77, 0], [0, 179]])
    assert images.dtype == np.uint8


def test_column_normalisation_scales_by_pairs_in_each_dt_column():
    counts = np.array([[[1, 0, 30], [3, 0, 10]]])  # dt columns hold 4, 0 and 40 pairs
    images = normalise_counts(counts, np.array([20]), "column")
    np.testing.assert_array_equal(images[0], [[64, 0, 192], [192, 0, 64]])
    mahabal = normalise_counts(counts, np.array([20]))  # 190 pairs: the short-dt column nearly vanishes
    np.testing.assert_array_equal(mahabal[0], [[2, 0, 41], [5, 0, 14]])


def test_column_normalisation_travels_with_the_bins(tmp_path):
    bins = fd_bins(_random_curves(count=10), DmdtConfig(normalisation="column", max_dm_bins=8, max_dt_bins=6))
    again = DmdtBins.from_dict(bins.to_dict())
    assert again.normalisation == "column"
    images = dmdt_images(_random_curves(count=3, seed=5), again)
    column_sums = images.astype(int).sum(axis=1)
    assert np.all((column_sums == 0) | (column_sums >= 255))  # every non-empty column is scaled to its own pairs


def test_bad_edges_refused():
    with pytest.raises(ConfigError, match="strictly increasing"):
        DmdtBins(np.array([0.0, 0.0, 1.0]), np.array([1.0, 2.0]), "edges")
    with pytest.raises(ConfigError, match="dt_edges must end above 0"):
        DmdtBins(np.array([0.0, 1.0]), np.array([-2.0, -1.0]), "edges")


def test_bad_dmdt_config_refused():
    for settings, message in (({"binning": "log"}, "dmdt.binning must be"), ({"max_dt_bins": 1}, "must be >= 2"),
                              ({"dt_low_quantile": 0.5}, r"dt_low_quantile must be in \[0, 0.5\)"),
                              ({"dt_low_quantile": -0.1}, "dt_low_quantile"),
                              ({"normalisation": "log"}, "dmdt.normalisation must be 'mahabal' or 'column'")):
        with pytest.raises(ConfigError, match=message):
            DmdtConfig(**settings)


def test_phase_images_bin_every_pair_by_its_phase_difference():
    bins = DmdtBins(np.linspace(-1, 1, 9), np.logspace(-2, 3, 5), "fd")
    rng = np.random.default_rng(3)
    times, mags = np.sort(rng.uniform(0, 100, 40)), rng.normal(0, 0.3, 40)
    phases = (times / 0.37) % 1.0
    [image, empty] = dmdt_phase_images([(times, mags), (times, mags)], [Fold(0.37, phases), None], bins)
    order = np.argsort(phases)
    i, j = np.triu_indices(40, k=1)
    dphase = phases[order][j] - phases[order][i]
    dm = mags[order][j] - mags[order][i]
    counts, _, _ = np.histogram2d(dm, dphase, bins=[bins.dm_edges, np.linspace(0, 1, 5)])
    np.testing.assert_array_equal(image, normalise_counts(counts[None].astype(np.int64), np.array([40]))[0])
    assert image.shape == bins.shape and not empty.any()


def test_phase_channel_cached_and_served_alike(tiny_dataset):
    config = DmdtConfig(max_dm_bins=16, max_dt_bins=12, fd_sample=20, phase_channel=True)
    representations = build_representations(tiny_dataset, ("dmdt",), Settings(SequenceConfig(length=64), config))
    cached = np.asarray(representations.array("dmdt"))
    assert cached.shape == (len(tiny_dataset.table), 16, 12, 2) and cached[..., 1].any()
    raw = curve_triples(tiny_dataset.table.iloc[:5])
    np.testing.assert_array_equal(representations.transform.inputs(raw)["dmdt"], cached[:5])
    plain = build_representations(tiny_dataset, ("dmdt",), Settings(SequenceConfig(length=64), DmdtConfig(
        max_dm_bins=16, max_dt_bins=12, fd_sample=20)))
    np.testing.assert_array_equal(np.asarray(plain.array("dmdt")), cached[..., 0])


def test_counts_exact_for_pairs_on_uniform_edges_and_large_magnitudes():
    # the uniform-dm fast path bins by arithmetic: pairs exactly on edges (and a flux-like offset
    # that makes the arithmetic lose precision) must still be counted like numpy's search
    bins = DmdtBins(np.linspace(-1.0, 1.0, 41), np.linspace(0.5, 40.5, 9), "fd")
    rng = np.random.default_rng(4)
    times = np.arange(40.0)
    for offset in (0.0, 15.0, 1e6):
        mags = offset + rng.choice(bins.dm_edges, 40)  # every dm a difference of two edges
        np.testing.assert_array_equal(dmdt_counts([(times, mags)], bins)[0], numpy_dmdt_counts(times, mags, bins))


def test_counts_exact_for_dt_edges_spanning_hundreds_of_octaves():
    # the dt table then uses coarser float-bit cells; cells with several edges are searched exactly
    bins = DmdtBins(np.array([-1.0, 0.0, 1.0]), np.logspace(-200, 200, 41), "edges")
    assert _kernel_tables(bins).dt_codes.size <= DT_MAX_CELLS
    curves = _random_curves(count=10, seed=6)
    for (times, mags), ours in zip(curves, dmdt_counts(curves, bins)):
        np.testing.assert_array_equal(ours, numpy_dmdt_counts(times, mags, bins))
