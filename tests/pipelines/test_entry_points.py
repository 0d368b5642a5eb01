"""Every MLproject entry point through `mlflow run . -e NAME --env-manager local`, as a user runs it
(the research entry points are in test_research_entry_points.py, the README's commands in
test_readme_commands.py).

One tiny synthetic data set and one tracking store serve the whole module: `main` first (it trains
and registers the three models the later entry points use), then each other entry point with its
defaults and its documented parameters. Each run is a real `mlflow run` subprocess.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow.entities import ViewType

from tests.conftest import free_port, post_json, request_frame, stop_process_group, wait_for_http
from tests.pipelines.conftest import EXPERIMENT, MODELS, ROOT, Project
from vsexp.lightcurves.simulator import simulate_star

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)

TRAINING_ENTRY_POINTS = ["train_lstm", "train_cnn", "train_baseline", "train_hybrid", "train_multi"]
CHROMIUM = "/usr/bin/chromium"  # Debian's; .ci/run installs it
CHROMIUM_ARGUMENTS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def test_main_logs_one_parent_named_main_with_named_step_runs_in_the_data_sets_experiment(project, main_job):
    assert main_job["experiment"] == EXPERIMENT
    parent = project.client.get_run(main_job["run_id"])
    assert parent.info.run_name == "main" and parent.info.status == "FINISHED"
    assert parent.data.params["preset"] == "tiny"  # the MLproject parameters, carried from `mlflow run`'s run
    children = project.runs(filter_string=f"tags.`mlflow.parentRunId` = '{main_job['run_id']}'")
    assert sorted(r.info.run_name for r in children) == ["preprocess", "train_baseline", "train_cnn", "train_lstm"]
    assert all(r.info.status == "FINISHED" for r in children)
    deadline = time.time() + 60  # `mlflow run`'s own run is deleted once `mlflow run` has exited
    while project.client.search_runs(["0"]) and time.time() < deadline:
        time.sleep(0.5)
    assert project.client.search_runs(["0"]) == []  # nothing left in the Default experiment
    retired = project.client.search_runs(["0"], run_view_type=ViewType.DELETED_ONLY)
    assert [r.data.tags["vsexp.continued_in"] for r in retired] == [main_job["run_id"]]
    for name in MODELS.values():
        version = project.client.get_model_version_by_alias(name, "challenger")
        assert version.run_id in {r.info.run_id for r in children}


def test_main_again_from_the_cli_reuses_every_finished_step(project, main_job):
    again = project.cli("main", "--preset", "tiny")
    assert again["run_id"] != main_job["run_id"] and again["preprocess"]["reused"]
    assert [s["reused"] for s in again["steps"]] == [True, True, True]
    assert [s["run_id"] for s in again["steps"]] == [s["run_id"] for s in main_job["steps"]]


def test_main_passes_every_section_of_its_settings_to_the_steps(project):
    summary = project.cli("main", "--preset", "tiny", "--epochs", "1",
                          "--settings", "augment.copies=1 features.max_frequency=12.5 model.dense_units=12,6 "
                                        "model.n_estimators=7")
    steps = {s["model"]: project.client.get_run(s["run_id"]).data.params for s in summary["steps"]}
    for params in steps.values():
        assert params["augment.copies"] == "1" and params["features.max_frequency"] == "12.5"
    assert steps["lstm"]["model.dense_units"] == steps["cnn"]["model.dense_units"] == "12,6"
    assert steps["baseline"]["model.n_estimators"] == "7"


@pytest.mark.parametrize("entry_point", TRAINING_ENTRY_POINTS)
def test_training_entry_points_register_a_challenger(project, main_job, entry_point):
    summary = project.mlflow_run(entry_point, preset="tiny", epochs=1)
    run = project.client.get_run(summary["run_id"])
    assert run.info.run_name == entry_point and run.info.status == "FINISHED"
    assert project.client.get_experiment(run.info.experiment_id).name == EXPERIMENT
    assert project.client.get_model_version_by_alias(summary["registered_model"], "challenger").run_id == run.info.run_id
    assert {"test_macro_f1", "test_weighted_f1", "validation_macro_f1"} <= set(run.data.metrics)


def _families_without_an_entry_point_of_their_own() -> list[str]:
    from vsexp.models.registry import family_names

    entry_points = yaml.safe_load((ROOT / "MLproject").read_text())["entry_points"]
    return [name for name in family_names() if f"train_{name}" not in entry_points] or ["baseline"]


@pytest.mark.parametrize("model", _families_without_an_entry_point_of_their_own())
def test_train_entry_point_trains_any_model_family_by_name(project, main_job, model):
    summary = project.mlflow_run("train", model=model, preset="tiny", epochs=1)
    run = project.client.get_run(summary["run_id"])
    assert run.info.run_name == f"train_{model}" and run.data.tags["vsexp.model"] == model
    assert project.client.get_model_version_by_alias(summary["registered_model"], "challenger").run_id == run.info.run_id


def test_preprocess_entry_point(project, main_job):
    summary = project.mlflow_run("preprocess", preset="tiny")
    assert summary["reused"] and summary["stars"] > 0
    assert project.client.get_run(summary["run_id"]).info.run_name == "preprocess"


def test_experiment_name_given_to_mlflow_run_is_honoured(project, main_job):
    command = [sys.executable, "-m", "mlflow", "run", str(ROOT), "-e", "preprocess", "--env-manager", "local",
               "--experiment-name", "mine", "-P", "preset=tiny"]
    summary = Project._json(subprocess.run(command, cwd=project.folder, env=project.env, capture_output=True,
                                           text=True, timeout=600), command)
    assert [r.info.run_id for r in project.runs("mine")] == [summary["run_id"]]


def test_evaluate_scores_the_test_split_by_default_and_another_source_whole(project, main_job, data_dir):
    uri = f"models:/{MODELS['baseline']}@challenger"
    own = project.mlflow_run("evaluate", model=uri)
    assert own["split"] == "test"
    assert set(own["per_class"]["CEPH"]) == {"precision", "recall", "f1", "support"}
    other = project.mlflow_run("evaluate", model=uri, data=f"ogle:{data_dir / 'ogle'}")
    assert other["split"] == "all" and other["scored_classes"] == ["CEPH"]
    assert other["stars"] == other["per_class"]["CEPH"]["support"]
    assert other["all_macro_f1"] == other["per_class"]["CEPH"]["f1"]  # the classes present are the headline
    run = project.client.get_run(other["run_id"])
    assert project.client.get_experiment(run.info.experiment_id).name == EXPERIMENT


def test_promote_through_mlflow_run_sets_champion_and_serve_answers(project, main_job):
    name = MODELS["baseline"]
    decision = project.mlflow_run("promote", name=name)
    assert decision["decision"] == "first_champion" and decision["promoted"]
    assert project.client.get_model_version_by_alias(name, "champion").version == decision["challenger_version"]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", f"models:/{name}@champion", "--env-manager", "local",
         "--host", "127.0.0.1", "-p", str(port), "--workers", "1"],
        cwd=project.folder, env=project.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/ping", server)
        stars = [simulate_star("ogle", label, 7000, seed=4) for label in ("LPV", "ECLP")]
        records = request_frame(stars).to_dict(orient="records")
        status, body = post_json(f"http://127.0.0.1:{port}/invocations", {"dataframe_records": records})
        assert status == 200 and len(body["predictions"]) == 2
    finally:
        stop_process_group(server)


def test_promote_names_a_model_that_does_not_exist(project, main_job):
    command = [sys.executable, "-m", "vsexp.cli", "promote", "--name", "vsexp-crts-lstm"]
    result = subprocess.run(command, cwd=project.folder, env=project.env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "no registered model 'vsexp-crts-lstm'" in result.stderr and MODELS["lstm"] in result.stderr


def test_predict_applies_the_models_own_minimum_points(project, main_job, data_dir, tmp_path):
    folder = tmp_path / "curves"
    folder.mkdir()
    for path in sorted((data_dir / "ogle" / "I").glob("*.dat"))[:3]:
        (folder / path.name).write_text(path.read_text())
    lines = sorted((data_dir / "ogle" / "I").glob("*.dat"))[0].read_text().splitlines()
    (folder / "short.dat").write_text("\n".join(lines[:30]) + "\n")  # 30 points; the tiny preset keeps >= 40
    output = tmp_path / "predictions.csv"
    summary = project.mlflow_run("predict", model=f"models:/{MODELS['baseline']}@challenger", input=folder,
                                 output=output)
    assert summary["files"] == 4 and summary["predicted"] == 3 and summary["errors_by_reason"] == {"too_few_points": 1}
    forced = project.cli("predict", "--model", f"models:/{MODELS['baseline']}@challenger", "--input", str(folder),
                         "--output", str(tmp_path / "all.csv"), "--min-points", "10")
    assert forced["predicted"] == 4


def test_convert_entry_point_writes_a_survey_parquet_for_spark(project, main_job):
    output = project.folder / "survey.parquet"  # mlflow run runs the command in the project's folder
    summary = project.mlflow_run("convert", input=f"{ROOT}/tests/data/ogle", output=output)
    table = pd.read_parquet(output)
    assert summary["files"] == len(table) == 3 and {"id", "times", "mags", "errors", "error"} <= set(table.columns)


def test_report_entry_point(project, main_job, tmp_path):
    summary = project.mlflow_run("report", output=tmp_path / "report")
    assert summary["runs"] >= 3 and (tmp_path / "report" / "report.md").exists()


def test_every_entry_point_is_run_through_mlflow_run_here():
    entry_points = set(yaml.safe_load((ROOT / "MLproject").read_text())["entry_points"])
    modules = "".join(path.read_text() for path in Path(__file__).parent.glob("*.py")
                      if path.name == "conftest.py" or path.name.endswith("entry_points.py"))
    run_here = set(re.findall(r'mlflow_run\("(\w+)"', modules)) | set(TRAINING_ENTRY_POINTS)
    assert entry_points - run_here == set()


@pytest.mark.browser
def test_mlflow_ui_shows_runs_by_name_a_confusion_matrix_and_the_aliases(project, main_job):
    """The MLflow UI in headless Chromium: what a person comparing and promoting runs sees."""
    playwright = pytest.importorskip("playwright.sync_api")
    name = MODELS["baseline"]
    assert project.client.get_model_version_by_alias(name, "champion")  # promoted by the test above
    experiment = project.client.get_experiment_by_name(EXPERIMENT).experiment_id
    training = project.client.get_model_version_by_alias(name, "champion").run_id
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", project.uri, "--host", "127.0.0.1",
         "--port", str(port)],
        cwd=project.folder, env=dict(project.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/health", server)
        with playwright.sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGUMENTS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{base}/#/experiments/{experiment}/runs")  # the experiment's "Training runs"
            for run_name in ("main", "train_baseline", "train_lstm", "train_cnn"):
                page.get_by_text(run_name, exact=True).first.wait_for(timeout=60_000)
            page.goto(f"{base}/#/experiments/{experiment}/runs/{training}/artifacts/evaluation/test/confusion.png")
            page.get_by_text("evaluation/test/confusion.png").first.wait_for(timeout=60_000)
            page.locator("img[src^='blob:']").first.wait_for(timeout=60_000)  # the figure itself
            page.goto(f"{base}/#/models/{name}")
            page.get_by_text("@ challenger").first.wait_for(timeout=60_000)
            page.get_by_text("@ champion").first.wait_for(timeout=60_000)
            version = project.client.get_model_version_by_alias(name, "champion").version
            page.goto(f"{base}/#/models/{name}/versions/{version}")  # the version's model card
            page.get_by_text("Intended use").first.wait_for(timeout=60_000)
            page.get_by_text("Known limits").first.wait_for(timeout=60_000)
            browser.close()
    finally:
        stop_process_group(server)
