"""The sparsity study on tiny data: thinning rules, the logged table and figures."""

import mlflow
import numpy as np
import pytest

from vsexp.lightcurves.record import LightCurve
from vsexp.pipelines.sparsity import sparsity, thin
from vsexp.pipelines.train import train
from vsexp.presets import load_preset

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)


def _curve():
    times = np.concatenate([np.linspace(0, 100, 40), np.linspace(400, 500, 40), np.linspace(800, 900, 40)])
    return LightCurve("x", times, np.sin(times), np.full(times.size, 0.1), "RRL", "test")


def test_random_thinning_keeps_n_sorted_points():
    thinned = thin(_curve(), 20, "random", np.random.default_rng(0))
    assert len(thinned) == 20 and np.all(np.diff(thinned.times) > 0)


def test_season_thinning_drops_whole_seasons_first():
    thinned = thin(_curve(), 40, "seasons", np.random.default_rng(0))
    seasons = {int(t // 300) for t in thinned.times}
    assert len(thinned) == 40 and len(seasons) == 1  # two seasons dropped whole, one kept


def test_sparsity_study_logs_table_and_figures():
    forest = train(load_preset("tiny", "baseline"), register=False)
    summary = sparsity([f"runs:/{forest['run_id']}/model"], points=(20, 60), modes=("random", "seasons"))
    assert len(summary["rows"]) == 4 and all(0 <= r["macro_f1"] <= 1 for r in summary["rows"])
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(summary["run_id"], "sparsity")}
    assert {"sparsity/random.png", "sparsity/seasons.png", "sparsity/table.json"} <= artifacts
    with pytest.raises(Exception, match="allowed: random, seasons"):
        sparsity([f"runs:/{forest['run_id']}/model"], modes=("weekly",))
