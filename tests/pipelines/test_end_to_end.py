"""One real `mlflow run` of train_lstm on tiny data, then a look at everything it left behind."""

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from tests.conftest import request_frame
from vsexp.lightcurves.simulator import simulate_star

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)

ROOT = Path(__file__).resolve().parents[2]


def test_mlflow_run_train_lstm_end_to_end(isolated_workspace):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for variable in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"):  # set by earlier tests
        env.pop(variable, None)
    result = subprocess.run(
        [sys.executable, "-m", "mlflow", "run", str(ROOT), "-e", "train_lstm", "--env-manager", "local",
         "--experiment-name", "e2e", "-P", "preset=tiny"],
        cwd=isolated_workspace, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    client = MlflowClient()
    run = mlflow.search_runs(experiment_names=["e2e"], output_format="list")[0]
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    for name in ("test_macro_f1", "test_weighted_f1", "test_macro_precision", "test_weighted_recall",
                 "test_accuracy", "test_balanced_accuracy", "validation_macro_f1", "test_f1_CEPH", "val_macro_f1",
                 "test_macro_f1_ci_low", "test_macro_f1_ci_high"):
        assert name in metrics, name
    assert len(client.get_metric_history(run.info.run_id, "val_loss")) == 2  # one point per epoch
    assert run.data.params["model.filters"] == "4,4,8,8"
    assert run.data.tags["vsexp.model_family"] == "cnn-lstm"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation/test")}
    assert {"evaluation/test/confusion.png", "evaluation/test/confusion_normalised.png",
            "evaluation/test/confusion.json", "evaluation/test/classification_report.txt"} <= artifacts
    assert "learning_curves.png" in {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {i.tags[0].value for i in run.inputs.dataset_inputs} == {"train", "validation", "test"}

    version = client.get_model_version_by_alias("vsexp-synthetic-ogle-lstm", "challenger")
    assert version.run_id == run.info.run_id
    model = mlflow.pyfunc.load_model("models:/vsexp-synthetic-ogle-lstm@challenger")
    stars = [simulate_star("ogle", label, 5000, seed=9) for label in ("CEPH", "LPV")]
    frame = request_frame(stars)
    predictions = model.predict(frame)
    assert list(predictions.columns[:3]) == ["label", "probability", "n_points"]
    probabilities = predictions.filter(like="prob_").to_numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert set(predictions["label"]) <= {"CEPH", "DSCT", "ECLP", "LPV", "RRL"}
