"""The ``tune`` step: a hyperparameter search (Optuna or Keras Tuner) over the model's space.

Every trial is a nested MLflow run under the ``tune`` run and calls the ordinary ``train`` with the
trial's config, scored on the **validation** split only (the test split is never seen by the
search). After the search, the best configuration is refitted on train + validation for the best
trial's number of epochs, scored once on the test split, logged and registered like any model
(alias ``challenger``), tagged with its study.
"""

from __future__ import annotations

import dataclasses
import logging
import os

import mlflow
import optuna
from mlflow import MlflowClient

from vsexp.config import SEARCH_BACKENDS, check_choices
from vsexp.dataset.build import cache_root
from vsexp.errors import ConfigError
from vsexp.pipelines.train import train
from vsexp.tracking.runs import experiment_for, start_run
from vsexp.train_config import TrainConfig
from vsexp.tuning.optuna_search import (create_study, log_study_summary, make_pruner, make_storage, mark_worker,
                                        optimize)
from vsexp.tuning.space import active_dimensions, config_from_params, load_space, suggest_optuna

log = logging.getLogger(__name__)

BACKENDS = SEARCH_BACKENDS


def _run_trial(base: TrainConfig, params: dict, label: str, study_name: str, backend: str, *, callbacks=(),
               on_run_started=None) -> dict:
    """Train one trial's config in a nested run; a pruned trial's run ends KILLED, tagged PRUNED."""
    config = config_from_params(base, params)
    pruned = False
    with start_run(f"trial-{label}", entry_point="tune_trial", nested=True,
                   tags={"vsexp.study": study_name, "vsexp.trial": label, "vsexp.backend": backend}) as run:
        if on_run_started:
            on_run_started(run.info.run_id)
        mlflow.log_params({f"search.{name}": value for name, value in params.items()})  # per layer: the UI's axes
        try:
            summary = train(config, register=False, callbacks=callbacks, evaluate_splits=("validation",),
                            use_active_run=True)
        except optuna.TrialPruned:
            mlflow.set_tag("vsexp.trial_state", "PRUNED")
            pruned = True
        else:
            mlflow.set_tag("vsexp.trial_state", "COMPLETE")
    if pruned:
        MlflowClient().set_terminated(run.info.run_id, "KILLED")
        raise optuna.TrialPruned()
    return {**summary, "run_id": run.info.run_id}


def tune(base: TrainConfig, *, backend: str = "optuna", study_name: str | None = None, storage: str | None = None,
         n_trials: int | None = 10, timeout: float | None = None, total_trials: int | None = None,
         pruner: str = "median", retrain_best: bool = True, seed: int = 42) -> dict:
    """Search, summarise, and (by default) refit and register the best configuration."""
    model = base.model.name
    check_choices("search backend", backend, BACKENDS)
    if n_trials is not None and n_trials < 0:
        raise ConfigError(f"n_trials must be >= 0, got {n_trials}")
    if pruner:
        make_pruner(pruner)
    space = active_dimensions(load_space(model), base)  # refuses a model without a search space
    study_name = study_name or f"{model}-{base.data.survey_name}-{base.preset}"
    optuna_storage = make_storage(storage, cache_root() / "optuna" / f"{study_name}.journal") if backend == "optuna" else None
    with start_run(f"tune {study_name}", entry_point="tune", experiment=experiment_for(base.data.survey_name),
                   tags={"vsexp.study": study_name, "vsexp.backend": backend, "vsexp.model": model,
                         "vsexp.survey": base.data.survey_name}) as run:
        mlflow.log_params({"tune.backend": backend, "tune.study": study_name, "tune.n_trials": n_trials, "tune.timeout": timeout,
                           "tune.pruner": pruner, "tune.storage": _redact(storage), "tune.worker_pid": os.getpid()})
        if backend == "optuna":
            summary, best_params, best_epochs = _optuna(base, space, study_name, optuna_storage, n_trials, timeout,
                                                        total_trials, pruner, seed)
        else:
            summary, best_params, best_epochs = _keras_tuner(base, space, study_name, n_trials or 0, seed)
        summary["run_id"] = run.info.run_id
        if retrain_best and best_params:
            config = config_from_params(base, best_params)
            config = dataclasses.replace(config, fit=dataclasses.replace(config.fit, epochs=max(1, best_epochs)))
            final = train(config, nested=True, entry_point="tune_final", fit_splits=("train", "validation"),
                          evaluate_splits=("test",),
                          extra_tags={"vsexp.study": study_name, "vsexp.best_trial_run": str(summary.get("best_run_id"))})
            summary["final"] = {k: final[k] for k in ("run_id", "test_macro_f1", "test_accuracy", "test_weighted_f1",
                                                       "registered_model", "version", "epochs_run") if k in final}
            mlflow.log_metric("final_test_macro_f1", final["test_macro_f1"])
            mlflow.set_tag("vsexp.final_run", final["run_id"])
    return summary


