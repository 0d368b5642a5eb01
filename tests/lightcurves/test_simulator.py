"""The synthetic survey simulator: class mix, reproducibility, per-class physics, cadence."""

import numpy as np
import pytest

from vsexp.errors import ConfigError
from vsexp.lightcurves import simulator


def test_class_mix_follows_table1_with_floor():
    counts = simulator.class_counts("ogle", "small")
    assert counts["ECLP"] > counts["RRL"] > counts["LPV"] > counts["CEPH"] >= 400
    assert counts["DSCT"] == 400  # floored so the rare class survives a 60/20/20 split
    assert simulator.class_counts("crts", "paper") == simulator.CRTS_TABLE1
    assert sum(simulator.class_counts("ogle", "paper").values()) == 104006
    assert sum(simulator.class_counts("crts", "paper").values()) == 68867


def test_unknown_size_or_survey_is_refused():
    with pytest.raises(ConfigError, match="allowed: tiny, small, medium, paper"):
        simulator.class_counts("ogle", "huge")
    with pytest.raises(ConfigError, match="allowed: ogle, crts"):
        simulator.class_counts("ztf", "tiny")


def test_same_seed_same_curves_whatever_the_workers():
    one = list(simulator.simulate_survey("crts", "tiny", seed=3, workers=1, chunk_size=10))
    two = list(simulator.simulate_survey("crts", "tiny", seed=3, workers=2, chunk_size=10))
    assert [c.object_id for c in one] == [c.object_id for c in two]
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a.mags, b.mags)
    other = next(simulator.simulate_survey("crts", "tiny", seed=4))
    assert not np.array_equal(other.mags[:5], one[0].mags[:5])


@pytest.mark.parametrize("survey, label, low, high", [
    ("crts", "EW", 0.22, 0.7), ("crts", "RRab", 0.4, 0.9), ("crts", "RRc", 0.24, 0.42),
    ("crts", "LPV", 10, 500), ("ogle", "CEPH", 0.5, 40), ("ogle", "DSCT", 0.03, 0.2),
])
def test_periods_in_physical_ranges(survey, label, low, high):
    periods = [simulator.simulate_star(survey, label, i, seed=0).metadata["period"] for i in range(40)]
    assert low <= min(periods) and max(periods) <= high


def test_rrd_period_ratio_and_crts_visits():
    star = simulator.simulate_star("crts", "RRd", 1, seed=0)
    assert star.metadata["period"] / star.metadata["period_fundamental"] == pytest.approx(0.745)
    short = np.mean(np.diff(star.times) < 0.05)
    assert 0.6 < short < 0.8  # four exposures per visit: ~3 of 4 intervals are minutes


def test_noise_grows_with_magnitude():
    faint = simulator.error_model(simulator.CRTS_PROFILE, np.array([19.5]))[0]
    bright = simulator.error_model(simulator.CRTS_PROFILE, np.array([14.0]))[0]
    assert bright == pytest.approx(0.05, abs=0.01) and faint > 3 * bright


def test_points_vary_and_some_fall_below_the_paper_cut():
    rng = np.random.default_rng(1)
    counts = [len(simulator.draw_times(simulator.OGLE_PROFILE, rng)) for _ in range(2000)]
    assert 320 < np.median(counts) < 400  # the paper's OGLE mode is 359
    assert 0 < np.mean(np.array(counts) < 100) < 0.02


def test_the_configs_size_names_are_the_simulators():
    from vsexp.config import SYNTHETIC_SIZES
    from vsexp.lightcurves.simulator import SIZES

    assert tuple(SIZES) == SYNTHETIC_SIZES
