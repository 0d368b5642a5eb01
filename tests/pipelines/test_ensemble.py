"""``train_ensemble`` on tiny data: members scored, ablation and reliability logged, raw curves served."""

import dataclasses

import mlflow
import numpy as np
import pytest

from tests.conftest import request_frame
from vsexp.errors import ConfigError
from vsexp.lightcurves.simulator import simulate_star
from vsexp.pipelines.ensemble import train_ensemble
from vsexp.pipelines.train import train
from vsexp.presets import load_preset
from vsexp.representations.extractor import FeatureConfig
from vsexp.serving import pyfunc as served_pyfunc
from vsexp.train_config import with_overrides

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)


@pytest.fixture(scope="module")
def members():
    forest = train(load_preset("tiny", "baseline"))
    network = train(with_overrides(load_preset("tiny", "multi"), {"fit.epochs": 2}))
    return [f"runs:/{forest['run_id']}/model", f"runs:/{network['run_id']}/model"]


def test_ensemble_logs_ablation_reliability_and_serves_raw_curves(members, monkeypatch):
    summary = train_ensemble(members, "stacking")
    assert summary["registered_model"] == "vsexp-synthetic-ogle-ensemble"
    assert set(summary["ablation_test_macro_f1"]) == {
        "baseline (raw)", "multi[folded,features] (raw)", "baseline (calibrated)",
        "multi[folded,features] (calibrated)", "ensemble: average", "ensemble: stacking"}
    run = mlflow.get_run(summary["run_id"])
    stacking = summary["ablation_test_macro_f1"]["ensemble: stacking"]
    assert run.data.metrics["test_macro_f1"] == pytest.approx(stacking, abs=1e-4)
    assert 0 <= run.data.metrics["test_ece"] <= 1 and "validation_macro_f1" in run.data.metrics
    for split in ("test", "validation"):
        assert summary[f"{split}_macro_f1_ci_low"] <= summary[f"{split}_macro_f1"] <= summary[f"{split}_macro_f1_ci_high"]
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "evaluation/test")}
    assert {"evaluation/test/reliability.png", "evaluation/test/ablation.json",
            "evaluation/test/confusion_normalised.png"} <= artifacts

    model = mlflow.pyfunc.load_model(summary["model_uri"])
    stars = [simulate_star("ogle", label, 9100 + i, seed=3) for i, label in enumerate(["RRL", "ECLP", "CEPH"])]
    frame = request_frame(stars)
    calls = []
    original = served_pyfunc.features_by
    monkeypatch.setattr(served_pyfunc, "features_by", lambda curves, extractor, *groups: calls.append(extractor.version)
                        or original(curves, extractor, *groups))
    predictions = model.predict(frame)
    probabilities = predictions.filter(like="prob_").to_numpy()
    assert probabilities.shape == (3, 5) and np.allclose(probabilities.sum(axis=1), 1)
    assert calls == [2]  # both members need the features: computed once for the two

    # a member trained with an older extractor gets its features by that version, the other by the current
    ensemble = model.unwrap_python_model()
    first = ensemble.members[0]
    first.transform = dataclasses.replace(first.transform, extractor=FeatureConfig(version=1))
    calls.clear()
    model.predict(frame)
    assert sorted(calls) == [1, 2]


def test_ensemble_refuses_members_trained_on_different_data(members):
    other = train(with_overrides(load_preset("tiny", "baseline"), {"data.seed": 7}))
    with pytest.raises(ConfigError, match="members must share one dataset and split"):
        train_ensemble([members[0], f"runs:/{other['run_id']}/model"], register=False)
    with pytest.raises(ConfigError, match="at least two member models"):
        train_ensemble(members[:1])


def test_boosted_trees_train_as_a_member_named_by_their_kind(members):
    boosted = train(with_overrides(load_preset("tiny", "baseline"), {"model.kind": "boosted"}))
    assert mlflow.get_run(boosted["run_id"]).data.params["model.kind"] == "boosted"
    summary = train_ensemble([members[0], f"runs:/{boosted['run_id']}/model"], "average", register=False)
    assert {"baseline (raw)", "baseline[boosted] (raw)"} <= set(summary["ablation_test_macro_f1"])
