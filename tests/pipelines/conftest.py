"""A user's working folder for the tests that run the entry points as a user does (`mlflow run . -e
NAME --env-manager local`, `vsexp ...`): its own tracking store, the test run's dataset cache. Each
test module gets its own folder (so the modules run side by side on the test workers), and `main` run
there once on the tiny preset trains and registers the three models later commands use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = "vsexp-synthetic-ogle"
MODELS = {name: f"vsexp-synthetic-ogle-{name}" for name in ("baseline", "lstm", "cnn")}


class Project:
    """A user's working folder: its own tracking store, the session's dataset cache."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.uri = f"sqlite:///{folder / 'mlflow.db'}"
        self.env = dict(os.environ, MLFLOW_TRACKING_URI=self.uri,
                        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        for variable in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"):
            self.env.pop(variable, None)
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def mlflow_run(self, entry_point: str, **parameters) -> dict:
        """Run ``mlflow run ROOT -e entry_point -P k=v...``; the command's JSON line, parsed."""
        command = [sys.executable, "-m", "mlflow", "run", str(ROOT), "-e", entry_point, "--env-manager", "local"]
        for key, value in parameters.items():
            command += ["-P", f"{key}={value}"]
        return self._json(subprocess.run(command, cwd=self.folder, env=self.env, capture_output=True, text=True,
                                         timeout=900), command)

    def cli(self, *arguments: str) -> dict:
        command = [sys.executable, "-m", "vsexp.cli", *arguments]
        return self._json(subprocess.run(command, cwd=self.folder, env=self.env, capture_output=True, text=True,
                                         timeout=900), command)

    @staticmethod
    def _json(result, command) -> dict:
        assert result.returncode == 0, f"{' '.join(command)}\n{result.stderr[-4000:]}"
        return json.loads(result.stdout.strip().splitlines()[-1])

    def runs(self, experiment: str = EXPERIMENT, filter_string: str = "") -> list:
        found = self.client.get_experiment_by_name(experiment)
        assert found is not None, f"no experiment {experiment}"
        return self.client.search_runs([found.experiment_id], filter_string=filter_string)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project(tmp_path_factory.mktemp("user"))


@pytest.fixture(scope="module")
def main_job(project) -> dict:
    return project.mlflow_run("main", preset="tiny")
