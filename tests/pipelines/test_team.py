"""The team setup of docs/entry-points.md, run as written: a tracking server on a fresh PostgreSQL
database with a proxied artifact store, a training through `mlflow run`, two search workers on one
Optuna study on PostgreSQL, the refit, a promotion, and the champion loaded from another process."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient

from tests.conftest import POSTGRES_URL, _postgres_or_skip, free_port, stop_process_group, wait_for_http

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "entry-points.md"


def team_commands() -> list[str]:
    """The commands of the docs' team setup block, in order (comments left out)."""
    section = DOCS.read_text().split("### Team setup", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_the_documented_team_setup_trains_searches_promotes_and_serves_through_the_server(tmp_path):
    sqlalchemy = _postgres_or_skip()
    host = POSTGRES_URL.split("@", 1)[1].rsplit("/", 1)[0]  # 127.0.0.1:5432
    suffix = uuid.uuid4().hex[:8]
    databases = {"mlflow": f"vsexp_team_{suffix}_mlflow", "optuna": f"vsexp_team_{suffix}_optuna"}
    artifacts, port = tmp_path / "mlartifacts", free_port()
    work = tmp_path / "member"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID")}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}", VSEXP_CACHE_DIR=str(tmp_path / "cache"))

    def as_tested(command: str) -> str:
        for role, name in databases.items():
            command = re.sub(rf"(@DBHOST/|-U postgres ){role}\b", rf"\g<1>{name}", command)
        command = command.replace("-h DBHOST", f"-h {host.split(':')[0]} -p {host.split(':')[1]}")
        command = command.replace("DBHOST", host).replace("TRACKING-HOST:5000", f"127.0.0.1:{port}")
        command = command.replace("--port 5000", f"--port {port}").replace("/shared/mlartifacts", str(artifacts))
        command = command.replace("mlflow run . ", f"mlflow run {ROOT} ")
        if " -e train_baseline" in command:
            command += " -P preset=tiny"
        return command.replace("--preset ogle_small", "--preset tiny --epochs 1 --pruner none").replace(
            "--n-trials 10", "--n-trials 1")

    server, outputs = None, []
    try:
        for command in map(as_tested, team_commands()):
            if command.startswith("export "):
                key, value = command.removeprefix("export ").split("=", 1)
                env[key] = value
            elif command.startswith("mlflow server"):
                server = subprocess.Popen(shlex.split(command), cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, start_new_session=True)
                wait_for_http(f"http://127.0.0.1:{port}/health", server)
            elif "--no-retrain" in command:  # the search workers: two at once
                workers = [subprocess.Popen(command, shell=True, cwd=work, env=env, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE, text=True) for _ in range(2)]
                for worker in workers:
                    assert worker.wait(timeout=900) == 0, worker.stderr.read()[-3000:]
            else:
                result = subprocess.run(command, shell=True, cwd=work, env=env, capture_output=True, text=True,
                                        timeout=900)
                assert result.returncode == 0, f"{command}\n{result.stderr[-3000:]}"
                outputs.append(result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "")

        storage = f"{POSTGRES_URL.rsplit('/', 1)[0]}/{databases['optuna']}"
        trials = optuna.load_study(study_name="lstm-ogle", storage=storage).trials
        assert len(trials) == 2 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
        client = MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"], registry_uri=env["MLFLOW_TRACKING_URI"])
        champion = client.get_model_version_by_alias("vsexp-synthetic-ogle-baseline", "champion")
        assert outputs[-1] == champion.run_id  # loaded through the server by another process
        assert client.get_model_version_by_alias("vsexp-synthetic-ogle-lstm", "challenger")  # the search's refit
        assert any(artifacts.rglob("MLmodel"))  # artifacts went to the server's store, not the member's folder
        assert not (work / "mlruns").exists() and not (work / "mlflow.db").exists()
    finally:
        if server is not None:
            stop_process_group(server)
        admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in databases.values():
                connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
