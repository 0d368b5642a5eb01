"""Training with thinned copies of the fitted stars: counted, logged, and only of the fitted splits."""

import mlflow
import pytest

from vsexp.pipelines.train import train
from vsexp.presets import load_preset
from vsexp.train_config import with_overrides

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)


@pytest.mark.parametrize("model, settings", [("baseline", {}), ("multi", {"fit.epochs": 1})])
def test_thinned_copies_are_fitted_counted_and_logged(model, settings):
    config = with_overrides(load_preset("tiny", model), {"augment.copies": 2, **settings})
    summary = train(config, register=False)
    assert summary["augment_curves"] == 2 * summary["train_stars"]
    assert summary["augment_unchanged"] <= summary["augment_curves"]
    run = mlflow.get_run(summary["run_id"])
    assert run.data.params["augment.copies"] == "2"
    assert run.data.metrics["augment_curves"] == summary["augment_curves"]
    contexts = {tag.value for ds in run.inputs.dataset_inputs for tag in ds.tags if tag.key == "mlflow.data.context"}
    assert contexts == {"train", "validation", "test", "train-thinned"}
    assert 0 <= summary["test_macro_f1"] <= 1


def test_a_refit_on_train_and_validation_thins_both():
    config = with_overrides(load_preset("tiny", "baseline"), {"augment.copies": 1})
    summary = train(config, register=False, fit_splits=("train", "validation"), evaluate_splits=("test",))
    run = mlflow.get_run(summary["run_id"])
    contexts = {tag.value for ds in run.inputs.dataset_inputs for tag in ds.tags if tag.key == "mlflow.data.context"}
    assert {"train-thinned", "validation-thinned"} <= contexts
    assert summary["augment_curves"] == summary["train_stars"]
