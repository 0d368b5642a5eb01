"""An "Other" class and an "unknown" answer: a star of a type outside the class set can be called so."""

import mlflow
from mlflow import MlflowClient
import numpy as np
import pytest

from tests.conftest import request_frame
from vsexp.config import DataConfig
from vsexp.dataset.build import read_labelled
from vsexp.errors import ConfigError
from vsexp.lightcurves.simulator import simulate_star
from vsexp.pipelines.train import train
from vsexp.presets import load_preset
from vsexp.train_config import with_overrides


def test_other_class_gathers_the_catalogue_classes_outside_the_class_set(data_dir):
    data = DataConfig(source=f"crts:{data_dir / 'crts'}", class_set="crts", other_class=True, min_points=10)
    assert data.classes()[-1] == "Other" and len(data.classes()) == 8
    kept, report = read_labelled(data, data.classes())
    labels = {item.object_id: label for item, label in kept}
    catalogue = {item.object_id: item.label for item, _ in kept}
    assert {catalogue[i] for i, label in labels.items() if label == "Other"} == {"HADS"}
    assert "class_not_selected" not in report.counts_by_reason()

    without = DataConfig(source=data.source, class_set="crts", min_points=10)
    assert len(read_labelled(without, without.classes())[0]) == len(kept) - 1  # HADS left out, and counted
    with pytest.raises(ConfigError, match="other_class"):
        DataConfig(class_set="all", other_class=True)


@pytest.mark.slow  # trains and logs a model
def test_a_forest_with_other_and_unknown_fitted_on_validation_reports_and_serves_them():
    config = with_overrides(load_preset("tiny", "baseline"), {
        "data.class_set": "CEPH,ECLP,RRL", "data.other_class": "true", "unknown.rate": "0.1"})
    summary = train(config)

    assert summary["classes"] == ["CEPH", "ECLP", "RRL", "Other"]  # DSCT and LPV became Other
    assert summary["registered_model"] == "vsexp-synthetic-ogle-baseline-other"  # not a version of the 5-class model
    card = MlflowClient().get_model_version(summary["registered_model"], summary["version"]).description
    assert "can be called `Other`" in card and "or `unknown` when its calibrated top probability is below" in card
    run = mlflow.get_run(summary["run_id"])
    threshold = run.data.metrics["unknown_threshold"]
    assert 0 < threshold < 1 and run.data.metrics["unknown_temperature"] > 0
    assert 0 <= summary["test_other_called_other_or_unknown"] <= 1
    assert summary["test_named_called_other_or_unknown"] >= summary["test_unknown_share_named"]

    model = mlflow.pyfunc.load_model(f"runs:/{summary['run_id']}/model")
    params = {p.name: p.default for p in model.metadata.get_params_schema().params}
    assert params["unknown_threshold"] == pytest.approx(threshold)
    stars = [simulate_star("ogle", label, 9300 + i, seed=5) for i, label in enumerate(["RRL", "ECLP", "DSCT", "LPV"])]
    answers = model.predict(request_frame(stars))
    probabilities = answers.filter(like="prob_").to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1)
    below = answers["probability"] < threshold
    assert list(answers["label"][below]) == ["unknown"] * int(below.sum())
    assert (answers["label"][~below] != "unknown").all()
    assert set(model.predict(request_frame(stars), params={"unknown_threshold": 1.0})["label"]) == {"unknown"}
    assert "unknown" not in set(model.predict(request_frame(stars), params={"unknown_threshold": 0.0})["label"])


def test_unknown_needs_a_validation_split_the_model_was_not_fitted_on():
    config = with_overrides(load_preset("tiny", "baseline"), {"unknown.rate": "0.05"})
    with pytest.raises(ConfigError, match="unknown.rate"):
        train(config, register=False, fit_splits=("train", "validation"))
    with pytest.raises(ConfigError, match=r"unknown.rate must be in \[0, 1\)"):
        with_overrides(config, {"unknown.rate": "1.5"})
