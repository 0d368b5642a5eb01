"""Cross-validation of the feature models on tiny data: folds, what each fold is fitted on, what is logged."""

import mlflow
import numpy as np
import pytest

from vsexp.errors import ConfigError
from vsexp.models.forest import estimator as forest_estimator
from vsexp.pipelines.crossval import assign_folds, combine_crossval, crossval
from vsexp.presets import load_preset
from vsexp.train_config import with_overrides

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)


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
    spy = _FitSpy(forest_estimator.build_forest)
    monkeypatch.setattr(forest_estimator, "build_forest", spy)
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
    assert run.data.params["crossval.splits"] == "train,validation" and run.data.params["crossval.folds"] == "3"
    assert run.data.tags["vsexp.model_family"] == "random-forest"  # the same tags as train_baseline's runs
    assert run.data.metrics["crossval_macro_f1"] == pytest.approx(summary["crossval_macro_f1"], abs=1e-4)
    assert summary["crossval_macro_f1_ci_low"] <= summary["crossval_macro_f1"] <= summary["crossval_macro_f1_ci_high"]
    steps = mlflow.MlflowClient().get_metric_history(summary["run_id"], "fold_macro_f1")
    assert [m.step for m in steps] == [0, 1, 2]
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(summary["run_id"], "evaluation/crossval")}
    assert "evaluation/crossval/confusion.png" in artifacts
    splits = {i.tags[0].value for i in run.inputs.dataset_inputs if i.tags}
    assert "test" not in splits and {"train", "validation"} <= splits


def test_crossval_refuses_unknown_splits():
    with pytest.raises(ConfigError, match="unknown or no split"):
        crossval(load_preset("tiny", "baseline"), splits=("train", "holdout"))


def test_crossval_without_copies_fits_the_other_folds_stars_only(monkeypatch):
    spy = _FitSpy(forest_estimator.build_forest)
    monkeypatch.setattr(forest_estimator, "build_forest", spy)
    summary = crossval(load_preset("tiny", "baseline"), folds=2)
    assert summary["copies"] == 0 and len(summary["fold_macro_f1"]) == 2
    table = mlflow.load_table("crossval/out_of_fold.json", run_ids=[summary["run_id"]])
    assert spy.rows == [summary["stars"] - n for n in table["fold"].value_counts().sort_index()]


def test_crossval_of_a_network_trains_each_fold_for_fixed_epochs_in_a_nested_run():
    config = with_overrides(load_preset("tiny", "multi"), {"fit.epochs": 2, "augment.copies": 1,
                                                           "model.branches": "folded,features"})
    summary = crossval(config, folds=2)
    assert summary["model"] == "multi[folded,features]" and summary["copies"] == summary["stars"]
    table = mlflow.load_table("crossval/out_of_fold.json", run_ids=[summary["run_id"]])
    assert len(table) == summary["stars"] and np.allclose(table.filter(like="p_").to_numpy().sum(axis=1), 1.0, atol=1e-4)
    children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{summary['run_id']}'",
                                  order_by=["tags.vsexp.fold"])
    assert children["tags.vsexp.fold"].tolist() == ["0", "1"]
    client = mlflow.MlflowClient()
    for run_id in children["run_id"]:  # learning curves of exactly fit.epochs epochs: no early stop without validation
        assert [m.step for m in client.get_metric_history(run_id, "loss")] == [0, 1]
    assert mlflow.get_run(summary["run_id"]).data.tags["vsexp.model_family"] == "multi-input"


def test_combining_crossval_runs_scores_every_subset_out_of_fold():
    forest = crossval(load_preset("tiny", "baseline"), folds=2)
    boosted = crossval(with_overrides(load_preset("tiny", "baseline"), {"model.kind": "boosted"}), folds=2)
    summary = combine_crossval([forest["run_id"], boosted["run_id"]], "average")
    names = summary["members"]
    assert names == ["baseline", "baseline[boosted]"]  # named like train_ensemble's members
    scores = summary["combinations_macro_f1"]
    assert set(scores) == {names[0], names[1], " + ".join(names)}
    # each model alone is its own crossval score
    assert scores[names[0]] == pytest.approx(forest["crossval_macro_f1"], abs=1e-4)
    assert scores[names[1]] == pytest.approx(boosted["crossval_macro_f1"], abs=1e-4)
    assert summary["crossval_macro_f1"] == pytest.approx(scores[" + ".join(names)], abs=1e-4)
    assert summary["best_macro_f1"] == max(scores.values())
    table = mlflow.load_table("crossval/combinations.json", run_ids=[summary["run_id"]])
    assert len(table) == 3 and table["macro_f1"].is_monotonic_decreasing


def test_two_runs_of_one_model_are_combined_under_distinct_names():
    forest = crossval(load_preset("tiny", "baseline"), folds=2)
    summary = combine_crossval([forest["run_id"], forest["run_id"]], "average")
    assert summary["members"] == ["baseline", "baseline#1"]
    assert set(summary["combinations_macro_f1"]) == {"baseline", "baseline#1", "baseline + baseline#1"}


def test_combining_refuses_runs_of_other_folds_and_runs_without_out_of_fold_table():
    two = crossval(load_preset("tiny", "baseline"), folds=2)
    three = crossval(load_preset("tiny", "baseline"), folds=3)
    with pytest.raises(ConfigError, match=f"crossval run {three['run_id']} differs .* folds"):
        combine_crossval([two["run_id"], three["run_id"]])
    with mlflow.start_run() as other:
        pass
    with pytest.raises(ConfigError, match=f"run {other.info.run_id} has no crossval/out_of_fold.json"):
        combine_crossval([two["run_id"], other.info.run_id])
    with pytest.raises(ConfigError, match="at least two crossval runs"):
        combine_crossval([two["run_id"]])
