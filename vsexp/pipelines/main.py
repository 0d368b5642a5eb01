"""The ``main`` job: preprocess -> the three trainings -> a comparison beside the paper.

One parent run named ``main`` in the data set's experiment; each step is a child run named after
it (``preprocess``, ``train_baseline``, ``train_lstm``, ``train_cnn``). A step whose FINISHED run
already exists in that experiment with the same parameters and code version (started by ``main``,
``mlflow run`` or the ``vsexp`` CLI) is reused instead of run again, as in MLflow's multistep
example; the comparison links every step's run.
"""

from __future__ import annotations

import logging

import mlflow

from vsexp.pipelines.preprocess import preprocess, preprocess_params
from vsexp.pipelines.train import HEADLINE, train
from vsexp.reports.comparison import comparison_markdown
from vsexp.tracking.runs import experiment_for, find_finished_run, start_run
from vsexp.train_config import TrainConfig, to_flat

log = logging.getLogger(__name__)


def _reused(run, step: str) -> None:
    log.info("%s: reusing finished run %s", step, run.info.run_id)
    mlflow.set_tag(f"vsexp.reused.{step}", run.info.run_id)


def _preprocess_or_reuse(config: TrainConfig, experiment: str) -> dict:
    previous = find_finished_run("preprocess", preprocess_params(config.data, config.sequence, config.dmdt,
                                                                  config.features), experiment)
    if previous is not None:
        _reused(previous, "preprocess")
        return {"run_id": previous.info.run_id, "reused": True}
    _, summary = preprocess(config.data, config.sequence, config.dmdt, config.features, nested=True)
    return {"run_id": summary["run_id"], "dataset": summary["dataset"], "reused": False}


def _train_or_reuse(config: TrainConfig, experiment: str) -> dict:
    entry_point = f"train_{config.model.name}"
    previous = find_finished_run(entry_point, to_flat(config), experiment)
    if previous is not None:
        _reused(previous, entry_point)
        metrics = previous.data.metrics
        return {"run_id": previous.info.run_id, "model": config.model.name, "survey": config.data.survey_name,
                "reused": True, **{k: round(metrics[k], 4) for k in HEADLINE if k in metrics},
                "registered_model": previous.data.tags.get("vsexp.registered_model")}
    return {**train(config, nested=True, entry_point=entry_point), "reused": False}


def run_main(configs: dict[str, TrainConfig]) -> dict:
    """Run the pipeline for ``configs`` (model name -> config; they share one data set)."""
    first = next(iter(configs.values()))
    with start_run("main", entry_point="main", experiment=experiment_for(first.data.survey_name),
                   tags={"vsexp.survey": first.data.survey_name, "vsexp.preset": first.preset}) as run:
        experiment = mlflow.get_experiment(run.info.experiment_id).name
        prepared = _preprocess_or_reuse(first, experiment)
        steps = [_train_or_reuse(config, experiment) for config in configs.values()]
        table = comparison_markdown(steps)
        mlflow.log_text(table + "\n", "comparison.md")
        mlflow.log_metrics({f"{s['model']}_test_macro_f1": s["test_macro_f1"] for s in steps if "test_macro_f1" in s})
        return {"run_id": run.info.run_id, "experiment": experiment,
                "preprocess": prepared, "steps": steps, "comparison": table}
