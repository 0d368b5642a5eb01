"""The Keras Tuner driver: Bayesian optimisation over the same search space, same trial objective.

Each trial's hyperparameters are drawn with ``suggest_keras_tuner`` from the same space file, and
the trial runs the same objective as an Optuna trial (ordinary training in a nested MLflow run,
scored on the validation split), so the two backends' runs compare side by side. The tuner's state
lives in ``directory/project`` and a re-run resumes it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from vsexp.console import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras imports it: TensorFlow's start-up banner stays off stderr

import keras_tuner as kt

from vsexp.tuning.space import suggest_keras_tuner

log = logging.getLogger(__name__)


def run_keras_tuner(space, objective, *, directory: Path, project: str, max_trials: int, seed: int) -> kt.Oracle:
    """Run ``max_trials`` trials in total (counting earlier runs of the same project).

    Args:
        objective: ``objective(params, trial_id) -> validation macro-F1``.
    """

    class Tuner(kt.BayesianOptimization):
        def run_trial(self, trial, *args, **kwargs):
            params = suggest_keras_tuner(trial.hyperparameters, space)
            return {"val_macro_f1": objective(params, trial.trial_id)}

    tuner = Tuner(hypermodel=None, objective=kt.Objective("val_macro_f1", direction="max"), max_trials=max_trials,
                  seed=seed, directory=str(directory), project_name=project, overwrite=False)
    tuner.search()
    return tuner.oracle
