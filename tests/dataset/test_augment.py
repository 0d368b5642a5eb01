"""Thinned copies of the fitted stars (training-set augmentation)."""

import numpy as np
import pytest

from vsexp.config import AugmentConfig
from vsexp.dataset.augment import thinned_copies
from vsexp.errors import ConfigError


def test_copies_are_subsets_of_their_star_in_time_order(tiny_dataset):
    config = AugmentConfig(copies=2, keep_min=0.5, keep_max=0.7, seed=3)
    copies = thinned_copies(tiny_dataset, config, ("train",), min_points=20)
    train = tiny_dataset.split("train").set_index("object_id")
    assert len(copies.table) == 2 * len(train) == copies.manifest["copies_made"]
    assert set(copies.table["split"]) == {"train"}
    assert copies.manifest["counts"]["train"] == {c: 2 * n for c, n in tiny_dataset.manifest["counts"]["train"].items()}
    for row in copies.table.itertuples():
        star = train.loc[row.object_id.rsplit("#thin", 1)[0]]
        assert row.label == star.label
        assert np.all(np.diff(row.times) > 0)
        assert np.isin(row.times, star.times).all() and np.isin(row.mags, star.mags).all()
        assert min(len(star.times), 20) <= len(row.times) <= max(20, round(0.7 * len(star.times)))


def test_copies_are_stored_once_and_reloaded(tiny_dataset):
    config = AugmentConfig(copies=1, seed=5)
    first = thinned_copies(tiny_dataset, config, ("train", "validation"))
    again = thinned_copies(tiny_dataset, config, ("train", "validation"))
    assert again.path == first.path and again.manifest["content_hash"] == first.manifest["content_hash"]
    assert set(again.table["split"]) == {"train", "validation"}
    other = thinned_copies(tiny_dataset, AugmentConfig(copies=1, seed=6), ("train", "validation"))
    assert other.path != first.path


def test_stars_too_short_to_thin_are_copied_whole_and_counted(tiny_dataset):
    longest = int(tiny_dataset.split("train")["n_points"].max())
    copies = thinned_copies(tiny_dataset, AugmentConfig(copies=1), ("train",), min_points=longest)
    assert copies.manifest["unchanged"] == copies.manifest["copies_made"] == (tiny_dataset.table["split"] == "train").sum()


@pytest.mark.parametrize("settings, message", [
    ({"copies": -1}, "augment.copies must be >= 0"),
    ({"keep_min": 0.0}, "keep_min"),
    ({"keep_min": 0.9, "keep_max": 0.5}, "keep_min <= keep_max"),
    ({"keep_max": 1.5}, "keep_max <= 1"),
])
def test_bad_augment_settings_are_refused(settings, message):
    with pytest.raises(ConfigError, match=message):
        AugmentConfig(**settings)


def test_no_copies_or_unknown_split_is_refused(tiny_dataset):
    with pytest.raises(ConfigError, match=">= 1"):
        thinned_copies(tiny_dataset, AugmentConfig(copies=0))
    with pytest.raises(ConfigError, match="unknown split"):
        thinned_copies(tiny_dataset, AugmentConfig(copies=1), ("training",))
