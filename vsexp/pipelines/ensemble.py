"""The ``train_ensemble`` step: combine trained models (e.g. the forest and a network) into one.

members (model URIs trained on one dataset) -> their probabilities on validation and test ->
temperatures and combiner fitted on validation -> every member, both combinations and the chosen
one scored on test (the ablation table), reliability diagrams -> the ensemble logged as a
raw-light-curve pyfunc and registered as ``vsexp-<survey>-ensemble`` (alias ``challenger``).
"""

from __future__ import annotations

import logging
import shutil
import time

import mlflow
import numpy as np
import pandas as pd

from vsexp.config import DataConfig, check_choices
from vsexp.dataset.build import build_dataset, cache_root
from vsexp.errors import ConfigError
from vsexp.models.ensemble import METHODS, ProbabilityCombiner
from vsexp.pipelines.evaluate import training_data_config
from vsexp.representations.cache import dataset_features
from vsexp.serving.batch import load_classifier
from vsexp.serving.pyfunc import log_ensemble
from vsexp.tracking.evaluation import log_evaluation, log_reliability
from vsexp.tracking.model_card import model_card
from vsexp.tracking.registry import register_challenger, registered_name
from vsexp.tracking.runs import experiment_for, git_commit, log_dataset, log_table, model_names, start_run
from vsexp.training.metrics import evaluate_predictions, reliability

log = logging.getLogger(__name__)


def _common_data(member_uris: list[str], run_ids: list[str]) -> DataConfig:
    """The one dataset every member was trained on; refuses members trained on different data or splits."""
    configs = [training_data_config(run_id) for run_id in run_ids]
    for uri, config in zip(member_uris[1:], configs[1:]):
        if config != configs[0]:
            raise ConfigError(f"member '{uri}' was trained on {config.source} ({config}), not on the first "
                              f"member's {configs[0].source} ({configs[0]}): members must share one dataset and split")
    return configs[0]


def _rows_of(features: dict, classifier, rows: np.ndarray) -> np.ndarray | None:
    """The ``rows`` of the cached features made by the classifier's extractor, if any."""
    extractor = classifier.transform.extractor
    return features[extractor][rows] if extractor in features else None


def _scores(labels: np.ndarray, probabilities: np.ndarray, class_names: list[str]) -> dict:
    result = evaluate_predictions(labels, probabilities, class_names, interval=False)
    return {"macro_f1": result["scalars"]["macro_f1"], "accuracy": result["scalars"]["accuracy"],
            "ece": reliability(labels, probabilities)["ece"],
            **{f"f1_{c}": result["per_class"][c]["f1"] for c in class_names}}


