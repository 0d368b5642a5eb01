"""The preprocess step through the CLI: the MLflow run it leaves behind, and bad parameters."""

import json

import mlflow
import pytest

from vsexp.cli import main

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out.strip().splitlines()[-1]) if code == 0 else None), err


def test_preprocess_logs_dataset_counts_and_rejections(capsys, monkeypatch):
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "test-preprocess")
    code, summary, _ = run_cli(capsys, "preprocess", "--preset", "tiny")
    assert code == 0
    run = mlflow.get_run(summary["run_id"])
    assert run.data.params["data.source"] == "synthetic-ogle"
    assert run.data.metrics["stars"] == summary["stars"]
    assert run.data.metrics["stars_train_CEPH"] == summary["counts"]["train"]["CEPH"]
    contexts = {i.tags[0].value for i in run.inputs.dataset_inputs}
    assert contexts == {"train", "validation", "test"}
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "dataset")}
    assert {"dataset/manifest.json", "dataset/rejections.json", "dataset/lightcurves.parquet"} <= artifacts
    code, again, _ = run_cli(capsys, "preprocess", "--preset", "tiny")
    assert again["reused"] is True and again["dataset"] == summary["dataset"]


def test_preprocess_refuses_classes_too_small_to_split(capsys, data_dir, monkeypatch):
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "test-preprocess")
    # the bad corpus has 2 RRab, 2 EW...: too few per class to split, so the error names the classes
    code, _, err = run_cli(capsys, "preprocess", "--preset", "tiny", "--source", f"crts:{data_dir / 'bad'}",
                           "--set", "data.min_points=10", "--set", "data.class_set=crts")
    assert code == 2 and "fewer than 5 stars" in err


@pytest.mark.parametrize("argv, words", [
    (["--source", "crts:/no/such/dir"], "does not exist"),
    (["--preset", "nope"], "unknown preset 'nope'"),
    (["--set", "fit.epochs=-3"], "fit.epochs must be >= 1"),
    (["--set", "model.nonsense=1"], "unknown setting(s) model.nonsense"),
    (["--size", "huge"], "allowed: tiny, small, medium, paper"),
])
def test_bad_parameters_refused_before_work(capsys, argv, words):
    code, _, err = run_cli(capsys, "preprocess", *argv)
    assert code == 2 and words in err
