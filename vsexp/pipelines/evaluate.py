"""The ``evaluate`` step: score a registered model or a run's model on a dataset split, tracked."""

from __future__ import annotations

import dataclasses
import logging

import mlflow
import numpy as np

from vsexp.config import EVALUATION_SPLITS, DataConfig, check_choices
from vsexp.dataset.build import build_dataset, read_labelled
from vsexp.errors import ConfigError
from vsexp.serving.batch import load_classifier, predict_with_progress
from vsexp.tracking.evaluation import log_evaluation
from vsexp.tracking.runs import experiment_of_run, log_dataset, start_run
from vsexp.train_config import from_flat
from vsexp.training.metrics import evaluate_predictions

log = logging.getLogger(__name__)



def training_data_config(run_id: str) -> DataConfig:
    """The ``DataConfig`` a model was trained with, from its run's ``data.*`` params."""
    params = mlflow.get_run(run_id).data.params
    flat = {k.removeprefix("data."): v for k, v in params.items() if k.startswith("data.")}
    return from_flat(flat, DataConfig)


def target_data(data: DataConfig, source: str | None, class_map: dict[str, str], class_names) -> DataConfig:
    """``data`` pointed at ``source``; with a class map, the classes read are the map's and the model's own
    (a survey's rare other classes stay out: they could not be split, and the model could not score them)."""
    if source:
        data = dataclasses.replace(data, source=source)
    if not class_map:
        return data
    return dataclasses.replace(data, class_set=",".join(sorted(set(class_map) | set(class_names))))


def not_selected(dataset) -> int:
    """Stars of the source left out of ``dataset`` because their class was not selected."""
    return int(dataset.manifest["report"]["rejected_by_reason"].get("class_not_selected", 0))


def mapped_split(dataset, split: str, class_names: list[str], class_map: dict[str, str]):
    """(rows of ``split`` whose mapped class the model knows, labels renamed, how many were left out)."""
    table = dataset.split(split).assign(label=lambda t: t["label"].replace(class_map))
    known = table["label"].isin(class_names)
    return table[known], int((~known).sum())


def _read_all(data: DataConfig, class_names: list[str], class_map: dict[str, str]):
    """Every valid curve of a source whose class the model knows, with a report of the rest."""
    kept, report = read_labelled(data, class_names, relabel=class_map, reason="unknown_class",
                                 among="the model's classes")
    log.info("evaluation data %s: %s", data.source, report.summary())
    return [item for item, _ in kept], [label for _, label in kept], report


def default_split(source: str | None, trained_on: DataConfig) -> str:
    """``test`` of the model's own data; ``all`` of any other source (new stars are scored whole)."""
    return "all" if source and source != trained_on.source else "test"


def evaluate(model_uri: str, source: str | None = None, split: str | None = None, *, data: DataConfig | None = None,
             class_map: dict[str, str] | None = None, log_run: bool = True) -> dict:
    """Score ``model_uri`` on a split of its training dataset, or on ``source``.

    ``split`` defaults to ``test`` of the model's own data and to ``all`` of another ``source``:
    ``all`` reads every valid curve without building a split (new stars, external data such as
    the real OGLE Cepheids); a split of another source builds it the same way as the training
    data. Stars whose class the model does not know are counted and left out (``unknown_class``).
    When the data hold fewer classes than the model, the macro and weighted metrics run over the
    classes present (``scored_classes``). ``data`` replaces the model's own training data config
    (promotion scores two models on one dataset this way). ``class_map`` renames the data's
    classes to the model's for cross-survey transfer (e.g. CRTS ``RRab`` -> OGLE ``RRL``); with it,
    the classes read are the mapped ones and the model's own (``target_data``).

    Returns:
        The flat metrics (``<split>_macro_f1``...), ``per_class`` precision, recall, F1 and support
        of the classes present, counts, and the run id when logged.
    """
    if split is not None:
        check_choices("split", split, EVALUATION_SPLITS)
    classifier, trained_run = load_classifier(model_uri)
    class_map = class_map or {}
    trained_on = training_data_config(trained_run)
    split = split or default_split(source, data or trained_on)
    data = target_data(data or trained_on, source, class_map, classifier.class_names)
    if split == "all":
        curves, names, report = _read_all(data, classifier.class_names, class_map)
        unknown, name = report.counts_by_reason().get("unknown_class", 0), data.source
    else:
        dataset = build_dataset(data)
        table, unknown = mapped_split(dataset, split, classifier.class_names, class_map)
        name = dataset.manifest["name"]
        unknown += not_selected(dataset)
        curves, names = dataset.curves_from(table), table["label"].tolist()
    if not curves:
        raise ConfigError(f"no star of {name} ({split}) has a class the model knows ({', '.join(classifier.class_names)})")
    index = {c: i for i, c in enumerate(classifier.class_names)}
    labels = np.array([index[n] for n in names])
    probabilities = predict_with_progress(classifier, curves, f"scoring {name}")
    present = [c for c in classifier.class_names if c in set(names)]
    scored = present if len(present) < len(classifier.class_names) else None
    result = evaluate_predictions(labels, probabilities, classifier.class_names, scored_classes=scored)
    summary = {"model_uri": model_uri, "dataset": name, "split": split, "stars": len(curves),
               "unknown_class": unknown, "scored_classes": present,
               **{f"{split}_{k}": round(v, 4) for k, v in result["scalars"].items() if np.isfinite(v)},
               "per_class": {c: {k: round(v, 4) if isinstance(v, float) else v for k, v in result["per_class"][c].items()}
                             for c in present}}
    if log_run:
        with start_run(f"evaluate {split}", entry_point="evaluate", experiment=experiment_of_run(trained_run),
                       tags={"vsexp.model_uri": model_uri, "vsexp.trained_run": trained_run, "vsexp.dataset": name,
                             "vsexp.scored_classes": ",".join(present)}) as run:
            mlflow.log_params({"evaluation.model_uri": model_uri, "data.source": data.source, "evaluation.split": split,
                               "evaluation.class_map": ",".join(f"{k}={v}" for k, v in class_map.items())})
            if split != "all":
                log_dataset(dataset, contexts=(split,))
            log_evaluation(result, classifier.class_names, split)
            mlflow.log_metrics({"stars": len(curves), "unknown_class": unknown})
            summary["run_id"] = run.info.run_id
    return summary