def _optuna(base, space, study_name, storage, n_trials, timeout, total_trials, pruner, seed):
    from optuna_integration import KerasPruningCallback

    study = create_study(study_name, storage, seed, pruner)

    def objective(trial: optuna.Trial) -> float:
        mark_worker(trial)
        params = suggest_optuna(trial, space)
        result = _run_trial(base, params, str(trial.number), study_name, "optuna",
                            callbacks=[KerasPruningCallback(trial, "val_macro_f1")],
                            on_run_started=lambda run_id: trial.set_user_attr("mlflow_run_id", run_id))
        trial.set_user_attr("best_epoch", result.get("best_epoch", base.fit.epochs))
        return result["validation_macro_f1"]

    optimize(study, objective, n_trials=n_trials, timeout=timeout, total_trials=total_trials)
    summary = log_study_summary(study)
    if "best_trial" not in summary:
        return summary, None, 0
    return summary, study.best_trial.params, int(study.best_trial.user_attrs.get("best_epoch", base.fit.epochs))


def _keras_tuner(base, space, study_name, max_trials, seed):
    from vsexp.tuning.keras_tuner_search import run_keras_tuner

    results: dict[str, dict] = {}

    def objective(params: dict, trial_id: str) -> float:
        result = _run_trial(base, params, f"kt-{trial_id}", study_name, "keras-tuner")
        results[trial_id] = {**result, "params": params}
        return result["validation_macro_f1"]

    oracle = run_keras_tuner(space, objective, directory=cache_root() / "keras_tuner", project=study_name,
                             max_trials=max_trials, seed=seed)
    best = oracle.get_best_trials(1)
    if not best:
        return {"study": study_name, "trials": {}}, None, 0
    best_trial = best[0]
    completed = [t for t in oracle.trials.values() if t.score is not None]
    mlflow.log_metrics({"trials_complete": len(completed), "best_validation_macro_f1": best_trial.score})
    run_id = results.get(best_trial.trial_id, {}).get("run_id")
    if run_id:
        MlflowClient().set_tag(run_id, "keras_tuner.best", "true")
    params = {k: v for k, v in best_trial.hyperparameters.values.items()}
    mlflow.log_dict({"best_trial": best_trial.trial_id, "best_value": best_trial.score, "best_params": params},
                    "study/summary.json")
    best_epoch = results.get(best_trial.trial_id, {}).get("best_epoch", base.fit.epochs)
    return ({"study": study_name, "trials": {"COMPLETE": len(completed)}, "best_value": round(best_trial.score, 4),
             "best_params": params, "best_run_id": run_id}, params, int(best_epoch))


def _redact(storage: str | None) -> str:
    """A storage URL without its password, for logging."""
    if not storage or "@" not in storage or "://" not in storage:
        return storage or "journal (default)"
    scheme, rest = storage.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}" if ":" in credentials else storage
