"""kill -9 or SIGTERM in the middle of training: the same command resumes and finishes the same run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)

EPOCHS = 30  # long enough that the kill lands mid-training even on a fast machine
COMMAND = [sys.executable, "-m", "vsexp.cli", "train_lstm", "--preset", "tiny", "--epochs", str(EPOCHS),
           "--set", "data.seed=11", "--set", "fit.seed=11"]
NAME = "vsexp-synthetic-ogle-lstm"


def _env(experiment):
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                MLFLOW_EXPERIMENT_NAME=experiment)


def _epochs_logged(experiment) -> tuple[str | None, int]:
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="list")
    if not runs:
        return None, 0
    run_id = runs[0].info.run_id
    return run_id, len(MlflowClient().get_metric_history(run_id, "val_loss"))


def _started_and_two_epochs_in(command, experiment, folder) -> tuple[subprocess.Popen, str]:
    """A training process started in its own session (stderr in ``<experiment>.stderr``), once it has
    logged two epochs; and its run id."""
    with open(folder / f"{experiment}.stderr", "w") as stderr:  # a file: a pipe could fill and stall it
        process = subprocess.Popen(command, cwd=folder, env=_env(experiment), stdout=subprocess.DEVNULL,
                                   stderr=stderr, start_new_session=True)
    deadline = time.time() + 300
    run_id, done = None, 0
    while time.time() < deadline and done < 2 and process.poll() is None:
        time.sleep(0.2)
        run_id, done = _epochs_logged(experiment)
    assert process.poll() is None, "training ended before it could be interrupted"
    return process, run_id


def test_killed_training_resumes_and_finishes_the_same_run(isolated_workspace):
    experiment = "interrupted"
    mlflow.set_experiment(experiment)
    versions_before = len(MlflowClient().search_model_versions(f"name='{NAME}'"))
    first, run_id = _started_and_two_epochs_in(COMMAND, experiment, isolated_workspace)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert MlflowClient().get_run(run_id).info.status == "RUNNING"  # half-logged until resumed

    second = subprocess.run(COMMAND, cwd=isolated_workspace, env=_env(experiment), capture_output=True, text=True,
                            timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    summary = json.loads(second.stdout.strip().splitlines()[-1])
    assert summary["run_id"] == run_id
    run = MlflowClient().get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.tags["vsexp.resumed"] == "true"
    steps = [m.step for m in MlflowClient().get_metric_history(run_id, "val_loss")]
    assert sorted(set(steps)) == list(range(EPOCHS))  # every epoch logged, the resumed ones continue
    # two epochs were logged before the kill; the second one's backup comes after its log and may not
    # have been written yet, so the re-run starts at epoch 2 or later: it trained only what was left
    assert summary["resumed_at_epoch"] >= 2 and summary["epochs_run"] == EPOCHS
    assert len(mlflow.search_runs(experiment_names=[experiment], output_format="list")) == 1
    versions = MlflowClient().search_model_versions(f"name='{NAME}'")
    assert len(versions) == versions_before + 1 and sum(v.run_id == run_id for v in versions) == 1


def test_sigterm_ends_the_run_killed_and_the_same_command_resumes_it(isolated_workspace):
    experiment = "terminated"
    mlflow.set_experiment(experiment)
    command = [*COMMAND[:-4], "--set", "data.seed=12", "--set", "fit.seed=12"]  # its own work folder
    first, run_id = _started_and_two_epochs_in(command, experiment, isolated_workspace)
    first.send_signal(signal.SIGTERM)
    first.wait(timeout=120)
    err = (isolated_workspace / f"{experiment}.stderr").read_text()
    assert first.returncode == 143 and "interrupted (SIGTERM)" in err, err[-2000:]
    assert MlflowClient().get_run(run_id).info.status == "KILLED"

    second = subprocess.run(command, cwd=isolated_workspace, env=_env(experiment), capture_output=True, text=True,
                            timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    assert json.loads(second.stdout.strip().splitlines()[-1])["run_id"] == run_id
    run = MlflowClient().get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.tags["vsexp.resumed"] == "true"
