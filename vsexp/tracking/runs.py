"""MLflow run plumbing shared by every entry point: experiments, starting runs, tags, datasets, reuse.

**Experiments.** Runs go to one experiment per data set, ``vsexp-<survey>`` (``vsexp-synthetic-ogle``,
``vsexp-crts``...), whichever way they are started: the ``vsexp`` CLI, ``mlflow run`` or the ``main``
job. An experiment the user names wins: ``--experiment-name`` (the CLI's or ``mlflow run``'s) or
``MLFLOW_EXPERIMENT_NAME``.

**Inside ``mlflow run``** MLflow has already created a run and put its id in ``MLFLOW_RUN_ID``.
When the user named an experiment, that run is used as it is. Otherwise MLflow put it in the
``Default`` experiment, where nobody would look for it: the work is logged in the data set's
experiment instead, with the launcher run's parameters and source tags, and the launcher run is
ended with the same status, tagged ``vsexp.continued_in`` and deleted once ``mlflow run`` has exited
(``mlflow run`` marks its run terminated last and fails if it is already deleted; the deleted run
can be restored, it holds nothing else).

**Interruptions.** SIGINT and SIGTERM end the run as ``KILLED`` (see ``vsexp.cli``);
``resume_run_id`` lets a rerun of the same work continue that run.

The tracking store is MLflow's default (``sqlite:///mlflow.db`` in the working directory) unless
``MLFLOW_TRACKING_URI`` says otherwise.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.entities import Param, RunTag

from vsexp.errors import ConfigError
from vsexp.train_config import to_flat

log = logging.getLogger(__name__)

DEFAULT_EXPERIMENT_ID = "0"  # MLflow's "Default" experiment, where `mlflow run` puts runs when not told otherwise
REPORTS_EXPERIMENT = "vsexp-reports"
EXPERIMENT_KIND_TAG, MODEL_DEVELOPMENT = "mlflow.experimentKind", "custom_model_development"  # read by the MLflow UI
MAX_PARAM_LENGTH = 6000
CODE_PATHS = ("vsexp", "experiments", "MLproject", "requirements.txt")  # what a run's results depend on
LAUNCHER_TAGS = ("mlflow.source.name", "mlflow.source.type", "mlflow.source.git.commit", "mlflow.source.git.repoURL",
                 "mlflow.project.entryPoint", "mlflow.project.backend", "mlflow.project.env", "mlflow.user")


def experiment_for(survey_name: str) -> str:
    """The experiment a data set's runs go to by default: ``vsexp-<survey>`` (``vsexp-crts``)."""
    return f"vsexp-{survey_name}"


def chosen_experiment(default: str) -> str:
    """The experiment the user named (``MLFLOW_EXPERIMENT_NAME``), else ``default``."""
    return os.environ.get("MLFLOW_EXPERIMENT_NAME") or default


def experiment_of_run(run_id: str) -> str:
    """The name of the experiment holding ``run_id`` (evaluations and promotions go beside the training)."""
    return mlflow.get_experiment(mlflow.get_run(run_id).info.experiment_id).name


