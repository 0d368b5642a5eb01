"""The multi-input network: branches by config, dict inputs, a served prediction from raw curves."""

import mlflow
import pytest

from tests.conftest import request_frame
from vsexp.errors import ConfigError
from vsexp.lightcurves.simulator import simulate_star
from vsexp.models.multi.config import MultiConfig
from vsexp.models.multi.network import build_multi
from vsexp.models.registry import family
from vsexp.pipelines.train import train
from vsexp.presets import load_preset
from vsexp.train_config import with_overrides


def test_branches_select_inputs():
    inputs = family("multi").inputs
    assert inputs(MultiConfig()) == ("folded", "features_scaled")
    assert inputs(MultiConfig(branches="sequence,dmdt")) == ("sequence", "dmdt")
    model = build_multi(MultiConfig(branches="folded,features,dmdt,sequence"),
                        {"folded": (64, 2), "features_scaled": (50,), "dmdt": (24, 16), "sequence": (128, 1)}, 5)
    assert len(model.inputs) == 4 and model.output_shape == (None, 5)
    with pytest.raises(ConfigError, match="subset of folded, features, dmdt, sequence"):
        MultiConfig(branches="folded,spectra")


@pytest.mark.slow
@pytest.mark.parametrize("branches", ["folded,features", "sequence,dmdt"])
def test_multi_trains_registers_and_predicts_raw_curves(branches):
    config = with_overrides(load_preset("tiny", "multi"), {"model.branches": branches, "fit.epochs": 2})
    summary = train(config)
    assert summary["registered_model"] == "vsexp-synthetic-ogle-multi"
    model = mlflow.pyfunc.load_model(f"models:/vsexp-synthetic-ogle-multi/{summary['version']}")
    stars = [simulate_star("ogle", "RRL", 8000 + i, seed=2) for i in range(3)]
    frame = request_frame(stars)
    predictions = model.predict(frame)
    assert len(predictions) == 3 and predictions.filter(like="prob_").shape[1] == 5
