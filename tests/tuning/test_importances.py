"""A study's hyperparameter importances (fANOVA and PED-ANOVA) are computed and logged with its summary."""

import mlflow
import optuna

from vsexp.tuning.optuna_search import log_study_summary, param_importances


def _study(trials: int) -> optuna.Study:
    """The objective depends on the first layer's kernel only; the filters are noise."""
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda trial: -abs(trial.suggest_int("model.kernels_1", 3, 9) - 7) + 0.01 * trial.suggest_int(
        "model.filters_1", 8, 128) / 128, n_trials=trials)
    return study


def test_the_parameter_the_objective_depends_on_is_the_important_one():
    importances = param_importances(_study(30))
    assert set(importances) == {"fanova", "ped_anova"}
    for method, values in importances.items():
        assert max(values, key=values.get) == "model.kernels_1", (method, values)
    assert param_importances(_study(3)) == {}  # too few complete trials to say


def test_the_study_summary_logs_the_importances():
    with mlflow.start_run() as run:
        summary = log_study_summary(_study(12))
    assert summary["importances"]["fanova"]["model.kernels_1"] > summary["importances"]["fanova"]["model.filters_1"]
    logged = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/study/importances.json")
    assert set(logged) == {"fanova", "ped_anova"}
    assert "importance_fanova_model.kernels_1" in mlflow.get_run(run.info.run_id).data.metrics
    plots = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "study")}
    assert {"study/param_importances_fanova.png", "study/param_importances_ped_anova.png"} <= plots
