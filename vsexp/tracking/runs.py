"""MLflow run plumbing shared by every entry point: starting runs, tags, datasets, reuse.

Inside ``mlflow run`` MLflow has already created a run and put its id in ``MLFLOW_RUN_ID``;
``start_run`` resumes that run instead of choosing an experiment (choosing one there fails,
see STACK.md). Outside it, runs go to the experiment named by ``MLFLOW_EXPERIMENT_NAME`` or
``vsexp``. The tracking store is MLflow's default (``sqlite:///mlflow.db`` in the working
directory) unless ``MLFLOW_TRACKING_URI`` says otherwise.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import subprocess
from pathlib import Path

import mlflow
import pandas as pd

from vsexp.config import comma_separated, to_flat

log = logging.getLogger(__name__)

DEFAULT_EXPERIMENT = "vsexp"
MAX_PARAM_LENGTH = 6000


@functools.cache
def git_commit() -> str | None:
    """The checkout's commit (with ``-dirty`` when files changed), or None outside git."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("-dirty" if dirty else "")


@contextlib.contextmanager
def start_run(run_name: str, *, entry_point: str, tags: dict | None = None, nested: bool = False,
              resume_run_id: str | None = None):
    """Start (or, inside ``mlflow run``, resume) a run tagged with the entry point and git commit.

    ``resume_run_id`` continues an interrupted run of the same work instead of starting a new one
    (outside ``mlflow run``; inside it MLflow has made a new run, and the interrupted one is marked
    KILLED with a tag naming its successor).
    """
    all_tags = {"vsexp.entry_point": entry_point, **(tags or {})}
    commit = git_commit()
    if commit:
        all_tags["vsexp.git_commit"] = commit
    if resume_run_id and not nested and mlflow.active_run() is None:
        if not os.environ.get("MLFLOW_RUN_ID"):
            log.info("resuming interrupted run %s", resume_run_id)
            with mlflow.start_run(run_id=resume_run_id, log_system_metrics=True) as run:
                mlflow.set_tag("vsexp.resumed", "true")
                yield run
            return
        client = mlflow.MlflowClient()
        client.set_tag(resume_run_id, "vsexp.superseded_by", os.environ["MLFLOW_RUN_ID"])
        client.set_terminated(resume_run_id, "KILLED")
    if nested and mlflow.active_run() is not None:
        with mlflow.start_run(run_name=run_name, nested=True, tags=all_tags) as run:
            yield run
        return
    if os.environ.get("MLFLOW_RUN_ID") and mlflow.active_run() is None:
        with mlflow.start_run(run_id=os.environ["MLFLOW_RUN_ID"], tags=all_tags, log_system_metrics=True) as run:
            yield run
        return
    if mlflow.active_run() is None:
        mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME", DEFAULT_EXPERIMENT))
    with mlflow.start_run(run_name=run_name, nested=mlflow.active_run() is not None, tags=all_tags,
                          log_system_metrics=True) as run:
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


def log_dataset(dataset, contexts=("train", "validation", "test"), suffix: str = "") -> None:
    """Log a stored dataset as MLflow dataset inputs, one per split context.

    The logged frame is the per-star index (id, label, split, number of points); the source is the
    Parquet file and the digest the manifest's content hash, so runs on the same data share it.
    ``suffix`` marks derived data (``train-thinned``: augmentation copies of the training stars).
    """
    index = dataset.table[["object_id", "label", "split", "n_points"]]
    source = str(dataset.path / "lightcurves.parquet")
    for context in contexts:
        frame = index[index["split"] == context].reset_index(drop=True)
        ds = mlflow.data.from_pandas(frame, source=source, targets="label",
                                     name=f"{dataset.manifest['name']}:{context}",
                                     digest=dataset.manifest["content_hash"][:16])
        retry_concurrent_insert(mlflow.log_input, ds, context=f"{context}-{suffix}" if suffix else context)


def find_finished_run(entry_point: str, params: dict, experiment_names=None) -> mlflow.entities.Run | None:
    """A FINISHED run of ``entry_point`` with the same params and git commit, for reuse.

    Runs from a checkout with uncommitted changes are never reused (their code is unknown).
    """
    commit = git_commit()
    if not commit or commit.endswith("-dirty"):
        return None
    names = experiment_names or [os.environ.get("MLFLOW_EXPERIMENT_NAME", DEFAULT_EXPERIMENT)]
    runs = mlflow.search_runs(
        experiment_names=names,
        filter_string=f"tags.`vsexp.entry_point` = '{entry_point}' and tags.`vsexp.git_commit` = '{commit}' "
                      f"and attributes.status = 'FINISHED'",
        output_format="list",
    )
    wanted = {k: str(v)[:MAX_PARAM_LENGTH] for k, v in params.items()}
    for run in runs:
        if all(run.data.params.get(k) == v for k, v in wanted.items()):
            return run
    return None


def model_names(run_ids: list[str]) -> list[str]:
    """Short readable names of the models the runs trained, in order: the model, then its branches
    (multi-input) or its kind (feature models other than the random forest) and feature groups (when
    not all), made unique by position (``multi[folded,features]``, ``baseline[boosted]``,
    ``baseline[harmonic+periodogram]``, ``baseline#2``)."""
    names = []
    for position, run_id in enumerate(run_ids):
        run = mlflow.get_run(run_id)
        params, name = run.data.params, run.data.tags.get("vsexp.model", f"member{position}")
        if name == "multi":
            name += f"[{params.get('model.branches', '')}]"
        elif name == "baseline":
            qualifiers = [params["model.kind"]] if params.get("model.kind", "random") != "random" else []
            groups = "+".join(comma_separated(params.get("model.feature_groups", "")))
            qualifiers += [groups] if groups else []
            name += f"[{','.join(qualifiers)}]" if qualifiers else ""
        names.append(name if name not in names else f"{name}#{position}")
    return names


def log_table(frame: pd.DataFrame, artifact_file: str) -> None:
    """Log a DataFrame as an MLflow table (shown in the UI) keeping its index as a column."""
    mlflow.log_table(frame.reset_index(), artifact_file)
