"""A forest fitted on some feature groups (the ablation): logged, named, and served from raw curves."""

import mlflow
import numpy as np
import pytest

from tests.conftest import request_frame
from vsexp.lightcurves.simulator import simulate_star
from vsexp.pipelines.crossval import crossval
from vsexp.pipelines.train import train
from vsexp.presets import load_preset
from vsexp.representations.features import FEATURE_GROUP_NAMES, extract_features
from vsexp.tracking.runs import model_names
from vsexp.train_config import with_overrides

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)


def test_a_forest_on_two_feature_groups_is_logged_named_and_served_from_raw_curves():
    config = with_overrides(load_preset("tiny", "baseline"), {"model.feature_groups": "harmonic, periodogram"})
    summary = train(config, register=False)
    assert mlflow.get_run(summary["run_id"]).data.params["model.feature_groups"] == "harmonic, periodogram"
    model = mlflow.pyfunc.load_model(f"runs:/{summary['run_id']}/model")
    forest = model.unwrap_python_model().model
    assert forest.named_steps["ensemble"].n_features_in_ == len(FEATURE_GROUP_NAMES["periodogram"]) + len(FEATURE_GROUP_NAMES["harmonic"])
    stars = [simulate_star("ogle", label, 9200 + i, seed=5) for i, label in enumerate(["RRL", "ECLP", "CEPH"])]
    frame = request_frame(stars)
    probabilities = model.predict(frame).filter(like="prob_").to_numpy()
    assert probabilities.shape == (3, 5) and np.allclose(probabilities.sum(axis=1), 1)
    served = model.unwrap_python_model()
    assert served.transform.feature_groups == ("periodogram", "harmonic")  # the statistics and second period not computed
    every_feature = extract_features([(s.times, s.mags, s.errors) for s in stars])
    np.testing.assert_allclose(probabilities, forest.predict_proba({"features": every_feature}))

    ablated = crossval(with_overrides(load_preset("tiny", "baseline"), {"model.feature_groups": "statistics"}), folds=2)
    assert 0 <= ablated["crossval_macro_f1"] <= 1
    assert model_names([summary["run_id"], ablated["run_id"]]) == ["baseline[harmonic+periodogram]", "baseline[statistics]"]
