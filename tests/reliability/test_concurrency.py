"""Concurrent work stays consistent: two promotions at once, the same training twice, search workers
starting together; documented servers bind loopback."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from vsexp.pipelines.promote import promote
from vsexp.pipelines.train import claimed_work_dir, train
from vsexp.presets import load_preset
from vsexp.train_config import with_overrides
from vsexp.tuning.optuna_search import worker_seed

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)

ROOT = Path(__file__).resolve().parents[2]


def test_two_simultaneous_promotions_agree(isolated_workspace):
    base = with_overrides(load_preset("tiny", "baseline"), {"data.source": "synthetic-crts", "data.class_set": "crts"})
    weak = train(with_overrides(base, {"model.min_samples_leaf": 500, "model.n_estimators": 3}))
    name = weak["registered_model"]
    assert promote(name)["decision"] == "first_champion"
    good = train(with_overrides(base, {"model.n_estimators": 40}))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    # the weak champion calls every star by one class (recall 1 there): no recall floor for this contest
    workers = [subprocess.Popen([sys.executable, "-m", "vsexp.cli", "promote", "--name", name, "--max-recall-drop", "1"],
                                cwd=isolated_workspace,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    decisions = []
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err[-2000:]
        decisions.append(json.loads(out.strip().splitlines()[-1])["decision"])
    assert set(decisions) <= {"challenger_wins", "already_champion"} and "challenger_wins" in decisions
    client = MlflowClient()
    assert client.get_model_version_by_alias(name, "champion").version == good["version"]
    assert client.get_model_version_by_alias(name, "previous").version == weak["version"]


def test_every_documented_server_binds_loopback():
    text = (ROOT / "README.md").read_text() + (ROOT / ".github/workflows/gpu.yml").read_text()
    commands = re.findall(r"mlflow (?:ui|server|models serve) -[^\n`]*", text)  # commands, not mentions
    assert commands, "the README documents how to start the servers"
    for command in commands:
        assert "--host 127.0.0.1" in command, command


def test_the_same_training_started_twice_does_not_share_a_work_folder(isolated_workspace):
    config = load_preset("tiny", "lstm")
    with claimed_work_dir(config, "hash") as first, claimed_work_dir(config, "hash") as second:
        assert first != second and first.is_dir() and second.is_dir()
    assert first.is_dir() and not second.exists()  # the resumable one stays until the run finishes
    with claimed_work_dir(config, "hash", "run-a") as trial_a, claimed_work_dir(config, "hash", "run-b") as trial_b:
        assert len({trial_a, trial_b, first}) == 3
    assert not trial_a.exists() and not trial_b.exists()


def test_workers_joining_a_study_together_draw_different_samples():
    seeds = subprocess.run([sys.executable, "-c", "from vsexp.tuning.optuna_search import worker_seed; "
                            "print(worker_seed(42, 0))"], capture_output=True, text=True, check=True).stdout
    assert int(seeds) != worker_seed(42, 0)  # another process, same study state
    assert worker_seed(42, 0) == worker_seed(42, 0) != worker_seed(42, 1)
