"""Cross-validation of the feature models on tiny data: folds, what each fold is fitted on, what is logged."""

import mlflow
import numpy as np
import pytest

from vsexp.config import with_overrides
from vsexp.errors import ConfigError
from vsexp.pipelines import crossval as crossval_module
from vsexp.pipelines.crossval import assign_folds, crossval
from vsexp.presets import load_preset


def test_folds_are_stratified_and_cover_every_star_once():
    labels = np.repeat([0, 1, 2], [9, 12, 30])
    folds = assign_folds(labels, 3, seed=0)
    assert sorted(set(folds)) == [0, 1, 2]
    for fold in range(3):
        assert np.bincount(labels[folds == fold]).tolist() == [3, 4, 10]


@pytest.mark.parametrize("folds, match", [(1, "at least 2 folds"), (10, "a class has 9 stars, fewer than the 10 folds")])
def test_folds_refuse_what_cannot_be_split(folds, match):
    with pytest.raises(ConfigError, match=match):
        assign_folds(np.repeat([0, 1], [9, 12]), folds, seed=0)


class _FitSpy:
    """Wraps the real model builder and records how many rows each fold's model is fitted on."""

    def __init__(self, build):
        self.build, self.rows = build, []

    def __call__(self, config, seed=0):
        model = self.build(config, seed=seed)
        original = model.fit

        def fit(inputs, targets):
            self.rows.append(len(targets))
            return original(inputs, targets)

        model.fit = fit
        return model


def test_crossval_scores_every_star_out_of_fold_and_fits_copies_of_fitted_stars_only(monkeypatch):
    spy = _FitSpy(crossval_module.build_forest)
    monkeypatch.setattr(crossval_module, "build_forest", spy)
    config = with_overrides(load_preset("tiny", "baseline"), {"augment.copies": 2})
    summary = crossval(config, folds=3)
    table = mlflow.load_table("crossval/out_of_fold.json", run_ids=[summary["run_id"]])
    assert summary["stars"] == len(table) == table["object_id"].nunique()
    assert set(table["fold"]) == {0, 1, 2} and summary["copies"] == 2 * summary["stars"]
    held_out = table["fold"].value_counts().sort_index().to_numpy()
    # each fold fits its other folds' stars and their two copies each, never a held-out star's copy
    assert spy.rows == [3 * (summary["stars"] - n) for n in held_out]
    probabilities = table.filter(like="p_").to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    run = mlflow.get_run(summary["run_id"])
    assert run.data.params["splits"] == "train,validation" and run.data.params["folds"] == "3"
    assert run.data.tags["vsexp.model_family"] == "random-forest"  # the same tags as train_baseline's runs
    assert run.data.metrics["crossval_macro_f1"] == pytest.approx(summary["crossval_macro_f1"], abs=1e-4)
    assert summary["crossval_macro_f1_ci_low"] <= summary["crossval_macro_f1"] <= summary["crossval_macro_f1_ci_high"]
    steps = mlflow.MlflowClient().get_metric_history(summary["run_id"], "fold_macro_f1")
    assert [m.step for m in steps] == [0, 1, 2]
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(summary["run_id"], "evaluation/crossval")}
    assert "evaluation/crossval/confusion.png" in artifacts
    splits = {i.tags[0].value for i in run.inputs.dataset_inputs if i.tags}
    assert "test" not in splits and {"train", "validation"} <= splits


def test_crossval_refuses_networks_and_unknown_splits():
    with pytest.raises(ConfigError, match="feature models"):
        crossval(load_preset("tiny", "cnn"))
    with pytest.raises(ConfigError, match="unknown or no split"):
        crossval(load_preset("tiny", "baseline"), splits=("train", "holdout"))


def test_crossval_without_copies_fits_the_other_folds_stars_only(monkeypatch):
    spy = _FitSpy(crossval_module.build_forest)
    monkeypatch.setattr(crossval_module, "build_forest", spy)
    summary = crossval(load_preset("tiny", "baseline"), folds=2)
    assert summary["copies"] == 0 and len(summary["fold_macro_f1"]) == 2
    table = mlflow.load_table("crossval/out_of_fold.json", run_ids=[summary["run_id"]])
    assert spy.rows == [summary["stars"] - n for n in table["fold"].value_counts().sort_index()]