@functools.cache
def git_commit() -> str | None:
    """The code version: the checkout's commit, plus ``-dirty-<hash of the diff>`` when tracked files
    that decide results (``CODE_PATHS``) changed: the same edits give the same version, so finished
    steps are reused only for the same code. None outside git."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        diff = subprocess.run(["git", "diff", "HEAD", "--", *CODE_PATHS], cwd=root, capture_output=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + (f"-dirty-{hashlib.sha256(diff).hexdigest()[:12]}" if diff.strip() else "")


def _experiment_id(name: str) -> str:
    """The id of experiment ``name``, created when missing (safe against another process creating it),
    marked as model development so that the MLflow UI opens it on its runs table (MLflow 3 guesses
    otherwise, and may open the GenAI traces overview)."""
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None:
        try:
            mlflow.create_experiment(name, tags={EXPERIMENT_KIND_TAG: MODEL_DEVELOPMENT})
        except mlflow.exceptions.MlflowException:  # created by a concurrent process in between
            pass
        experiment = mlflow.get_experiment_by_name(name)
        if experiment is None:
            raise mlflow.exceptions.MlflowException(f"experiment '{name}' could not be created")
    if EXPERIMENT_KIND_TAG not in experiment.tags:
        retry_concurrent_insert(mlflow.MlflowClient().set_experiment_tag, experiment.experiment_id,
                                EXPERIMENT_KIND_TAG, MODEL_DEVELOPMENT)
    return experiment.experiment_id


@contextlib.contextmanager
def _ended_as_killed_when_interrupted(run):
    """Yield ``run``; an interruption (KeyboardInterrupt: SIGINT, or SIGTERM via the CLI) ends it ``KILLED``."""
    try:
        yield run
    except KeyboardInterrupt:
        log.warning("interrupted: run %s ends KILLED; running the same command again resumes it", run.info.run_id)
        mlflow.end_run("KILLED")
        raise


@contextlib.contextmanager
def _launcher_retired(launcher, run_id_holder: list):
    """Copy the `mlflow run` launcher run's parameters and source tags to the run that does the work,
    and when it ends, end the launcher with the same status, point it at that run and delete it."""
    client = mlflow.MlflowClient()
    status = "FAILED"
    try:
        yield
        status = "FINISHED"
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        run_id = run_id_holder[0] if run_id_holder else None
        if run_id:
            client.set_tag(launcher.info.run_id, "vsexp.continued_in", run_id)
        client.set_terminated(launcher.info.run_id, status)
        _delete_after_launcher_exits(launcher.info.run_id)
        if run_id:
            log.info("`mlflow run` made run %s in the Default experiment; the work is in run %s of experiment '%s'",
                     launcher.info.run_id, run_id, experiment_of_run(run_id))


def _mlflow_run_process() -> int | None:
    """The pid of the ``mlflow run`` process this one was started by, if any."""
    import psutil

    for parent in psutil.Process().parents():
        try:
            command = parent.cmdline()
        except psutil.Error:
            continue
        if any(part.endswith("mlflow") or part == "mlflow" for part in command) and "run" in command:
            return parent.pid
    return None


def _delete_after_launcher_exits(run_id: str) -> None:
    """Delete ``run_id`` now, or from a detached process once the ``mlflow run`` that made it exits."""
    pid = _mlflow_run_process()
    if pid is None:
        mlflow.MlflowClient().delete_run(run_id)
        return
    code = "import sys; from vsexp.tracking.runs import delete_run_after; delete_run_after(sys.argv[1], int(sys.argv[2]))"
    subprocess.Popen([sys.executable, "-c", code, run_id, str(pid)], start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     env=dict(os.environ, MLFLOW_TRACKING_URI=mlflow.get_tracking_uri()))


def delete_run_after(run_id: str, pid: int, timeout: float = 600.0) -> None:
    """Wait (at most ``timeout`` s) for process ``pid`` to end, then delete run ``run_id``."""
    import psutil

    try:
        psutil.Process(pid).wait(timeout=timeout)
    except (psutil.NoSuchProcess, psutil.TimeoutExpired):
        pass
    mlflow.MlflowClient().delete_run(run_id)


def _copy_launcher(launcher, run_id: str) -> None:
    params = [Param(k, v) for k, v in launcher.data.params.items()]
    tags = [RunTag(k, v) for k, v in launcher.data.tags.items() if k in LAUNCHER_TAGS]
    tags.append(RunTag("vsexp.mlflow_run_launcher", launcher.info.run_id))
    existing = mlflow.get_run(run_id).data.params
    params = [p for p in params if p.key not in existing]
    mlflow.MlflowClient().log_batch(run_id, params=params, tags=tags)


@contextlib.contextmanager
def start_run(run_name: str, *, entry_point: str, experiment: str | None = None, tags: dict | None = None,
              nested: bool = False, resume_run_id: str | None = None):
    """Start a run tagged with the entry point and code version (see the module docstring).

    Args:
        run_name: what the MLflow UI lists (``train_lstm``, ``evaluate``...).
        entry_point: the ``vsexp.entry_point`` tag (finished steps are found by it for reuse).
        experiment: the default experiment of a top-level run (``experiment_for(survey)``); the
            user's choice wins (``chosen_experiment``). Nested runs go to their parent's.
        nested: a child of the active run (``main``'s steps, search trials, folds).
        resume_run_id: an interrupted run of the same work to continue instead of starting anew.
    """
    all_tags = {"vsexp.entry_point": entry_point, **(tags or {})}
    commit = git_commit()
    if commit:
        all_tags["vsexp.git_commit"] = commit
    parent = mlflow.active_run()
    if nested and parent is not None:
        with mlflow.start_run(run_name=run_name, nested=True, experiment_id=parent.info.experiment_id,
                              tags=all_tags) as run, _ended_as_killed_when_interrupted(run):
            yield run
        return
    if parent is not None:
        raise RuntimeError(f"cannot start top-level run '{run_name}' inside active run {parent.info.run_id}")
    launcher_id = os.environ.pop("MLFLOW_RUN_ID", None)
    launcher = mlflow.get_run(launcher_id) if launcher_id else None
    client = mlflow.MlflowClient()
    if launcher is not None and launcher.info.experiment_id != DEFAULT_EXPERIMENT_ID:
        # `mlflow run --experiment-name X`: the user chose; log into MLflow's run
        mlflow.set_experiment(experiment_id=launcher.info.experiment_id)
        if resume_run_id:
            client.set_tag(resume_run_id, "vsexp.superseded_by", launcher_id)
            client.set_terminated(resume_run_id, "KILLED")
        with mlflow.start_run(run_id=launcher_id, run_name=run_name, tags=all_tags, log_system_metrics=True) as run, \
                _ended_as_killed_when_interrupted(run):
            yield run
        return
    name = chosen_experiment(experiment or REPORTS_EXPERIMENT)
    mlflow.set_experiment(experiment_id=_experiment_id(name))
    if resume_run_id:
        log.info("resuming interrupted run %s", resume_run_id)
        all_tags["vsexp.resumed"] = "true"
    holder: list[str] = []
    with (_launcher_retired(launcher, holder) if launcher is not None else contextlib.nullcontext()), \
            mlflow.start_run(run_id=resume_run_id, run_name=None if resume_run_id else run_name, tags=all_tags,
                             log_system_metrics=True) as run, _ended_as_killed_when_interrupted(run):
        holder.append(run.info.run_id)
        if launcher is not None:
            _copy_launcher(launcher, run.info.run_id)
        yield run


def retry_concurrent_insert(call, *args, **kwargs):
    """Run an MLflow write once more if a concurrent worker won MLflow's check-then-insert race.

    Workers logging the same dataset or tagging the same run at once can hit a UNIQUE constraint
    in the store; by then the other insert has landed, so the second try updates or links to it.
    """
    try:
        return call(*args, **kwargs)
    except mlflow.exceptions.MlflowException as error:
        if "UNIQUE constraint" not in str(error) and "duplicate key" not in str(error):
            raise
        log.info("concurrent write raced (%s); retrying once", type(error).__name__)
        return call(*args, **kwargs)


def log_config(config, prefix: str = "") -> None:
    """Log a config's flat form as params (``prefix`` + key; values cut to MLflow's length limit).

    Keys always carry a section (``data.source``), so they never collide with the entry point's
    own parameters that ``mlflow run`` logs (``source``).
    """
    mlflow.log_params({f"{prefix}{k}": str(v)[:MAX_PARAM_LENGTH] for k, v in to_flat(config).items()})


def local_file_source(path) -> mlflow.data.dataset_source.DatasetSource:
    """A dataset source for a local file, named outright: given as a string, MLflow finds it matches
    two registered source types and warns that it is ambiguous."""
    from mlflow.data.dataset_source_registry import get_registered_sources

    kind = next(s for s in get_registered_sources() if s._get_source_type() == "local")
    return kind.from_dict({"uri": str(path)})


def log_dataset(dataset, contexts=("train", "validation", "test"), suffix: str = "") -> None:
    """Log a stored dataset as MLflow dataset inputs, one per split context.

    The logged frame is the per-star index (id, label, split, number of points); the source is the
    Parquet file and the digest the manifest's content hash, so runs on the same data share it.
    ``suffix`` marks derived data (``train-thinned``: augmentation copies of the training stars).
    """
    # n_points as float: MLflow warns that an inferred integer column cannot hold missing values
    index = dataset.table[["object_id", "label", "split", "n_points"]].astype({"n_points": "float64"})
    source = local_file_source(dataset.path / "lightcurves.parquet")
    for context in contexts:
        frame = index[index["split"] == context].reset_index(drop=True)
        ds = mlflow.data.from_pandas(frame, source=source, targets="label",
                                     name=f"{dataset.manifest['name']}:{context}",
                                     digest=dataset.manifest["content_hash"][:16])
        retry_concurrent_insert(mlflow.log_input, ds, context=f"{context}-{suffix}" if suffix else context)


def find_finished_run(entry_point: str, params: dict, experiment: str) -> mlflow.entities.Run | None:
    """A FINISHED run of ``entry_point`` in ``experiment`` with the same params and code version, for
    reuse (whether it was started by ``mlflow run``, the CLI or ``main``); None outside git."""
    commit = git_commit()
    if not commit:
        return None
    runs = mlflow.search_runs(
        experiment_names=[experiment],
        filter_string=f"tags.`vsexp.entry_point` = '{entry_point}' and tags.`vsexp.git_commit` = '{commit}' "
                      f"and attributes.status = 'FINISHED'",
        output_format="list",
    )
    wanted = {k: str(v)[:MAX_PARAM_LENGTH] for k, v in params.items()}
    for run in runs:
        if all(run.data.params.get(k) == v for k, v in wanted.items()):
            return run
    return None


def model_label(name: str, params: dict) -> str:
    """A model's name with what tells its runs apart (its family's qualifier: the branches of a
    multi-input network, the kind or feature groups of a feature model): ``multi[folded,features]``,
    ``baseline[boosted]``, ``baseline``."""
    from vsexp.models.registry import family

    try:
        qualifier = family(name).qualifier(params)
    except ConfigError:  # a run of a model this version does not know
        qualifier = ""
    return f"{name}[{qualifier}]" if qualifier else name


def model_names(run_ids: list[str]) -> list[str]:
    """Short readable names of the models the runs trained, in order (``model_label``), made unique
    by position (``baseline#2``)."""
    names = []
    for position, run_id in enumerate(run_ids):
        run = mlflow.get_run(run_id)
        name = model_label(run.data.tags.get("vsexp.model", f"member{position}"), run.data.params)
        names.append(name if name not in names else f"{name}#{position}")
    return names


def log_table(frame: pd.DataFrame, artifact_file: str) -> None:
    """Log a DataFrame as an MLflow table (shown in the UI) keeping its index as a column."""
    mlflow.log_table(frame.reset_index(), artifact_file)
