"""Promotion, serving a registered model over HTTP on loopback, batch prediction, the report."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from tests.conftest import free_port, post_json, stop_process_group, wait_for_http
from vsexp.dataset.build import build_dataset
from vsexp.errors import ConfigError
from vsexp.lightcurves.simulator import simulate_star
from vsexp.pipelines.outputs import predict, report
from vsexp.pipelines.promote import promote
from vsexp.pipelines.train import train
from vsexp.presets import load_preset
from vsexp.train_config import to_flat, with_overrides

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)

NAME = "vsexp-synthetic-ogle-baseline"


def _train(**model_settings):
    config = with_overrides(load_preset("tiny", "baseline"), {f"model.{k}": v for k, v in model_settings.items()})
    return train(config)


@pytest.fixture(scope="module")
def promotions():
    """v_weak -> first champion; v_good -> wins; v_weak again -> champion holds."""
    decisions = {}
    weak = _train(min_samples_leaf=200, n_estimators=5)  # predicts the majority class
    decisions["promote_first"] = promote(NAME)
    good = _train(n_estimators=40)
    # the weak champion calls every star by one class (recall 1 there): no recall floor for this contest
    decisions["promote_better"] = promote(NAME, max_recall_drop=1.0)
    worse = _train(min_samples_leaf=200, n_estimators=5)
    decisions["promote_worse"] = promote(NAME)
    return {"weak": weak, "good": good, "worse": worse, **decisions}


def test_promotion_moves_champion_only_for_a_better_challenger(promotions):
    client = MlflowClient()
    assert promotions["promote_first"]["decision"] == "first_champion"
    assert promotions["promote_better"]["decision"] == "challenger_wins"
    assert promotions["promote_better"]["challenger_score"] > promotions["promote_better"]["champion_score"]
    assert promotions["promote_worse"]["decision"] == "champion_holds"
    assert client.get_model_version_by_alias(NAME, "champion").version == promotions["good"]["version"]
    assert client.get_model_version_by_alias(NAME, "previous").version == promotions["weak"]["version"]
    tags = client.get_model_version(NAME, promotions["worse"]["version"]).tags
    assert tags["promotion.decision"] == "champion_holds"
    run = client.get_run(promotions["promote_worse"]["run_id"])
    assert run.data.metrics["champion_score"] == pytest.approx(promotions["promote_worse"]["champion_score"], abs=1e-4)


def test_both_versions_scored_on_the_same_data(promotions):
    assert promotions["promote_better"]["data"] == promotions["promote_worse"]["data"] == "synthetic-ogle"
    assert promotions["promote_better"]["metric"] == "test_macro_f1"


def test_forced_promotion_needs_a_reason_and_is_recorded(promotions):
    with pytest.raises(ConfigError, match="needs a reason"):
        promote(NAME, force=True)
    forced = promote(NAME, force=True, reason="rollback drill")
    assert forced["decision"] == "forced"
    client = MlflowClient()
    assert client.get_model_version_by_alias(NAME, "champion").version == promotions["worse"]["version"]
    assert client.get_model_version_by_alias(NAME, "previous").version == promotions["good"]["version"]


def _records(stars):
    return [{"times": s.times.tolist(), "mags": s.mags.tolist(), "errors": s.errors.tolist()} for s in stars]


def test_served_model_answers_good_and_bad_requests_on_loopback(promotions, isolated_workspace):
    port = free_port()
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", f"models:/{NAME}@champion", "--env-manager",
         "local", "--host", "127.0.0.1", "-p", str(port), "--workers", "1"],
        cwd=isolated_workspace, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/ping", server)
        stars = [simulate_star("ogle", label, 7000, seed=4) for label in ("LPV", "ECLP")]
        status, body = post_json(f"http://127.0.0.1:{port}/invocations", {"dataframe_records": _records(stars)})
        assert status == 200
        predictions = body["predictions"]
        assert len(predictions) == 2 and {"label", "probability", "prob_LPV"} <= set(predictions[0])
        short = {"times": [1.0, 2.0, 3.0], "mags": [15.0, 15.1, 15.0], "errors": [0.1, 0.1, 0.1]}
        mismatched = {"times": [1.0, 2.0, 3.0], "mags": [15.0, 15.1], "errors": [0.1, 0.1, 0.1]}
        nan_only = {"times": [float(i) for i in range(20)], "mags": [float("nan")] * 20, "errors": [0.1] * 20}
        for bad, words in ((short, "3 valid points"), (mismatched, "differ in length"), (nan_only, "0 valid points")):
            status, body = post_json(f"http://127.0.0.1:{port}/invocations", {"dataframe_records": [bad]})
            assert 400 <= status < 500, body
            assert words in body.get("message", "")
            assert "Traceback" not in json.dumps(body)
        status, body = post_json(f"http://127.0.0.1:{port}/invocations", {"dataframe_records": []})
        assert 400 <= status < 500
    finally:
        stop_process_group(server)


def test_predict_folder_writes_good_rows_and_one_error_row_per_broken_file(promotions, data_dir, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(data_dir / "ogle" / "I", folder)
    for name in ("empty.csv", "binary_junk.csv", "truncated.csv.gz", "too_few_points.csv"):
        shutil.copy(data_dir / "bad/lightcurves" / name, folder / name)
    for output in (tmp_path / "predictions.csv", tmp_path / "predictions.parquet"):
        summary = predict(f"models:/{NAME}@champion", str(folder), str(output), batch_size=2)
        frame = pd.read_csv(output) if output.suffix == ".csv" else pd.read_parquet(output)
        assert len(frame) == 7 and summary["files"] == 7
        good = frame[frame["error"].isna()]
        assert set(good["id"]) == {"OGLE-LMC-CEP-0001", "OGLE-LMC-CEP-0002", "OGLE-LMC-CEP-0004"}
        np.testing.assert_allclose(good.filter(like="prob_").sum(axis=1), 1.0, rtol=1e-6)
        assert summary["errors_by_reason"] == {"empty": 1, "unreadable": 2, "too_few_points": 1}
        assert frame["error"].notna().sum() == 4


def test_report_puts_every_run_beside_the_paper(promotions, tmp_path):
    summary = report(str(tmp_path / "report"))
    text = Path(summary["report"]).read_text()
    for key in ("weak", "good", "worse"):
        run_id = promotions[key]["run_id"]
        assert f"`{run_id[:8]}`" in text
        assert f"{promotions[key]['test_macro_f1']:.3f}" in text
    assert "| RRab | RRab | 0.29 | 0.55 |" in text and "| LPV | LPV | 0.69 | 0.80 |" in text  # Table 4
    html = (tmp_path / "report" / "report.html").read_text()
    assert "<table>" in html and promotions["good"]["run_id"][:8] in html


class _Answers(mlflow.pyfunc.PythonModel):
    """A stand-in classifier that gives set answers, star by star (keyed by its first time)."""

    def __init__(self, answers: dict, class_names: list[str]):
        self.answers, self.class_names = answers, class_names

    def predict(self, context, model_input: pd.DataFrame, params=None):
        return pd.DataFrame({"label": [self.answers[round(float(times[0]), 5)] for times in model_input["times"]]})


def _register_answers(name: str, config, answers: dict, classes: list[str], alias: str) -> str:
    with mlflow.start_run():
        mlflow.log_params({f"data.{k}": v for k, v in to_flat(config.data).items()})
        info = mlflow.pyfunc.log_model(name="model", python_model=_Answers(answers, classes))
    version = mlflow.register_model(info.model_uri, name).version
    MlflowClient().set_registered_model_alias(name, alias, version)
    return version


def test_a_challenger_with_the_better_macro_f1_is_blocked_by_a_class_whose_recall_falls():
    config = load_preset("tiny", "baseline")
    dataset = build_dataset(config.data)
    test = dataset.split("test")
    classes, truth = dataset.classes, dict(zip((round(float(t[0]), 5) for t in test["times"]), test["label"]))
    rare, other = classes[1], classes[-1]

    def answers(wrong_in):  # half of each class in wrong_in called `other` (or `rare`), the rest right
        given, seen = {}, {}
        for key, label in truth.items():
            seen[label] = seen.get(label, 0) + 1
            wrong = label in wrong_in and seen[label] % 2 == 0
            given[key] = (rare if label == other else other) if wrong else label
        return given

    name = "vsexp-synthetic-ogle-answers"
    champion = _register_answers(name, config, answers([c for c in classes if c != rare]), classes, "champion")
    challenger = _register_answers(name, config, answers([rare]), classes, "challenger")
    blocked = promote(name)
    assert blocked["decision"] == "champion_holds" and blocked["challenger_score"] > blocked["champion_score"]
    assert blocked["recall"]["champion"][rare] - blocked["recall"]["challenger"][rare] > 0.05
    assert any(f"recall_{rare}" in line for line in blocked["failed_thresholds"])
    assert MlflowClient().get_model_version_by_alias(name, "champion").version == champion
    lenient = promote(name, max_recall_drop=0.9)  # the same contest, a looser rule
    assert lenient["decision"] == "challenger_wins" and lenient["failed_thresholds"] == []
    assert MlflowClient().get_model_version_by_alias(name, "champion").version == challenger
    runs = MlflowClient().search_runs([MlflowClient().get_run(blocked["run_id"]).info.experiment_id],
                                      f"tags.mlflow.parentRunId = '{blocked['run_id']}'")
    assert sorted(r.data.tags["vsexp.role"] for r in runs) == ["challenger", "champion"]
    assert all("f1_score" in r.data.metrics and f"recall_{rare}" in r.data.metrics for r in runs)  # MLflow's evaluation