def train_ensemble(member_uris: list[str], method: str = "stacking", *, seed: int = 0, register: bool = True) -> dict:
    """Fit, score, log and register an ensemble of ``member_uris``; returns the summary printed as JSON."""
    check_choices("combination method", method, METHODS)
    if len(member_uris) < 2:
        raise ConfigError(f"an ensemble needs at least two member models, got {len(member_uris)}")
    started = time.perf_counter()
    loaded = [load_classifier(uri) for uri in member_uris]
    classifiers, run_ids = [c for c, _ in loaded], [r for _, r in loaded]
    class_names = classifiers[0].class_names
    for uri, classifier in zip(member_uris[1:], classifiers[1:]):
        if classifier.class_names != class_names:
            raise ConfigError(f"member '{uri}' predicts {classifier.class_names}, the first member {class_names}")
    data = _common_data(member_uris, run_ids)
    dataset, survey = build_dataset(data), data.survey_name
    if list(dataset.classes) != list(class_names):
        raise ConfigError(f"the members predict {class_names}, their dataset {dataset.manifest['name']} has "
                          f"{dataset.classes}")
    names = model_names(run_ids)
    labels, member_probabilities = {}, {}
    # members that need features (periods, folding) share the dataset's cached ones, by extractor
    features = {c.transform.extractor: np.asarray(dataset_features(dataset, c.transform.extractor))
                for c in classifiers if c.transform.needs_features()}
    for split in ("validation", "test"):
        labels[split] = dataset.labels(split)
        curves = dataset.curves(split)
        rows = (dataset.table["split"] == split).to_numpy()
        member_probabilities[split] = [classifier.predict_curves(curves, _rows_of(features, classifier, rows))
                                       for classifier in classifiers]
    combiners = {m: ProbabilityCombiner(m, seed).fit(member_probabilities["validation"], labels["validation"])
                 for m in METHODS}
    combiner = combiners[method]
    tags = {"vsexp.survey": survey, "vsexp.model_family": "ensemble", "vsexp.model": "ensemble",
            "vsexp.representation": "members", "vsexp.dataset": dataset.manifest["name"],
            "vsexp.members": ",".join(names)}
    with start_run("train_ensemble", entry_point="train_ensemble", experiment=experiment_for(survey), tags=tags) as run:
        # temperature.<i> belongs to member i of vsexp.members (names hold brackets MLflow keys may not)
        mlflow.log_params({"ensemble.method": method, "ensemble.seed": seed, "ensemble.members": ",".join(member_uris)[:6000],
                           **{f"temperature.{i}": round(t, 4) for i, t in enumerate(combiner.temperatures)}})
        log_dataset(dataset)
        test, y_test = member_probabilities["test"], labels["test"]
        combined_test = {m: c.predict_proba(test) for m, c in combiners.items()}
        metrics = {}
        for split, probabilities in (("validation", combiner.predict_proba(member_probabilities["validation"])),
                                     ("test", combined_test[method])):
            metrics.update(log_evaluation(evaluate_predictions(labels[split], probabilities, class_names),
                                          class_names, split))
        calibrated = combiner.calibrated(test)
        rows = {**{f"{n} (raw)": _scores(y_test, p, class_names) for n, p in zip(names, test)},
                **{f"{n} (calibrated)": _scores(y_test, p, class_names) for n, p in zip(names, calibrated)},
                **{f"ensemble: {m}": _scores(y_test, p, class_names) for m, p in combined_test.items()}}
        ablation = pd.DataFrame(rows).T.rename_axis("model").reset_index()
        log_table(ablation, "evaluation/test/ablation.json")
        mlflow.log_metrics({"test_ece": rows[f"ensemble: {method}"]["ece"],
                            **{f"test_macro_f1_{m}": rows[f"ensemble: {m}"]["macro_f1"] for m in METHODS}})
        log_reliability({**{f"{n} (raw)": reliability(y_test, p) for n, p in zip(names, test)},
                         f"ensemble ({method})": reliability(y_test, combined_test[method])}, "test")
        work_dir = cache_root() / "runs" / f"ensemble-{run.info.run_id}"
        info = log_ensemble(member_uris, combiner, class_names=class_names, work_dir=work_dir,
                            min_points=max(classifier.min_points for classifier in classifiers))
        summary = {"run_id": run.info.run_id, "model": "ensemble", "method": method, "members": names,
                   "survey": survey, "classes": class_names,
                   **{k: round(metrics[k], 4) for k in ("test_macro_f1", "test_macro_f1_ci_low", "test_macro_f1_ci_high",
                                                        "test_accuracy", "test_weighted_f1", "validation_macro_f1",
                                                        "validation_macro_f1_ci_low", "validation_macro_f1_ci_high")},
                   "per_class_f1": {c: round(metrics[f"test_f1_{c}"], 4) for c in class_names},
                   "ablation_test_macro_f1": {r["model"]: round(r["macro_f1"], 4) for r in ablation.to_dict("records")}}
        if register:
            model_name = registered_name(survey, "ensemble")
            card = model_card(
                registered_model=model_name, model=f"{method} ensemble of {', '.join(names)}",
                inputs="each member's own", classes=class_names, metrics=metrics, split="test",
                data={"source": data.source, "survey": survey, "name": dataset.manifest["name"],
                      "stars": dataset.manifest["stars"]},
                min_points=max(classifier.min_points for classifier in classifiers), run_id=run.info.run_id,
                commit=git_commit(), fitted_on="validation (the combiner; the members on their own fit)")
            mlflow.log_text(card, "model_card.md")
            version = register_challenger(info.model_uri, model_name, {
                "test_macro_f1": f"{metrics['test_macro_f1']:.4f}", "dataset": dataset.manifest["name"],
                "dataset_hash": dataset.manifest["content_hash"], "run_id": run.info.run_id,
                "fit_splits": "validation"}, card=card)
            summary.update(registered_model=model_name, version=version, model_uri=f"models:/{model_name}@challenger")
        summary["wall_seconds"] = round(time.perf_counter() - started, 1)
        mlflow.log_metric("wall_seconds", summary["wall_seconds"])
    shutil.rmtree(work_dir, ignore_errors=True)
    return summary
