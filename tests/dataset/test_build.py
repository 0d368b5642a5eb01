"""Dataset building: class selection, the split by star, the manifest, reuse."""

import json

import numpy as np
import pandas as pd
import pytest

from vsexp.config import DataConfig
from vsexp.dataset.build import build_dataset, counts_table, parse_source
from vsexp.errors import ConfigError, DatasetError


def test_split_keeps_stars_apart_and_ratios(tiny_dataset):
    table = tiny_dataset.table
    assert table.groupby("object_id")["split"].nunique().max() == 1
    counts = table.groupby(["label", "split"]).size().unstack()
    shares = counts.div(counts.sum(axis=1), axis=0)
    assert (shares["train"] - 0.6).abs().max() < 0.1
    assert (shares["test"] - 0.2).abs().max() < 0.1


def test_manifest_records_counts_report_and_hash(tiny_dataset):
    manifest = json.loads((tiny_dataset.path / "manifest.json").read_text())
    assert manifest["classes"] == ["CEPH", "DSCT", "ECLP", "LPV", "RRL"]
    assert sum(manifest["counts"]["train"].values()) == (tiny_dataset.table["split"] == "train").sum()
    assert len(manifest["content_hash"]) == 64
    assert manifest["report"]["accepted"] == manifest["stars"]
    assert counts_table(tiny_dataset).loc["total", "total"] == manifest["stars"]


def test_same_inputs_reuse_the_stored_dataset(tiny_dataset):
    again = build_dataset(DataConfig(**tiny_dataset.manifest["config"]))
    assert again.manifest["reused"] and again.path == tiny_dataset.path
    other_seed = build_dataset(DataConfig(**{**tiny_dataset.manifest["config"], "seed": 7}))
    assert other_seed.path != tiny_dataset.path


def _long_table(path, classes=("A", "B"), stars=10, points=30):
    rows = []
    rng = np.random.default_rng(0)
    for label in classes:
        for s in range(stars):
            for t in np.sort(rng.uniform(0, 100, points)):
                rows.append({"id": f"{label}{s}", "time": t, "mag": 15 + rng.normal(), "err": 0.1, "label": label})
    pd.DataFrame(rows).to_csv(path, index=False)


def test_generic_long_table_with_catalogue_names_and_unselected_classes(tmp_path):
    path = tmp_path / "long.csv"
    _long_table(path, classes=("RS_CVn", "EW", "HADS"), stars=6)
    dataset = build_dataset(DataConfig(source=f"generic:{path}", class_set="RSCVn,EW", min_points=10))
    assert dataset.classes == ["RSCVn", "EW"]  # RS_CVn mapped to RSCVn
    assert dataset.manifest["report"]["rejected_by_reason"] == {"class_not_selected": 6}


def test_class_too_small_to_split_is_a_clear_error(tmp_path):
    path = tmp_path / "long.csv"
    _long_table(path, stars=3)
    with pytest.raises(DatasetError, match="fewer than 5 stars"):
        build_dataset(DataConfig(source=f"generic:{path}", class_set="all", min_points=10))


def test_bad_sources_and_fractions_are_refused(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        parse_source("crts:/no/such/dir")
    with pytest.raises(DatasetError, match="allowed: synthetic-ogle, synthetic-crts"):
        parse_source("synthetic-ztf")
    with pytest.raises(ConfigError, match="sum to less than 1"):
        DataConfig(train_fraction=0.8, validation_fraction=0.3)


def test_real_crts_fixtures_build_with_every_rejection_reported(data_dir):
    # 10 real stars: too few per class to split, so the error must say which classes are short
    with pytest.raises(DatasetError, match="fewer than 5 stars"):
        build_dataset(DataConfig(source=f"crts:{data_dir / 'crts'}"))


def test_a_single_class_left_after_selection_is_a_clear_error(tmp_path):
    """The tiny preset's OGLE class set on the CRTS-like survey leaves only LPV: refused, not trained."""
    config = DataConfig(source="synthetic-crts", size="tiny", class_set="ogle", min_points=40)
    with pytest.raises(DatasetError, match=r"only class\(es\) \['LPV'\] of data.class_set 'ogle'"):
        build_dataset(config, cache_dir=tmp_path)
