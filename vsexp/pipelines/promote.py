"""The ``promote`` step: move ``champion`` to the ``challenger`` only when it wins on the same data.

Both versions are scored by MLflow's own evaluation (``mlflow.models.evaluate``, a classifier with
the model's class list, macro averages) on the same split of the same dataset — the challenger's
training data (or a source given) — each in a nested run of the ``promote`` run. The decision is
``mlflow.validate_evaluation_results`` against thresholds taken from the champion's result: the
headline metric must beat the champion's by more than ``min_improvement``, and no class's recall may
fall by more than ``max_recall_drop`` (a challenger cannot buy macro-F1 with a rare class). The
first version becomes champion unopposed; the old champion stays reachable as ``previous``. The
decision, both scores, the failed thresholds, the data and the rule are recorded as tags on the
versions and in the ``promote`` run. ``force`` overrides the rule and is recorded as such, with its
reason.
"""

from __future__ import annotations

import dataclasses
import logging

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import MetricThreshold, make_metric
from mlflow.models.evaluation.validation import ModelValidationFailedException
from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

from vsexp.config import PROMOTION_METRICS, SPLITS, check_choices
from vsexp.dataset.build import build_dataset
from vsexp.errors import ConfigError
from vsexp.pipelines.evaluate import training_data_config
from vsexp.tracking.registry import CHALLENGER, CHAMPION, check_registered, move_champion, tag_version, version_for_alias
from vsexp.tracking.runs import experiment_of_run, start_run

log = logging.getLogger(__name__)

METRICS = PROMOTION_METRICS
DEFAULT_MAX_RECALL_DROP = 0.05
STRICTLY = 1e-9  # "better than" when no margin is asked: MLflow's absolute change must be positive


def _metric(name: str, score) -> mlflow.models.EvaluationMetric:
    return make_metric(eval_fn=lambda predictions, targets, metrics: float(score(targets, predictions)),
                       greater_is_better=True, name=name)


def promotion_metrics(classes: list[str]) -> list:
    """The headline metrics and each class's recall, as MLflow evaluation metrics over ``classes``."""
    return [
        _metric("macro_f1", lambda t, p: f1_score(t, p, labels=classes, average="macro", zero_division=0)),
        _metric("weighted_f1", lambda t, p: f1_score(t, p, labels=classes, average="weighted", zero_division=0)),
        _metric("accuracy", lambda t, p: np.mean(np.asarray(t) == np.asarray(p))),
        _metric("balanced_accuracy", balanced_accuracy_score),
        *[_metric(f"recall_{c}", lambda t, p, c=c: recall_score(t, p, labels=[c], average="macro", zero_division=0))
          for c in classes],
    ]


def promotion_thresholds(champion: dict, metric: str, min_improvement: float, max_recall_drop: float,
                         classes: list[str]) -> dict[str, MetricThreshold]:
    """The rule as MLflow thresholds: ``metric`` better than the champion's by more than
    ``min_improvement``; each class's recall at least the champion's less ``max_recall_drop``."""
    thresholds = {metric: MetricThreshold(min_absolute_change=min_improvement or STRICTLY, greater_is_better=True)}
    for c in classes:
        floor = champion[f"recall_{c}"] - max_recall_drop
        if floor > 0:  # a floor at or below 0 holds for any recall (MLflow wants a bound it can fail)
            thresholds[f"recall_{c}"] = MetricThreshold(threshold=floor, greater_is_better=True)
    return thresholds


def evaluation_frame(table: pd.DataFrame) -> pd.DataFrame:
    """A dataset table as the served model's request (raw curves as lists) with the true class."""
    return pd.DataFrame({column: [np.asarray(values, dtype=float).tolist() for values in table[column]]
                         for column in ("times", "mags", "errors")}).assign(target=table["label"].to_numpy())


def _evaluated(name: str, version: str, role: str, frame: pd.DataFrame, classes: list[str], served=None):
    """MLflow's evaluation of one version on ``frame`` (``served``: its pyfunc, when loaded), in a
    nested run named for it."""
    served = served or mlflow.pyfunc.load_model(f"models:/{name}/{version}")

    def labels(inputs: pd.DataFrame) -> pd.Series:
        return served.predict(inputs[["times", "mags", "errors"]])["label"]

    with start_run(f"evaluate {role} v{version}", entry_point="promote", nested=True,
                   tags={"vsexp.registered_model": name, "vsexp.model_version": version, "vsexp.role": role}):
        return mlflow.models.evaluate(labels, frame, targets="target", model_type="classifier",
                                      evaluator_config={"average": "macro", "label_list": classes,
                                                        "log_model_explainability": False},
                                      extra_metrics=promotion_metrics(classes))


