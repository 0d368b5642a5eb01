"""Hyperparameter search on tiny data: nested runs, best trial, pruning, resume, workers, PostgreSQL."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import mlflow
import optuna
import pytest

from vsexp.pipelines.tune import tune
from vsexp.presets import load_preset
from vsexp.train_config import with_overrides

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)

TINY = with_overrides(load_preset("tiny", "lstm"), {"fit.epochs": 2})


def _children(parent_run_id: str):
    return mlflow.search_runs(search_all_experiments=True, output_format="list",
                              filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}'")


def test_optuna_study_nested_runs_best_tag_pruned_trial_and_resume(tmp_path):
    storage = f"journal:{tmp_path / 'study.journal'}"
    first = tune(TINY, study_name="resume", storage=storage, n_trials=2, pruner="none", retrain_best=False)
    assert first["trials"] == {"COMPLETE": 2}
    trials = [r for r in _children(first["run_id"]) if r.data.tags.get("vsexp.entry_point") == "tune_trial"]
    assert len(trials) == 2 and all("val_macro_f1" in r.data.metrics for r in trials)
    assert all({"search.model.filters_1", "search.model.kernels_4", "search.fit.learning_rate"} <= set(r.data.params)
               for r in trials)  # each layer's searched value, an axis of the UI's parallel coordinates
    assert all("test_macro_f1" not in r.data.metrics for r in trials)  # the search never sees the test split
    best = mlflow.get_run(first["best_run_id"])
    assert best.data.tags["optuna.best"] == "true"

    second = tune(TINY, study_name="resume", storage=storage, n_trials=1, pruner="threshold:1.01")
    assert second["trials"] == {"COMPLETE": 2, "PRUNED": 1}  # resumed: a third trial, not a restart
    pruned = [r for r in _children(second["run_id"]) if r.data.tags.get("vsexp.trial_state") == "PRUNED"]
    assert len(pruned) == 1 and pruned[0].info.status == "KILLED"
    final = mlflow.get_run(second["final"]["run_id"])
    assert final.data.tags["vsexp.study"] == "resume" and "test_macro_f1" in final.data.metrics
    assert final.data.tags["vsexp.fit_splits"] == "train+validation"
    assert second["final"]["registered_model"] == "vsexp-synthetic-ogle-lstm"


def test_keras_tuner_backend_logs_trials_the_same_way():
    summary = tune(TINY, backend="keras-tuner", study_name=f"kt-{uuid.uuid4().hex[:6]}", n_trials=2,
                   retrain_best=False)
    trials = [r for r in _children(summary["run_id"]) if r.data.tags.get("vsexp.entry_point") == "tune_trial"]
    assert len(trials) == 2 and {r.data.tags["vsexp.backend"] for r in trials} == {"keras-tuner"}
    assert sum(r.data.tags.get("keras_tuner.best") == "true" for r in trials) == 1
    assert summary["best_value"] == pytest.approx(max(r.data.metrics["validation_macro_f1"] for r in trials), abs=1e-4)


def _workers(storage: str, study: str, count: int, trials_each: int, cwd, epochs: int = 1) -> list[subprocess.Popen]:
    mlflow.set_experiment("vsexp")  # create the tracking store before the workers race to create it
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    command = [sys.executable, "-m", "vsexp.cli", "tune", "--preset", "tiny", "--epochs", str(epochs), "--study", study,
               "--storage", storage, "--n-trials", str(trials_each), "--no-retrain", "--pruner", "none"]
    return [subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(count)]


def _assert_every_trial_once(storage_for_optuna, study_name: str, expected: int):
    study = optuna.load_study(study_name=study_name, storage=storage_for_optuna)
    numbers = [t.number for t in study.trials]
    assert sorted(numbers) == list(range(expected))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    runs = mlflow.search_runs(search_all_experiments=True, output_format="list",
                              filter_string=f"tags.`vsexp.study` = '{study_name}' and tags.`vsexp.entry_point` = 'tune_trial'")
    assert sorted(int(r.data.tags["vsexp.trial"]) for r in runs) == list(range(expected))


def _journal(path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(path)))


def test_four_workers_share_one_journal_study(tmp_path, isolated_workspace):
    path = tmp_path / "shared.journal"
    workers = _workers(f"journal:{path}", "shared-journal", 4, 1, isolated_workspace)
    for worker in workers:
        assert worker.wait(timeout=900) == 0, worker.stderr.read()[-2000:]
    _assert_every_trial_once(_journal(path), "shared-journal", 4)


def test_worker_killed_mid_trial_is_marked_failed_and_the_study_goes_on(tmp_path, isolated_workspace):
    path = tmp_path / "killed.journal"
    [victim] = _workers(f"journal:{path}", "killed", 1, 1, isolated_workspace, epochs=200)
    deadline = time.time() + 300
    while time.time() < deadline:
        time.sleep(0.5)
        try:
            trials = optuna.load_study(study_name="killed", storage=_journal(path)).trials
        except KeyError:  # the study is not created yet
            continue
        if trials and trials[0].state == optuna.trial.TrialState.RUNNING and "worker" in trials[0].user_attrs:
            break
    else:
        pytest.fail("the first worker never started its trial")
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    [survivor] = _workers(f"journal:{path}", "killed", 1, 1, isolated_workspace)
    assert survivor.wait(timeout=900) == 0, survivor.stderr.read()[-2000:]
    states = [t.state for t in optuna.load_study(study_name="killed", storage=_journal(path)).trials]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE]


@pytest.mark.postgres
def test_four_workers_share_one_study_on_a_fresh_postgres_database(fresh_postgres_database, isolated_workspace):
    workers = _workers(fresh_postgres_database, "pg-shared", 4, 1, isolated_workspace)
    for worker in workers:
        assert worker.wait(timeout=900) == 0, worker.stderr.read()[-2000:]
    _assert_every_trial_once(fresh_postgres_database, "pg-shared", 4)
