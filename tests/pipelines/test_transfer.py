"""``transfer`` on tiny data: an OGLE-like network scored on CRTS-like stars, then fine-tuned."""

import mlflow
import pytest

from vsexp.errors import ConfigError
from vsexp.pipelines.train import train
from vsexp.pipelines.transfer import transfer
from vsexp.presets import load_preset
from vsexp.train_config import with_overrides

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)

CLASS_MAP = {"RRab": "RRL", "RRc": "RRL", "RRd": "RRL", "EW": "ECLP", "EA": "ECLP"}


def test_transfer_scores_then_fine_tunes_on_a_few_training_curves():
    network = train(with_overrides(load_preset("tiny", "multi"), {"fit.epochs": 2}), register=False)
    summary = transfer(f"runs:/{network['run_id']}/model", "synthetic-crts", class_map=CLASS_MAP, shots=(0, 3, 6),
                       epochs=2)
    assert set(summary["classes"]) == {"RRL", "ECLP", "LPV"} and summary["unknown_class"] > 0  # RS CVn left out
    assert list(summary["macro_f1_by_shots"]) == [0, 3, 6]
    assert all(0 <= f1 <= 1 for f1 in summary["macro_f1_by_shots"].values())
    run = mlflow.get_run(summary["run_id"])
    assert {"test_macro_f1_shots_0", "test_macro_f1_shots_3", "test_macro_f1_shots_6"} <= set(run.data.metrics)
    table = mlflow.load_table("transfer/table.json", run_ids=[summary["run_id"]])
    assert table["curves_used"].tolist() == [0, 9, 18]  # three mapped classes, nested shot sets
    inputs = {d.dataset.name.rsplit(":", 1)[1] for d in run.inputs.dataset_inputs}
    assert inputs == {"train", "test"}


def test_transfer_refuses_fine_tuning_a_forest_and_bad_shots():
    forest = train(load_preset("tiny", "baseline"), register=False)
    uri = f"runs:/{forest['run_id']}/model"
    with pytest.raises(ConfigError, match="only shots=0"):
        transfer(uri, "synthetic-crts", class_map=CLASS_MAP, shots=(0, 5))
    with pytest.raises(ConfigError, match="shots must be counts >= 0"):
        transfer(uri, "synthetic-crts", class_map=CLASS_MAP, shots=(-1,))
    assert transfer(uri, "synthetic-crts", class_map=CLASS_MAP, shots=(0,))["macro_f1_by_shots"][0] >= 0
