"""The ``crossval`` entry point: k-fold cross-validated scores of any model.

A held-out split of ~1,000 stars pins macro-F1 down to about ±0.02 (its bootstrap interval), too
loosely to tell two good models apart. Cross-validation scores every star of the chosen splits once,
out of fold, so the pooled score rests on four to five times as many stars.

For each of ``folds`` stratified folds of the stars in ``splits`` (by star, seeded by ``data.seed``):
fit the model on the other folds' stars — and on the thinned copies of those stars when
``augment.copies`` > 0, never on a copy of a held-out star — then predict the held-out fold. The
pooled out-of-fold predictions are scored like any split under the name ``crossval`` (macro and
weighted metrics, bootstrap interval, per-class metrics, confusion matrices); each fold's macro-F1
is logged as ``fold_macro_f1`` (step = fold), and the out-of-fold probabilities as a table.

A network (``model.name`` lstm, cnn or multi) trains for exactly ``fit.epochs`` epochs in
each fold — no stars are held back for early stopping, so take the epoch count from a ``train_*``
run's ``best_epoch`` — and logs its learning curves in a nested run per fold. Its inputs are the
dataset's cached representations, whose preprocessing (dm-dt bins, sequence and feature scaling) is
fitted on the training split without labels, as in ``train_*``.

The default splits are the development stars (train + validation), so that a choice made by
cross-validation never sees the test split. ``splits=train,validation,test`` estimates a
configuration fixed beforehand on every star; such a score must not be used to choose.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from vsexp.config import check_choices
from vsexp.dataset.augment import thinned_copies
from vsexp.dataset.build import SPLITS, build_dataset
from vsexp.errors import ConfigError
from vsexp.models.ensemble import METHODS, ProbabilityCombiner
from vsexp.models.registry import family
from vsexp.pipelines.train import concatenate_inputs, fit_model, model_run_tags
from vsexp.representations.cache import build_representations
from vsexp.representations.protocol import Settings
from vsexp.tracking.evaluation import log_evaluation
from vsexp.tracking.runs import experiment_for, experiment_of_run, log_config, log_dataset, model_label, model_names, start_run
from vsexp.train_config import TrainConfig, to_flat
from vsexp.training.metrics import evaluate_predictions

log = logging.getLogger(__name__)

DEFAULT_SPLITS = ("train", "validation")
OUT_OF_FOLD = "crossval/out_of_fold.json"


def _check_folds(folds: int) -> None:
    if folds < 2:
        raise ConfigError(f"cross-validation needs at least 2 folds, got {folds}")


def assign_folds(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """[n] fold index (0..folds-1) of each star, stratified by ``labels``.

    Raises:
        ConfigError: fewer than two folds, or a class with fewer stars than folds.
    """
    _check_folds(folds)
    counts = np.bincount(labels)
    if counts[counts > 0].min() < folds:
        raise ConfigError(f"crossval: a class has {counts[counts > 0].min()} stars, fewer than the {folds} folds")
    assignment = np.empty(len(labels), dtype=int)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (_, held_out) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        assignment[held_out] = fold
    return assignment


def _rows(inputs: dict, rows) -> dict:
    """The ``rows`` of every input."""
    return {name: array[rows] for name, array in inputs.items()}


def _copies_of(dataset, representations, config: TrainConfig, splits, star_ids: pd.Series):
    """The thinned copies of the stars of ``splits``: (model inputs, class indices [m], position in
    ``star_ids`` of each copy's star [m]); None when ``augment.copies`` is 0."""
    if not config.augment.copies:
        return None
    copies = thinned_copies(dataset, config.augment, splits, config.data.min_points)
    log_dataset(copies, contexts=splits, suffix="thinned")
    parents = [json.loads(text)["thinned_from"] for text in copies.table["metadata"]]
    position = pd.Series(np.arange(len(star_ids)), index=star_ids.to_numpy())
    return (representations.of(copies).inputs(), copies.labels_of(copies.table),
            position.loc[parents].to_numpy())


def _fit_fold(config: TrainConfig, fit_inputs, num_classes: int, fold: int):
    """Fit one fold's model; a network logs its learning curves in a nested run. Returns its
    predict-probabilities function."""
    network = family(config.model.name).network
    with contextlib.ExitStack() as stack:
        if network:
            stack.enter_context(start_run(f"fold-{fold}", entry_point="crossval", nested=True,
                                          tags={"vsexp.fold": str(fold)}))
        work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vsexp-fold-")))
        _, predict = fit_model(config, fit_inputs, None, num_classes, work_dir, (), {})
    return predict


def crossval(config: TrainConfig, folds: int = 5, splits=DEFAULT_SPLITS) -> dict:
    """Cross-validate the model ``config`` describes; returns the summary printed as JSON.

    Raises:
        ConfigError: a split is unknown, or the folds do not fit the data (see ``assign_folds``).
    """
    unknown = sorted(set(splits) - set(SPLITS))
    if unknown or not splits:
        raise ConfigError(f"crossval: unknown or no split(s) {unknown or list(splits)} (allowed: {', '.join(SPLITS)})")
    _check_folds(folds)
    started = time.perf_counter()
    dataset = build_dataset(config.data)
    model_family = family(config.model.name)
    representations = build_representations(dataset, model_family.inputs(config.model), Settings.of(config))
    classes = dataset.classes
    rows = dataset.table["split"].isin(splits).to_numpy()
    stars = dataset.table[rows].reset_index(drop=True)
    inputs = _rows(representations.inputs(), rows)
    labels = dataset.labels_of(stars)
    assignment = assign_folds(labels, folds, config.data.seed)
    tags = {**model_run_tags(config, dataset), "vsexp.crossval_splits": "+".join(splits)}
    label = model_label(config.model.name, to_flat(config))
    with start_run(f"crossval_{label}", entry_point="crossval", experiment=experiment_for(config.data.survey_name),
                   tags=tags) as run:
        log_config(config)
        log_dataset(dataset, contexts=splits)
        mlflow.log_params({"crossval.folds": folds, "crossval.splits": ",".join(splits)})
        copies = _copies_of(dataset, representations, config, splits, stars["object_id"])
        probabilities = np.zeros((len(stars), len(classes)))
        fold_scores = []
        for fold in range(folds):
            fitted = assignment != fold
            parts = [(_rows(inputs, fitted), labels[fitted])]
            if copies is not None:
                copy_inputs, copy_labels, copy_parents = copies
                kept = fitted[copy_parents]  # copies of the fitted stars only
                parts.append((_rows(copy_inputs, kept), copy_labels[kept]))
            fit_inputs = (concatenate_inputs([p for p, _ in parts]), np.concatenate([t for _, t in parts]))
            predict = _fit_fold(config, fit_inputs, len(classes), fold)
            probabilities[~fitted] = np.asarray(predict(_rows(inputs, ~fitted)))
            score = evaluate_predictions(labels[~fitted], probabilities[~fitted], classes, interval=False)
            fold_scores.append(score["scalars"]["macro_f1"])
            mlflow.log_metric("fold_macro_f1", fold_scores[-1], step=fold)
            log.info("fold %d/%d: %d stars fitted (+ copies), %d held out, macro-F1 %.4f", fold + 1, folds,
                     int(fitted.sum()), int((~fitted).sum()), fold_scores[-1])
        evaluation = evaluate_predictions(labels, probabilities, classes)
        metrics = log_evaluation(evaluation, classes, "crossval")
        spread = {"fold_macro_f1_mean": float(np.mean(fold_scores)), "fold_macro_f1_std": float(np.std(fold_scores))}
        mlflow.log_metrics(spread)
        table = pd.DataFrame(probabilities, columns=[f"p_{c}" for c in classes])
        table.insert(0, "fold", assignment)
        table.insert(0, "label", stars["label"].to_numpy())
        table.insert(0, "object_id", stars["object_id"].to_numpy())
        mlflow.log_table(table, OUT_OF_FOLD)
        summary = {"run_id": run.info.run_id, "model": label, "survey": config.data.survey_name,
                   "folds": folds, "splits": list(splits), "stars": len(stars),
                   "copies": 0 if copies is None else len(copies[1]),
                   **{k: round(metrics[k], 4) for k in ("crossval_macro_f1", "crossval_macro_f1_ci_low",
                                                        "crossval_macro_f1_ci_high", "crossval_weighted_f1",
                                                        "crossval_accuracy")},
                   **{k: round(v, 4) for k, v in spread.items()},
                   "fold_macro_f1": [round(s, 4) for s in fold_scores],
                   "per_class_f1": {c: round(metrics[f"crossval_f1_{c}"], 4) for c in classes}}
        summary["wall_seconds"] = round(time.perf_counter() - started, 1)
        mlflow.log_metric("wall_seconds", summary["wall_seconds"])
    return summary


def out_of_fold_table(run_id: str) -> pd.DataFrame:
    """The out-of-fold probabilities a ``crossval`` run logged (object_id, label, fold, p_<class>...).

    Raises:
        ConfigError: the run has no such table (not a crossval run).
    """
    try:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=OUT_OF_FOLD)
    except mlflow.exceptions.MlflowException as error:
        raise ConfigError(f"run {run_id} has no {OUT_OF_FOLD}: not a crossval run ({error.message})") from None
    return pd.read_json(path, orient="split")


