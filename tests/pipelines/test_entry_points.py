"""Every MLproject entry point through `mlflow run . -e NAME --env-manager local`, as a user runs it.

One tiny synthetic data set and one tracking store serve the whole module: `main` first (it trains
and registers the three models the later entry points use), then each other entry point with its
defaults and its documented parameters. Each run is a real `mlflow run` subprocess.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient
from mlflow.entities import ViewType

from tests.conftest import free_port, post_json, request_frame, stop_process_group, wait_for_http
from vsexp.lightcurves.simulator import simulate_star

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = "vsexp-synthetic-ogle"
MODELS = {name: f"vsexp-synthetic-ogle-{name}" for name in ("baseline", "lstm", "cnn")}
TRAINING_ENTRY_POINTS = ["train_lstm", "train_cnn", "train_baseline", "train_hybrid", "train_multi"]
CHROMIUM = "/usr/bin/chromium"  # Debian's; .ci/run installs it
CHROMIUM_ARGUMENTS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


class Project:
    """A user's working folder: its own tracking store, the session's dataset cache."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.uri = f"sqlite:///{folder / 'mlflow.db'}"
        self.env = dict(os.environ, MLFLOW_TRACKING_URI=self.uri,
                        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        for variable in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"):
            self.env.pop(variable, None)
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def mlflow_run(self, entry_point: str, **parameters) -> dict:
        """Run ``mlflow run ROOT -e entry_point -P k=v...``; the command's JSON line, parsed."""
        command = [sys.executable, "-m", "mlflow", "run", str(ROOT), "-e", entry_point, "--env-manager", "local"]
        for key, value in parameters.items():
            command += ["-P", f"{key}={value}"]
        return self._json(subprocess.run(command, cwd=self.folder, env=self.env, capture_output=True, text=True,
                                         timeout=900), command)

    def cli(self, *arguments: str) -> dict:
        command = [sys.executable, "-m", "vsexp.cli", *arguments]
        return self._json(subprocess.run(command, cwd=self.folder, env=self.env, capture_output=True, text=True,
                                         timeout=900), command)

    @staticmethod
    def _json(result, command) -> dict:
        assert result.returncode == 0, f"{' '.join(command)}\n{result.stderr[-4000:]}"
        return json.loads(result.stdout.strip().splitlines()[-1])

    def runs(self, experiment: str = EXPERIMENT, filter_string: str = "") -> list:
        found = self.client.get_experiment_by_name(experiment)
        assert found is not None, f"no experiment {experiment}"
        return self.client.search_runs([found.experiment_id], filter_string=filter_string)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project(tmp_path_factory.mktemp("user"))


@pytest.fixture(scope="module")
def main_job(project) -> dict:
    return project.mlflow_run("main", preset="tiny")


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


def test_tune_entry_point(project, main_job):
    summary = project.mlflow_run("tune", preset="tiny", model="lstm", n_trials=2, epochs=1)
    assert sum(summary["trials"].values()) == 2 and "final" in summary  # two trials, the best refitted
    run = project.client.get_run(summary["run_id"])
    assert project.client.get_experiment(run.info.experiment_id).name == EXPERIMENT
    assert len(project.runs(filter_string=f"tags.`mlflow.parentRunId` = '{summary['run_id']}'")) >= 2


def test_transfer_entry_point(project, main_job):
    uri = f"models:/{MODELS['lstm']}@challenger"
    summary = project.mlflow_run("transfer", model=uri, data="synthetic-crts", shots="0,3", epochs=1,
                                 class_map="RRab=RRL,RRc=RRL,RRd=RRL,EW=ECLP,EA=ECLP")
    assert list(summary["macro_f1_by_shots"]) == ["0", "3"]  # JSON keys


def test_ensemble_and_sparsity_entry_points(project, main_job):
    members = ",".join(f"models:/{MODELS[m]}@challenger" for m in ("baseline", "lstm"))
    ensemble = project.mlflow_run("train_ensemble", models=members, method="average")
    assert ensemble["registered_model"] == "vsexp-synthetic-ogle-ensemble"
    sparse = project.mlflow_run("sparsity", models=members, points="20,40", modes="random")
    assert len(sparse["rows"]) == 4


def test_crossval_and_crossval_combine_entry_points(project, main_job):
    forest = project.mlflow_run("crossval", preset="tiny", folds=2)
    smaller = project.mlflow_run("crossval", preset="tiny", folds=2, settings="model.n_estimators=5")
    assert project.client.get_run(forest["run_id"]).info.run_name == "crossval_baseline"
    combined = project.mlflow_run("crossval_combine", runs=f"{forest['run_id']},{smaller['run_id']}")
    assert 0 <= combined["crossval_macro_f1"] <= 1


def test_every_entry_point_is_run_through_mlflow_run_here():
    entry_points = set(yaml.safe_load((ROOT / "MLproject").read_text())["entry_points"])
    run_here = set(re.findall(r'mlflow_run\("(\w+)"', Path(__file__).read_text())) | set(TRAINING_ENTRY_POINTS)
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


README = ROOT / "README.md"
# run by .ci/run itself: the install, and the test suite this test belongs to
NOT_RUN_HERE = ("python3 -m venv", ". .venv/bin/activate", "pip install", "python -m pytest")
SERVERS = {"mlflow ui": "/health", "mlflow models serve": "/ping"}


def readme_blocks() -> list[list[str]]:
    """The README's ```bash blocks, each a list of commands (``&&`` chains split, continuations joined)."""
    blocks = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), re.S):
        lines = block.replace("\\\n", " ").splitlines()
        blocks.append([part.strip() for line in lines for part in line.split(" && ") if part.strip()])
    return blocks


