"""The training step shared by every ``train_<model>`` entry point (one per model family).

dataset (built or reused) -> representations (cached) -> fit -> evaluate on validation and test
-> log everything -> log the raw-light-curve pyfunc -> register it with the ``challenger`` alias.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import shutil
import time
import uuid

import mlflow
import numpy as np

from vsexp.dataset.augment import thinned_copies
from vsexp.dataset.build import build_dataset, cache_root
from vsexp.errors import ConfigError
from vsexp.lightcurves.classes import OTHER
from vsexp.models.registry import family, input_shapes
from vsexp.representations.cache import build_representations
from vsexp.representations.protocol import Settings
from vsexp.serving.pyfunc import log_classifier
from vsexp.tracking.evaluation import log_evaluation, log_history
from vsexp.tracking.model_card import model_card
from vsexp.tracking.registry import register_challenger, registered_name
from vsexp.tracking.runs import experiment_for, git_commit, log_config, log_dataset, model_label, start_run
from vsexp.train_config import TrainConfig, to_flat
from vsexp.training.metrics import evaluate_predictions
from vsexp.training.unknown import UNKNOWN_METRICS, fit_unknown, scale_temperature, unknown_metrics

log = logging.getLogger(__name__)

HEADLINE = ("test_macro_f1", "test_macro_f1_ci_low", "test_macro_f1_ci_high", "test_weighted_f1", "test_accuracy",
            "test_balanced_accuracy", "test_macro_precision", "test_macro_recall", "validation_macro_f1")


def work_dir_for(config: TrainConfig, dataset_hash: str):
    """A folder keyed on the config, the data and the code: an interrupted run resumes from it."""
    key = hashlib.sha256(json.dumps([to_flat(config), dataset_hash, git_commit()], sort_keys=True,
                                    default=str).encode()).hexdigest()[:16]
    return cache_root() / "runs" / key


@contextlib.contextmanager
def claimed_work_dir(config: TrainConfig, dataset_hash: str, trial_run_id: str | None = None):
    """The run's work folder, locked for as long as the run trains.

    A search trial gets a folder of its own (its run id): trials are not resumed, and two workers
    may train the same configuration at once. Any other run gets ``work_dir_for``'s folder, so a
    killed run resumes — unless another process holds it right now (the same training started
    twice), in which case this one works in a fresh folder rather than overwriting its backups.
    """
    shared = work_dir_for(config, dataset_hash)
    work_dir = shared.with_name(f"trial-{trial_run_id}") if trial_run_id else shared
    work_dir.mkdir(parents=True, exist_ok=True)
    resumable = trial_run_id is None
    with open(work_dir / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("%s is in use by another training of the same configuration; working in a fresh folder",
                        work_dir)
            work_dir, resumable = shared.with_name(f"{shared.name}-{uuid.uuid4().hex[:8]}"), False
            work_dir.mkdir(parents=True)
        try:
            yield work_dir
        finally:
            if not resumable:  # nothing will ever resume from it, finished or not
                shutil.rmtree(work_dir, ignore_errors=True)


def concatenate_inputs(parts: list[dict]) -> dict:
    """Concatenate dicts of inputs name by name."""
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _thinned_inputs(dataset, representations, config: TrainConfig, fit_splits, summary: dict) -> list:
    """(inputs, labels) of the thinned copies of the fitted stars, per fitted split; logged and
    counted in ``summary``."""
    copies = thinned_copies(dataset, config.augment, fit_splits, config.data.min_points)
    log_dataset(copies, contexts=fit_splits, suffix="thinned")
    counts = {"augment_curves": copies.manifest["copies_made"], "augment_unchanged": copies.manifest["unchanged"]}
    mlflow.log_metrics(counts)
    summary.update(counts)
    if counts["augment_unchanged"]:
        log.warning("%d of %d thinned copies kept every point (their stars have no more than data.min_points=%d)",
                    counts["augment_unchanged"], counts["augment_curves"], config.data.min_points)
    thinned = representations.of(copies)
    return [(thinned.inputs(split), copies.labels(split)) for split in fit_splits]


def _interrupted_run(work_dir) -> str | None:
    """The run an interrupted attempt at this same work left unfinished, if any."""
    record = work_dir / "run.json"
    if not record.exists():
        return None
    run_id = json.loads(record.read_text())["run_id"]
    try:
        status = mlflow.get_run(run_id).info.status
    except mlflow.exceptions.MlflowException:
        return None
    return run_id if status in ("RUNNING", "FAILED", "KILLED") else None


def fit_model(config: TrainConfig, fit_inputs, validation, num_classes: int, work_dir, callbacks, summary: dict):
    """Fit an estimator once, or a network epoch by epoch (logging its history); returns (model,
    predict probabilities of ``{name: array}`` inputs)."""
    model_family = family(config.model.name)
    shapes = input_shapes(fit_inputs[0])
    if not model_family.network:
        model = model_family.build(config.model, shapes, num_classes, config.fit.seed).fit(*fit_inputs)
        return model, model.predict_proba
    from vsexp.tracking.callbacks import MlflowEpochLogger  # TensorFlow, imported by networks only
    from vsexp.training.fit import configure_precision, fit_keras

    summary["precision_policy"] = configure_precision(config.fit)
    model = model_family.build(config.model, shapes, num_classes, config.fit.seed)
    mlflow.log_param("model.parameters", model.count_params())
    result = fit_keras(model, config.fit, fit_inputs, validation, num_classes, work_dir=work_dir,
                       callbacks=[MlflowEpochLogger(), *callbacks])
    log_history(result.history)
    if result.resumed_at_epoch:
        summary["resumed_at_epoch"] = result.resumed_at_epoch + 1
    summary.update(epochs_run=result.epochs_run, best_epoch=result.best_epoch + 1,
                   seconds_per_epoch=round(result.seconds_per_epoch, 2))
    mlflow.log_metrics({"epochs_run": result.epochs_run, "best_epoch": result.best_epoch + 1,
                        "seconds_per_epoch": result.seconds_per_epoch})
    return model, lambda inputs: model.predict(inputs, batch_size=512, verbose=0)


def model_run_tags(config: TrainConfig, dataset) -> dict[str, str]:
    """The tags that let the MLflow UI filter runs by survey, model, input and dataset."""
    model_family = family(config.model.name)
    return {"vsexp.survey": config.data.survey_name, "vsexp.model_family": model_family.family,
            "vsexp.model": model_family.name, "vsexp.representation": "+".join(model_family.inputs(config.model)),
            "vsexp.dataset": dataset.manifest["name"], "vsexp.preset": config.preset}


def _card(config: TrainConfig, dataset, metrics: dict, fit_splits, evaluate_splits, model_name: str,
          run_id: str, unknown: dict | None) -> str:
    """The registered version's model card (see ``vsexp.tracking.model_card``)."""
    model_family = family(config.model.name)
    label = model_label(config.model.name, to_flat(config))
    copies = f" + {config.augment.copies} thinned copies of each star" if config.augment.copies else ""
    return model_card(
        registered_model=model_name, model=f"{model_family.title} (`{label}`)",
        inputs=", ".join(model_family.inputs(config.model)),
        data={"source": config.data.source, "survey": config.data.survey_name, "name": dataset.manifest["name"],
              "stars": dataset.manifest["stars"]},
        classes=dataset.classes, metrics=metrics, split="test" if "test" in evaluate_splits else evaluate_splits[-1],
        min_points=config.data.min_points, run_id=run_id, commit=git_commit(), fitted_on="+".join(fit_splits) + copies,
        unknown_threshold=unknown["threshold"] if unknown else 0.0)