def _nested_combination(members: list[np.ndarray], labels: np.ndarray, assignment: np.ndarray, method: str,
                        seed: int) -> np.ndarray:
    """Each fold's stars combined by a combiner fitted on the other folds' out-of-fold probabilities."""
    combined = np.zeros_like(members[0])
    for fold in np.unique(assignment):
        held_out = assignment == fold
        combiner = ProbabilityCombiner(method, seed).fit([p[~held_out] for p in members], labels[~held_out])
        combined[held_out] = combiner.predict_proba([p[held_out] for p in members])
    return combined


def combine_crossval(run_ids: list[str], method: str = "average", seed: int = 0) -> dict:
    """Score combinations of cross-validated models on the same out-of-fold stars; returns the summary.

    Each model alone, and every subset of two or more of the runs' models combined
    (``models.ensemble``: temperatures and, for stacking, the logistic regression fitted on the other
    folds' out-of-fold probabilities, so that no star's combination has seen its label), is scored;
    the combination of all of them is logged like any split under ``crossval``, every subset in the
    table ``crossval/combinations.json``. This is how a combination is chosen without the test split.

    Raises:
        ConfigError: fewer than two runs, an unknown method, or runs whose stars, labels or folds differ.
    """
    check_choices("combination method", method, METHODS)
    if len(run_ids) < 2:
        raise ConfigError(f"combining needs at least two crossval runs, got {len(run_ids)}")
    tables = [out_of_fold_table(run_id) for run_id in run_ids]
    first = tables[0]
    for run_id, table in zip(run_ids[1:], tables[1:]):
        for column in ("object_id", "label", "fold"):
            if not table[column].reset_index(drop=True).equals(first[column].reset_index(drop=True)):
                raise ConfigError(f"crossval run {run_id} differs from run {run_ids[0]} in its stars' {column}s: "
                                  f"combine runs of one dataset, splits, folds and seed")
    classes = [c.removeprefix("p_") for c in first.columns if c.startswith("p_")]
    labels = first["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    assignment = first["fold"].to_numpy()
    members = [t[[f"p_{c}" for c in classes]].to_numpy() for t in tables]
    names = model_names(run_ids)
    rows = []
    for size in range(1, len(members) + 1):
        for subset in itertools.combinations(range(len(members)), size):
            probabilities = (members[subset[0]] if size == 1 else
                             _nested_combination([members[i] for i in subset], labels, assignment, method, seed))
            full = probabilities  # the last subset is every model: logged in full below
            scores = evaluate_predictions(labels, probabilities, classes, interval=False)
            rows.append({"models": " + ".join(names[i] for i in subset), "size": size,
                         "macro_f1": scores["scalars"]["macro_f1"], "accuracy": scores["scalars"]["accuracy"],
                         **{f"f1_{c}": scores["per_class"][c]["f1"] for c in classes}})
    table = pd.DataFrame(rows).sort_values("macro_f1", ascending=False).reset_index(drop=True)
    tags = {"vsexp.model_family": "ensemble", "vsexp.model": "ensemble", "vsexp.members": ",".join(names),
            **{k: v for k, v in mlflow.get_run(run_ids[0]).data.tags.items()
               if k in ("vsexp.survey", "vsexp.dataset", "vsexp.preset", "vsexp.crossval_splits")}}
    with start_run(f"crossval_combine {method}", entry_point="crossval_combine", experiment=experiment_of_run(run_ids[0]),
                   tags=tags) as run:
        mlflow.log_params({"combine.method": method, "combine.seed": seed, "combine.runs": ",".join(run_ids)})
        metrics = log_evaluation(evaluate_predictions(labels, full, classes), classes, "crossval")
        mlflow.log_table(table, "crossval/combinations.json")
        best = table.iloc[0]
        return {"run_id": run.info.run_id, "method": method, "members": names,
                **{k: round(metrics[k], 4) for k in ("crossval_macro_f1", "crossval_macro_f1_ci_low",
                                                     "crossval_macro_f1_ci_high", "crossval_accuracy")},
                "per_class_f1": {c: round(metrics[f"crossval_f1_{c}"], 4) for c in classes},
                "best_combination": best["models"], "best_macro_f1": round(float(best["macro_f1"]), 4),
                "combinations_macro_f1": {r["models"]: round(r["macro_f1"], 4) for r in rows}}
