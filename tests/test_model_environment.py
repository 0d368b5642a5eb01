"""A registered model carries its exact requirements: a fresh virtual environment built from them
alone (no vsexp installed; its code travels with the model) loads the model and predicts exactly as
the training environment does."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pytest

from tests.conftest import request_frame
from vsexp.lightcurves.simulator import simulate_star
from vsexp.pipelines.train import train
from vsexp.presets import load_preset

pytestmark = pytest.mark.slow

PREDICT = """
import json, sys
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
frame = pd.read_json(sys.argv[2], orient="split")
print(json.dumps(model.predict(frame).filter(like="prob_").to_numpy().tolist()))
"""


def test_a_fresh_environment_from_the_models_requirements_predicts_the_same(tmp_path):
    summary = train(load_preset("tiny", "lstm"))
    requirements = open(mlflow.pyfunc.get_model_dependencies(summary["model_uri"])).read().split()
    pinned = dict(line.split("==") for line in requirements if "==" in line)
    assert len(pinned) == len(requirements) and pinned["keras"] == importlib.metadata.version("keras")
    model_dir = mlflow.artifacts.download_artifacts(summary["model_uri"], dst_path=str(tmp_path / "model"))
    stars = [simulate_star("ogle", label, 9300 + i, seed=6) for i, label in enumerate(("RRL", "CEPH", "LPV", "DSCT"))]
    request = tmp_path / "request.json"
    request_frame(stars).to_json(request, orient="split")
    here = mlflow.pyfunc.load_model(model_dir).predict(request_frame(stars)).filter(like="prob_").to_numpy()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    install = subprocess.run([python, "-m", "pip", "install", "--quiet", "-r", str(Path(model_dir) / "requirements.txt")],
                             capture_output=True, text=True, timeout=1500)
    assert install.returncode == 0, install.stderr[-3000:]
    vsexp_there = subprocess.run([python, "-c", "import vsexp"], capture_output=True, cwd=tmp_path)
    assert vsexp_there.returncode != 0  # only the model's own copy of the code, loaded with it
    result = subprocess.run([python, "-c", PREDICT, model_dir, str(request)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    there = np.array(json.loads(result.stdout.strip().splitlines()[-1]))
    np.testing.assert_allclose(there, here, rtol=0, atol=1e-6)