def _fit_unknown(config: TrainConfig, probabilities: dict, validation_labels, classes) -> dict | None:
    """The ``unknown`` decision fitted on the validation split (``UnknownConfig``), logged; None when off."""
    if not config.unknown.rate:
        return None
    unknown = fit_unknown(probabilities["validation"], validation_labels, classes, config.unknown.rate)
    mlflow.log_metrics({"unknown_temperature": unknown["temperature"], "unknown_threshold": unknown["threshold"]})
    log.info("unknown below a calibrated top probability of %.3f (temperature %.2f; %.1f%% of the validation "
             "stars of the named classes)", unknown["threshold"], unknown["temperature"], 100 * config.unknown.rate)
    return unknown


def train(config: TrainConfig, *, register: bool = True, callbacks=(), nested: bool = False,
          extra_tags: dict | None = None, entry_point: str | None = None, fit_splits=("train",),
          evaluate_splits=("validation", "test"), use_active_run: bool = False) -> dict:
    """Train, evaluate, log and register one model; returns the summary printed as JSON.

    Args:
        config: the full configuration.
        register: register the logged model (``vsexp-<survey>-<model>``, alias ``challenger``).
        callbacks: extra Keras callbacks (e.g. an Optuna pruning callback).
        nested: start a nested run under the active one.
        fit_splits: ``("train",)``, or ``("train", "validation")`` for a final refit at fixed epochs
            (no validation data then: no early stopping).
        evaluate_splits: splits scored and logged; search trials leave out ``test``.
        use_active_run: log into the already active run (a search trial's) instead of a new one.
    """
    name = config.model.name
    model_family = family(name)
    if config.unknown.rate and "validation" in fit_splits:
        raise ConfigError("unknown.rate is fitted on the validation split; a model fitted on it cannot have one "
                          "(set unknown.rate=0 for a refit on train + validation)")
    started = time.perf_counter()
    dataset = build_dataset(config.data)
    representations = build_representations(dataset, model_family.inputs(config.model), Settings.of(config))
    classes = dataset.classes
    tags = {**model_run_tags(config, dataset), "vsexp.fit_splits": "+".join(fit_splits), **(extra_tags or {})}
    trial_run_id = mlflow.active_run().info.run_id if use_active_run else None
    with contextlib.ExitStack() as stack:
        work_dir = stack.enter_context(claimed_work_dir(config, dataset.manifest["content_hash"], trial_run_id))
        if use_active_run:
            mlflow.set_tags(tags)
            run = mlflow.active_run()
        else:
            entry_point = entry_point or f"train_{name}"
            run = stack.enter_context(start_run(
                entry_point, entry_point=entry_point, experiment=experiment_for(config.data.survey_name), tags=tags,
                nested=nested, resume_run_id=_interrupted_run(work_dir)))
        (work_dir / "run.json").write_text(json.dumps({"run_id": run.info.run_id}))
        log_config(config)
        log_dataset(dataset)
        splits = set(fit_splits) | set(evaluate_splits) | {"validation"}
        split_inputs = {split: (representations.inputs(split), dataset.labels(split)) for split in splits}
        fit_parts = [split_inputs[s] for s in fit_splits]
        summary = {"run_id": run.info.run_id, "model": name, "survey": config.data.survey_name,
                   "classes": classes, "train_stars": int(sum(len(labels) for _, labels in fit_parts))}
        if config.augment.copies:
            fit_parts += _thinned_inputs(dataset, representations, config, fit_splits, summary)
        fit_inputs = (concatenate_inputs([inputs for inputs, _ in fit_parts]),
                      np.concatenate([labels for _, labels in fit_parts]))
        validation = None if "validation" in fit_splits else split_inputs["validation"]
        model, predict = fit_model(config, fit_inputs, validation, len(classes), work_dir, callbacks, summary)
        probabilities = {split: np.asarray(predict(split_inputs[split][0]))
                         for split in dict.fromkeys([*evaluate_splits, *(["validation"] if config.unknown.rate else [])])}
        unknown = _fit_unknown(config, probabilities, split_inputs["validation"][1], classes)
        metrics = {}
        for split in evaluate_splits:
            labels = split_inputs[split][1]
            calibrated = scale_temperature(probabilities[split], unknown["temperature"]) if unknown else probabilities[split]
            metrics.update(log_evaluation(evaluate_predictions(labels, calibrated, classes), classes, split))
            if unknown or OTHER in classes:  # what the Other class and the unknown answer catch, and cost
                threshold = unknown["threshold"] if unknown else 0.0
                found = {f"{split}_{k}": v for k, v in unknown_metrics(labels, calibrated, classes, threshold).items()}
                mlflow.log_metrics(found)
                metrics.update(found)
        summary.update({k: round(metrics[k], 4) for k in HEADLINE if k in metrics})
        if "test" in evaluate_splits:
            summary["per_class_f1"] = {c: round(metrics[f"test_f1_{c}"], 4) for c in classes}
            summary.update({f"test_{k}": round(metrics[f"test_{k}"], 4) for k in UNKNOWN_METRICS if f"test_{k}" in metrics})
        if register or not use_active_run:
            info = log_classifier(model, transform=model_family.served_transform(config.model, representations.transform),
                                  class_names=classes, min_points=config.data.min_points, work_dir=work_dir / "export",
                                  unknown=unknown)
        if register:
            model_name = registered_name(config.data.survey_name, f"{name}-other" if config.data.other_class else name)
            card = _card(config, dataset, metrics, fit_splits, evaluate_splits, model_name, run.info.run_id, unknown)
            mlflow.log_text(card, "model_card.md")
            version = register_challenger(info.model_uri, model_name, {
                "test_macro_f1": f"{metrics.get('test_macro_f1', float('nan')):.4f}", "dataset": dataset.manifest["name"],
                "dataset_hash": dataset.manifest["content_hash"], "run_id": run.info.run_id,
                "fit_splits": "+".join(fit_splits)}, card=card)
            mlflow.set_tags({"vsexp.registered_model": model_name, "vsexp.model_version": version})
            summary.update(registered_model=model_name, version=version, model_uri=f"models:/{model_name}@challenger")
        summary["wall_seconds"] = round(time.perf_counter() - started, 1)
        mlflow.log_metric("wall_seconds", summary["wall_seconds"])
    shutil.rmtree(work_dir, ignore_errors=True)  # finished: nothing left to resume
    return summary
