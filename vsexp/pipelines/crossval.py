"""The ``crossval`` entry point: k-fold cross-validated scores of a feature model.

A held-out split of ~1,000 stars pins macro-F1 down to about ±0.02 (its bootstrap interval), too
loosely to tell two good models apart. Cross-validation scores every star of the chosen splits once,
out of fold, so the pooled score rests on four to five times as many stars.

For each of ``folds`` stratified folds of the stars in ``splits`` (by star, seeded by ``data.seed``):
fit the model on the other folds' stars — and on the thinned copies of those stars when
``augment.copies`` > 0, never on a copy of a held-out star — then predict the held-out fold. The
pooled out-of-fold predictions are scored like any split under the name ``crossval`` (macro and
weighted metrics, bootstrap interval, per-class metrics, confusion matrices); each fold's macro-F1
is logged as ``fold_macro_f1`` (step = fold), and the out-of-fold probabilities as a table.

The default splits are the development stars (train + validation), so that a choice made by
cross-validation never sees the test split. ``splits=train,validation,test`` estimates a
configuration fixed beforehand on every star; such a score must not be used to choose.
"""

from __future__ import annotations

import json
import logging
import time

import mlflow
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from vsexp.config import TrainConfig
from vsexp.dataset.augment import thinned_copies
from vsexp.dataset.build import SPLITS, build_dataset
from vsexp.errors import ConfigError
from vsexp.models import build_forest
from vsexp.pipelines.train import model_run_tags
from vsexp.representations.cache import dataset_features
from vsexp.representations.features import FEATURE_NAMES
from vsexp.tracking.evaluation import log_evaluation
from vsexp.tracking.runs import log_config, log_dataset, start_run
from vsexp.training.metrics import evaluate_predictions

log = logging.getLogger(__name__)

DEFAULT_SPLITS = ("train", "validation")


def _check_folds(folds: int) -> None:
    if folds < 2:
        raise ConfigError(f"crossval needs at least 2 folds, got {folds}")


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


def _copies_of(dataset, config: TrainConfig, splits, star_ids: pd.Series):
    """The thinned copies of the stars of ``splits`` (none when ``augment.copies`` is 0): (features
    [m, f], class indices [m], position in ``star_ids`` of each copy's star [m])."""
    if not config.augment.copies:
        return np.zeros((0, len(FEATURE_NAMES))), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=int)
    copies = thinned_copies(dataset, config.augment, splits, config.data.min_points)
    log_dataset(copies, contexts=splits, suffix="thinned")
    parents = [json.loads(text)["thinned_from"] for text in copies.table["metadata"]]
    position = pd.Series(np.arange(len(star_ids)), index=star_ids.to_numpy())
    return np.asarray(dataset_features(copies)), copies.labels_of(copies.table), position.loc[parents].to_numpy()


def crossval(config: TrainConfig, folds: int = 5, splits=DEFAULT_SPLITS) -> dict:
    """Cross-validate the feature model ``config`` describes; returns the summary printed as JSON.

    Raises:
        ConfigError: the model is not a feature model, a split is unknown, or the folds do not fit
            the data (see ``assign_folds``).
    """
    if config.model.name != "baseline":
        raise ConfigError(f"crossval fits the feature models (train_baseline: model.kind=random or boosted), "
                          f"not '{config.model.name}'")
    unknown = sorted(set(splits) - set(SPLITS))
    if unknown or not splits:
        raise ConfigError(f"crossval: unknown or no split(s) {unknown or list(splits)} (allowed: {', '.join(SPLITS)})")
    _check_folds(folds)
    started = time.perf_counter()
    dataset = build_dataset(config.data)
    classes = dataset.classes
    rows = dataset.table["split"].isin(splits).to_numpy()
    stars = dataset.table[rows].reset_index(drop=True)
    features = np.asarray(dataset_features(dataset))[rows]
    labels = dataset.labels_of(stars)
    assignment = assign_folds(labels, folds, config.data.seed)
    tags = {**model_run_tags(config, dataset), "vsexp.crossval_splits": "+".join(splits)}
    with start_run(f"crossval-{config.model.kind}-{config.data.survey_name}", entry_point="crossval", tags=tags) as run:
        log_config(config)
        log_dataset(dataset, contexts=splits)
        mlflow.log_params({"folds": folds, "splits": ",".join(splits)})
        copy_features, copy_labels, copy_parents = _copies_of(dataset, config, splits, stars["object_id"])
        probabilities = np.zeros((len(stars), len(classes)))
        fold_scores = []
        for fold in range(folds):
            fitted = assignment != fold
            kept = fitted[copy_parents]  # copies of the fitted stars only
            inputs = np.concatenate([features[fitted], copy_features[kept]])
            targets = np.concatenate([labels[fitted], copy_labels[kept]])
            model = build_forest(config.model, seed=config.fit.seed).fit(inputs, targets)
            probabilities[~fitted] = model.predict_proba(features[~fitted])
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
        mlflow.log_table(table, "crossval/out_of_fold.json")
        summary = {"run_id": run.info.run_id, "model": config.model.kind, "survey": config.data.survey_name,
                   "folds": folds, "splits": list(splits), "stars": len(stars),
                   "copies": len(copy_labels),
                   **{k: round(metrics[k], 4) for k in ("crossval_macro_f1", "crossval_macro_f1_ci_low",
                                                        "crossval_macro_f1_ci_high", "crossval_weighted_f1",
                                                        "crossval_accuracy")},
                   **{k: round(v, 4) for k, v in spread.items()},
                   "fold_macro_f1": [round(s, 4) for s in fold_scores],
                   "per_class_f1": {c: round(metrics[f"crossval_f1_{c}"], 4) for c in classes}}
        summary["wall_seconds"] = round(time.perf_counter() - started, 1)
        mlflow.log_metric("wall_seconds", summary["wall_seconds"])
    return summary
