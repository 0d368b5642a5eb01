"""The research entry points through `mlflow run . -e NAME --env-manager local` (search,
transfer, ensemble and sparsity, cross-validation), in a user's folder of their own where `main` has
trained the three models they start from."""

from __future__ import annotations

import pytest

from tests.pipelines.conftest import EXPERIMENT, MODELS

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)


def test_tune_entry_point(project, main_job):
    summary = project.mlflow_run("tune", preset="tiny", model="lstm", n_trials=2, epochs=1)
    assert sum(summary["trials"].values()) == 2 and "final" in summary  # two trials, the best refitted
    run = project.client.get_run(summary["run_id"])
    assert project.client.get_experiment(run.info.experiment_id).name == EXPERIMENT
    assert len(project.runs(filter_string=f"tags.`mlflow.parentRunId` = '{summary['run_id']}'")) >= 2


def test_transfer_entry_point(project, main_job):
    uri = f"models:/{MODELS['lstm']}@challenger"
    summary = project.mlflow_run("transfer", model=uri, data="synthetic-crts", shots="0,3", epochs=1,
                                 class_map="RRab=RRL,RRc=RRL,RRd=RRL,EW=ECLP,EA=ECLP")
    assert list(summary["macro_f1_by_shots"]) == ["0", "3"]  # JSON keys


def test_ensemble_and_sparsity_entry_points(project, main_job):
    members = ",".join(f"models:/{MODELS[m]}@challenger" for m in ("baseline", "lstm"))
    ensemble = project.mlflow_run("train_ensemble", models=members, method="average")
    assert ensemble["registered_model"] == "vsexp-synthetic-ogle-ensemble"
    sparse = project.mlflow_run("sparsity", models=members, points="20,40", modes="random")
    assert len(sparse["rows"]) == 4


def test_crossval_and_crossval_combine_entry_points(project, main_job):
    forest = project.mlflow_run("crossval", preset="tiny", folds=2)
    smaller = project.mlflow_run("crossval", preset="tiny", folds=2, settings="model.n_estimators=5")
    assert project.client.get_run(forest["run_id"]).info.run_name == "crossval_baseline"
    combined = project.mlflow_run("crossval_combine", runs=f"{forest['run_id']},{smaller['run_id']}")
    assert 0 <= combined["crossval_macro_f1"] <= 1
