"""The ``promote`` step: move ``champion`` to the ``challenger`` only when it wins on the same data.

Both versions are scored on the same split of the same dataset — the challenger's training data
(or a source given) — with the same metric. The challenger becomes champion when it beats the
champion by more than ``min_improvement`` (the first version becomes champion unopposed); the old
champion stays reachable as ``previous``. The decision, both scores, the data and the rule are
recorded as tags on the versions and as a ``promote`` run. ``force`` overrides the rule and is
recorded as such, with its reason.
"""

from __future__ import annotations

import dataclasses
import logging

import mlflow

from vsexp.config import PROMOTION_METRICS, check_choices
from vsexp.errors import ConfigError
from vsexp.pipelines.evaluate import evaluate, training_data_config
from vsexp.tracking.registry import CHALLENGER, CHAMPION, check_registered, move_champion, tag_version, version_for_alias
from vsexp.tracking.runs import experiment_of_run, start_run

log = logging.getLogger(__name__)

METRICS = PROMOTION_METRICS


def promote(name: str, *, metric: str = "macro_f1", min_improvement: float = 0.0, source: str | None = None,
            split: str = "test", force: bool = False, reason: str = "") -> dict:
    """Decide and apply a promotion for registered model ``name``; returns the recorded decision."""
    check_choices("promotion metric", metric, METRICS)
    if min_improvement < 0:
        raise ConfigError(f"min_improvement must be >= 0, got {min_improvement}")
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
    key = f"{split}_{metric}"
    scores = {"challenger": evaluate(f"models:/{name}/{challenger.version}", split=split, data=data, log_run=False)[key]}
    if champion is not None and champion.version != challenger.version:
        scores["champion"] = evaluate(f"models:/{name}/{champion.version}", split=split, data=data, log_run=False)[key]
    if champion is None:
        decision, promoted = "first_champion", True
    elif champion.version == challenger.version:
        decision, promoted = "already_champion", False
    elif force:
        decision, promoted = "forced", True
    elif scores["challenger"] > scores["champion"] + min_improvement:
        decision, promoted = "challenger_wins", True
    else:
        decision, promoted = "champion_holds", False
    record = {"registered_model": name, "decision": decision, "promoted": promoted, "metric": key,
              "min_improvement": min_improvement, "data": data.source, "split": split,
              "challenger_version": challenger.version, "challenger_score": round(scores["challenger"], 4),
              "champion_version": champion.version if champion else None,
              "champion_score": round(scores["champion"], 4) if "champion" in scores else None,
              "reason": reason}
    with start_run(f"promote {name}", entry_point="promote", experiment=experiment_of_run(challenger.run_id),
                   tags={"vsexp.registered_model": name, "vsexp.decision": decision}) as run:
        # prefixed: `mlflow run` has already logged the entry point's own parameters (metric, data...)
        mlflow.log_params({f"promotion.{k}": record[k] for k in ("registered_model", "metric", "min_improvement", "data",
                                                                 "split", "challenger_version", "champion_version",
                                                                 "reason")})
        mlflow.log_metrics({f"{role}_score": score for role, score in scores.items()})
        mlflow.log_dict(record, "promotion.json")
        record["run_id"] = run.info.run_id
    if promoted:
        move_champion(name, challenger.version, champion.version if champion else None)
    tag_version(name, challenger.version, {"promotion.decision": decision, "promotion.run_id": record["run_id"],
                                           f"promotion.{key}": record["challenger_score"]})
    log.info("%s: %s (challenger v%s %s, champion %s)", name, decision, challenger.version,
             record["challenger_score"], record["champion_score"])
    return record
