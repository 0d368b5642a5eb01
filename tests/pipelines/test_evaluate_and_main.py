"""evaluate (registered model on its test split and on external files) and main (steps, reuse)."""

import json

import mlflow
import pytest

from vsexp.cli import main
from vsexp.tracking import runs

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def trained_baseline():
    from vsexp.pipelines.train import train
    from vsexp.presets import load_preset

    return train(load_preset("tiny", "baseline"))


def test_evaluate_reproduces_the_training_test_metrics(capsys, trained_baseline):
    summary = run_cli(capsys, "evaluate", "--model", trained_baseline["model_uri"])
    assert summary["test_macro_f1"] == pytest.approx(trained_baseline["test_macro_f1"], abs=1e-4)
    logged = mlflow.get_run(summary["run_id"])
    assert logged.data.tags["vsexp.entry_point"] == "evaluate"
    assert logged.data.metrics["test_macro_f1"] == pytest.approx(summary["test_macro_f1"], abs=1e-4)


def test_evaluate_on_external_real_files_counts_every_star(capsys, data_dir, trained_baseline):
    summary = run_cli(capsys, "evaluate", "--model", trained_baseline["model_uri"], "--data",
                      f"ogle:{data_dir / 'ogle'}", "--split", "all")
    assert summary["stars"] == 3 and summary["unknown_class"] == 0
    assert summary["scored_classes"] == ["CEPH"] and summary["per_class"]["CEPH"]["support"] == 3
    assert summary["all_macro_f1"] == summary["per_class"]["CEPH"]["f1"]  # the class present is the headline


def test_main_runs_three_models_then_reuses_them(capsys, monkeypatch):
    monkeypatch.setattr(runs, "git_commit", lambda: "0" * 40)  # a clean checkout: reuse is allowed
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "test-main")
    first = run_cli(capsys, "main", "--preset", "tiny", "--epochs", "1")
    assert [s["model"] for s in first["steps"]] == ["baseline", "lstm", "cnn"]
    assert not any(s["reused"] for s in first["steps"])
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(first["run_id"])}
    assert "comparison.md" in artifacts
    children = mlflow.search_runs(experiment_names=["test-main"],
                                  filter_string=f"tags.mlflow.parentRunId = '{first['run_id']}'")
    assert len(children) == 4  # preprocess + three trainings, nested under main
    second = run_cli(capsys, "main", "--preset", "tiny", "--epochs", "1")
    assert all(s["reused"] for s in second["steps"])
    assert [s["run_id"] for s in second["steps"]] == [s["run_id"] for s in first["steps"]]


def test_cross_survey_transfer_maps_classes(capsys, trained_baseline):
    # the OGLE-like model on the CRTS-like survey's shared classes
    summary = run_cli(capsys, "evaluate", "--model", trained_baseline["model_uri"], "--data", "synthetic-crts",
                      "--class-map", "RRab=RRL,RRc=RRL,RRd=RRL,EW=ECLP,EA=ECLP")
    assert summary["split"] == "all"  # another source than the model's: scored whole
    assert set(summary["per_class"]) == {"RRL", "ECLP", "LPV"} == set(summary["scored_classes"])
    assert summary["unknown_class"] > 0  # RS CVn stars have no OGLE class: counted, left out
    assert 0 <= summary["all_macro_f1"] <= 1


def test_bad_class_map_refused(capsys):
    assert main(["evaluate", "--model", "models:/x@champion", "--class-map", "RRab"]) == 2
    assert "DATA_CLASS=MODEL_CLASS" in capsys.readouterr().err
