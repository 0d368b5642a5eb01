"""The ``main`` job: preprocess -> the three trainings -> a comparison beside the paper.

Steps run as nested runs under one ``main`` run. A step whose finished run already exists with
the same parameters and the same (clean) git commit is reused instead of run again, as in MLflow's
multistep example; the comparison links every step's run.
"""

from __future__ import annotations

import dataclasses
import logging

import mlflow

from vsexp.config import TrainConfig, to_flat
from vsexp.pipelines.preprocess import preprocess
from vsexp.pipelines.train import HEADLINE, train
from vsexp.reports.comparison import comparison_markdown
from vsexp.tracking.runs import find_finished_run, start_run

log = logging.getLogger(__name__)

MODELS = ("baseline", "lstm", "cnn")


def _train_or_reuse(config: TrainConfig) -> dict:
    entry_point = f"train_{config.model.name}"
    previous = find_finished_run(entry_point, to_flat(config))
    if previous is not None:
        log.info("reusing finished run %s for %s", previous.info.run_id, entry_point)
        metrics = previous.data.metrics
        return {"run_id": previous.info.run_id, "model": config.model.name, "survey": config.data.survey_name,
                "reused": True, **{k: round(metrics[k], 4) for k in HEADLINE if k in metrics}}
    return {**train(config, nested=True, entry_point=entry_point), "reused": False}


def run_main(configs: dict[str, TrainConfig]) -> dict:
    """Run the pipeline for ``configs`` (model name -> config sharing one data config)."""
    first = next(iter(configs.values()))
    with start_run(f"main-{first.data.survey_name}", entry_point="main",
                   tags={"vsexp.survey": first.data.survey_name, "vsexp.preset": first.preset}) as run:
        with start_run("preprocess", entry_point="preprocess", nested=True):
            _, prepared = preprocess(first.data, first.sequence, first.dmdt, first.features)
        steps = [_train_or_reuse(configs[name]) for name in MODELS if name in configs]
        table = comparison_markdown(steps)
        mlflow.log_text(table + "\n", "comparison.md")
        mlflow.log_metrics({f"{s['model']}_test_macro_f1": s["test_macro_f1"] for s in steps if "test_macro_f1" in s})
        return {"run_id": run.info.run_id, "dataset": prepared["dataset"], "steps": steps, "comparison": table}


def configs_for(base: TrainConfig, load) -> dict[str, TrainConfig]:
    """The three models' configs for one preset: ``load(model)`` gives each preset config; the
    data, fit, sequence and dm-dt sections of ``base`` (with the user's overrides) are shared."""
    configs = {}
    for name in MODELS:
        config = load(name)
        configs[name] = dataclasses.replace(config, data=base.data, fit=base.fit, sequence=base.sequence,
                                            dmdt=base.dmdt)
    return configs