def as_tested(command: str, ports: dict[str, int]) -> str:
    """The README command as the test runs it: the tiny preset in place of the one named (CRTS
    presets by the tiny synthetic CRTS-like survey), this checkout for ``.``, free ports."""
    entry = re.search(r"mlflow run \. -e (\w+)", command)
    if entry:
        command = command.replace("mlflow run . ", f"mlflow run {ROOT} ")
        parameters = yaml.safe_load((ROOT / "MLproject").read_text())["entry_points"][entry.group(1)]["parameters"]
        if "preset" in parameters:
            command = re.sub(r" -P preset=crts\w*", " -P source=synthetic-crts -P settings=data.class_set=crts", command)
            command = re.sub(r" -P preset=\w+", "", command) + " -P preset=tiny"
    for port, free in ports.items():
        command = command.replace(f":{port}", f":{free}").replace(f"--port {port}", f"--port {free}")
    return re.sub(r"(?<=[ =:@])(tests/data/)", f"{ROOT}/tests/data/", command)


def test_every_shell_command_in_the_readme_works(project, main_job):
    ports = {port: free_port() for port in re.findall(r"--port (\d+)", README.read_text())}
    ran = 0
    for block in readme_blocks():
        servers = []
        try:
            for command in block:
                if command.startswith(NOT_RUN_HERE):
                    continue
                tested = as_tested(command, ports)
                server = next((path for prefix, path in SERVERS.items() if prefix in command), None)
                if server:
                    process = subprocess.Popen(tested.rstrip("& "), shell=True, cwd=project.folder, env=project.env,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                               start_new_session=True)
                    servers.append(process)
                    port = re.search(r"--port (\d+)", tested).group(1)
                    wait_for_http(f"http://127.0.0.1:{port}{server}", process)
                else:
                    result = subprocess.run(tested, shell=True, cwd=project.folder, env=project.env,
                                            capture_output=True, text=True, timeout=900)
                    assert result.returncode == 0, f"{command}\n{result.stderr[-3000:]}"
                    if command.startswith("curl"):
                        assert len(json.loads(result.stdout)["predictions"]) == 2, result.stdout[:500]
                ran += 1
        finally:
            for process in servers:
                stop_process_group(process)
    assert ran >= 10
    for block in re.findall(r"```python\n(.*?)```", README.read_text(), re.S):  # on the tiny data set
        code = block.replace('read_source("synthetic-ogle", class_set="ogle")',
                             'read_source("synthetic-ogle", class_set="ogle", size="tiny", min_points=40)')
        result = subprocess.run([sys.executable, "-c", code], cwd=project.folder, env=project.env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0 and "probability" in result.stdout, f"{block}\n{result.stderr[-3000:]}"