def _decision(first: bool, contest: bool, force: bool, failed: list) -> tuple[str, bool]:
    """(what was decided, whether the challenger becomes champion)."""
    if first:
        return "first_champion", True
    if not contest:
        return "already_champion", False
    if force:
        return "forced", True
    return ("champion_holds", False) if failed else ("challenger_wins", True)


def promote(name: str, *, metric: str = "macro_f1", min_improvement: float = 0.0,
            max_recall_drop: float = DEFAULT_MAX_RECALL_DROP, source: str | None = None, split: str = "test",
            force: bool = False, reason: str = "") -> dict:
    """Decide and apply a promotion for registered model ``name``; returns the recorded decision."""
    check_choices("promotion metric", metric, METRICS)
    check_choices("promotion split", split, SPLITS)
    if min_improvement < 0 or not 0 <= max_recall_drop <= 1:
        raise ConfigError(f"min_improvement must be >= 0 and max_recall_drop in [0, 1], got {min_improvement}, "
                          f"{max_recall_drop}")
    if force and not reason.strip():
        raise ConfigError("a forced promotion needs a reason (--reason)")
    check_registered(name)
    challenger = version_for_alias(name, CHALLENGER)
    if challenger is None:
        raise ConfigError(f"registered model '{name}' has no '{CHALLENGER}' version to promote")
    champion = version_for_alias(name, CHAMPION)
    data = training_data_config(challenger.run_id)
    if source:
        data = dataclasses.replace(data, source=source)
    dataset = build_dataset(data)
    served_challenger = mlflow.pyfunc.load_model(f"models:/{name}/{challenger.version}")
    classes = served_challenger.unwrap_python_model().class_names
    frame = evaluation_frame(dataset.split(split)[lambda t: t["label"].isin(classes)])
    contest = champion is not None and champion.version != challenger.version
    rule = {"registered_model": name, "metric": f"{split}_{metric}", "min_improvement": min_improvement,
            "max_recall_drop": max_recall_drop, "data": data.source, "split": split,
            "challenger_version": challenger.version, "champion_version": champion.version if champion else None,
            "reason": reason}
    with start_run(f"promote {name}", entry_point="promote", experiment=experiment_of_run(challenger.run_id),
                   tags={"vsexp.registered_model": name}) as run:
        # prefixed: `mlflow run` has already logged the entry point's own parameters (metric, data...)
        mlflow.log_params({f"promotion.{k}": v for k, v in rule.items()})
        results = {"challenger": _evaluated(name, challenger.version, "challenger", frame, classes, served_challenger)}
        if contest:
            results["champion"] = _evaluated(name, champion.version, "champion", frame, classes)
        failed = []
        if contest and not force:
            thresholds = promotion_thresholds(results["champion"].metrics, metric, min_improvement, max_recall_drop,
                                              classes)
            try:
                mlflow.validate_evaluation_results(thresholds, results["challenger"], results["champion"])
            except ModelValidationFailedException as failure:
                failed = [line.strip() for line in str(failure.message).splitlines() if line.strip()]
        decision, promoted = _decision(champion is None, contest, force, failed)
        scores = {role: result.metrics[metric] for role, result in results.items()}
        record = {**rule, "decision": decision, "promoted": promoted,
                  "challenger_score": round(scores["challenger"], 4),
                  "champion_score": round(scores["champion"], 4) if "champion" in scores else None,
                  "recall": {role: {c: round(result.metrics[f"recall_{c}"], 4) for c in classes}
                             for role, result in results.items()},
                  "failed_thresholds": failed}
        mlflow.set_tag("vsexp.decision", decision)
        mlflow.log_metrics({f"{role}_score": score for role, score in scores.items()})
        mlflow.log_dict(record, "promotion.json")
        record["run_id"] = run.info.run_id
    if promoted:
        move_champion(name, challenger.version, champion.version if champion else None)
    tag_version(name, challenger.version, {"promotion.decision": decision, "promotion.run_id": record["run_id"],
                                           f"promotion.{record['metric']}": record["challenger_score"]})
    log.info("%s: %s (challenger v%s %s, champion %s)%s", name, decision, challenger.version,
             record["challenger_score"], record["champion_score"], "; " + "; ".join(failed) if failed else "")
    return record
