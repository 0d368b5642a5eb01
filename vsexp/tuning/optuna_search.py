"""The Optuna driver: storages, the study, and its summary in the parent MLflow run.

Storages:
- a journal file (default ``cache/optuna/<study>.journal``, or ``journal:PATH`` / a ``*.journal``
  path): several worker processes on one machine share it (Optuna advises against SQLite for
  parallel work);
- an RDB URL (``postgresql://user@host/db``, ``sqlite:///file.db``): workers on several machines
  share a PostgreSQL database. Trials send heartbeats; a trial whose worker died is marked FAILED
  when another worker starts or asks for a trial.

Studies are created with ``load_if_exists``: running the same study again continues it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import socket
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import optuna  # noqa: E402
from optuna.storages import JournalStorage, RDBStorage  # noqa: E402
from optuna.storages.journal import JournalFileBackend  # noqa: E402
from optuna.study import MaxTrialsCallback  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from vsexp.errors import ConfigError  # noqa: E402
from vsexp.tracking.runs import retry_concurrent_insert  # noqa: E402

log = logging.getLogger(__name__)

RDB_SCHEMES = ("postgresql", "postgresql+psycopg2", "sqlite", "mysql", "mysql+pymysql")
HEARTBEAT_SECONDS = 20
IMPORTANCE_TITLES = {"fanova": "fANOVA", "ped_anova": "PED-ANOVA, best 10% of trials"}
SCHEMA_LOCK_KEY = 0x76736578  # PostgreSQL advisory lock id held while Optuna creates its tables


def make_storage(spec: str | None, default_journal: Path):
    """An Optuna storage from a spec; a malformed one is refused with what is allowed."""
    if not spec:
        default_journal.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(default_journal)))
    if spec.startswith("journal:") or spec.endswith(".journal"):
        path = Path(spec.removeprefix("journal:"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    if spec.startswith("postgresql://"):  # SQLAlchemy 2.1 maps the bare scheme to psycopg 3; we ship psycopg2
        spec = "postgresql+psycopg2://" + spec.removeprefix("postgresql://")
    scheme = spec.split("://", 1)[0] if "://" in spec else ""
    if scheme not in RDB_SCHEMES:
        raise ConfigError(f"malformed storage '{spec}': use journal:PATH, a *.journal path, or a URL "
                          f"({', '.join(s + '://...' for s in RDB_SCHEMES[:2])}, sqlite:///FILE)")
    try:
        from sqlalchemy.engine import make_url

        make_url(spec)
        return _rdb_storage(spec)
    except Exception as error:  # sqlalchemy and drivers raise many kinds; the message says which
        raise ConfigError(f"storage '{spec}' cannot be used: {error}") from None


def _rdb_storage(url: str) -> RDBStorage:
    """An RDB storage; on PostgreSQL created under an advisory lock.

    Workers started together against a fresh database would otherwise race to create Optuna's
    tables (``CREATE TABLE`` fails with "already exists" in all but one of them).
    """
    def create() -> RDBStorage:
        return RDBStorage(url, heartbeat_interval=HEARTBEAT_SECONDS, grace_period=2 * HEARTBEAT_SECONDS)

    if not url.startswith("postgresql"):
        return create()
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
            try:
                return create()
            finally:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK_KEY})
    finally:
        engine.dispose()


def make_pruner(spec: str) -> optuna.pruners.BasePruner:
    """``median`` (default), ``hyperband``, ``none``, or ``threshold:X`` (prune below X after epoch 1)."""
    if spec == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=5)  # early epochs say little
    if spec == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1)
    if spec == "none":
        return optuna.pruners.NopPruner()
    if spec.startswith("threshold:"):
        try:
            return optuna.pruners.ThresholdPruner(lower=float(spec.split(":", 1)[1]))
        except ValueError:
            pass
    raise ConfigError(f"unknown pruner '{spec}' (allowed: median, hyperband, none, threshold:NUMBER)")


def worker_seed(seed: int, trials_so_far: int) -> int:
    """The sampler seed of one worker joining a study.

    It moves on with the study, so a resumed study does not repeat its first trials, and mixes in the
    worker's host and process: workers started together on a shared study see the same trial count
    and would otherwise draw the same startup trials (and train identical configurations at once).
    A search is therefore reproducible trial by trial (each trial's params and training seed are
    logged), not as a sequence of proposals.
    """
    key = f"{seed}:{trials_so_far}:{socket.gethostname()}:{os.getpid()}"
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little")


def create_study(name: str, storage, seed: int, pruner: str = "median") -> optuna.Study:
    """Create or load (resume) a maximising study with a TPE sampler and a pruner."""
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True,
                                pruner=make_pruner(pruner))
    study.sampler = optuna.samplers.TPESampler(seed=worker_seed(seed, len(study.trials)), n_startup_trials=5,
                                               constant_liar=True)
    if isinstance(storage, RDBStorage):
        optuna.storages.fail_stale_trials(study)
    else:
        fail_dead_local_trials(study)
    return study


def mark_worker(trial: optuna.Trial) -> None:
    """Record which process runs a trial (journal storages have no heartbeat)."""
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")


def fail_dead_local_trials(study: optuna.Study) -> list[int]:
    """Mark FAILED the RUNNING trials whose worker process on this host no longer exists.

    RDB storages do this with heartbeats; for a journal file (one machine) the worker's pid is the
    heartbeat. Returns the numbers of the trials marked.
    """
    host, failed = socket.gethostname(), []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker_host, _, pid = str(trial.user_attrs.get("worker", "")).rpartition(":")
        if worker_host == host and pid.isdigit() and not _alive(int(pid)):
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            failed.append(trial.number)
    if failed:
        log.warning("study %s: trials %s were left RUNNING by dead workers; marked FAILED", study.study_name, failed)
    return failed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def optimize(study: optuna.Study, objective, *, n_trials: int | None, timeout: float | None,
             total_trials: int | None = None) -> None:
    callbacks = [MaxTrialsCallback(total_trials, states=(TrialState.COMPLETE, TrialState.PRUNED))] if total_trials else []
    if n_trials == 0:
        return
    study.optimize(objective, n_trials=n_trials, timeout=timeout, callbacks=callbacks, gc_after_trial=True)


def state_counts(study: optuna.Study) -> dict[str, int]:
    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts


def importance_evaluators() -> dict:
    """The importance methods a study reports, by name (fANOVA seeded: the same trials, the same values)."""
    from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator

    return {"fanova": FanovaImportanceEvaluator(seed=0), "ped_anova": PedAnovaImportanceEvaluator()}


def param_importances(study: optuna.Study) -> dict[str, dict[str, float]]:
    """Each hyperparameter's importance for the validation macro-F1 over the complete trials, by
    fANOVA (the share of the objective's variance a random forest of it attributes to each parameter)
    and by PED-ANOVA (how much each parameter's distribution in the best 10% of trials differs from
    all of them): ``{"fanova": {...}, "ped_anova": {...}}``, empty below four complete trials or
    when the parameters do not vary."""
    from optuna.importance import get_param_importances

    if sum(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)) < 4:
        return {}
    found = {}
    for method, evaluator in importance_evaluators().items():
        try:
            found[method] = {name: float(value) for name, value in get_param_importances(study, evaluator=evaluator).items()}
        except (ValueError, RuntimeError) as error:  # e.g. a parameter that never varied
            log.warning("no %s importances: %s", method, error)
    return found


def log_study_summary(study: optuna.Study) -> dict:
    """Log best params and value, state counts, the trials table and the study figures."""
    counts = state_counts(study)
    summary = {"study": study.study_name, "trials": counts}
    mlflow.log_metrics({f"trials_{state.lower()}": n for state, n in counts.items()})
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    if not complete:
        return summary
    best = study.best_trial
    summary.update(best_value=round(best.value, 4), best_trial=best.number, best_params=best.params,
                   best_run_id=best.user_attrs.get("mlflow_run_id"))
    mlflow.log_metric("best_validation_macro_f1", best.value)
    mlflow.log_dict({"best_trial": best.number, "best_value": best.value, "best_params": best.params,
                     "best_run_id": best.user_attrs.get("mlflow_run_id"), "states": counts}, "study/summary.json")
    mlflow.log_table(study.trials_dataframe(attrs=("number", "value", "state", "params", "duration")).astype(str),
                     "study/trials.json")
    importances = param_importances(study)
    if importances:
        mlflow.log_dict(importances, "study/importances.json")
        mlflow.log_metrics({f"importance_{method}_{name}": value for method, values in importances.items()
                            for name, value in values.items()})
        summary["importances"] = {method: {k: round(v, 3) for k, v in values.items()} for method, values in importances.items()}
    # name -> (draw it from the study, its title or None for the plot's own)
    plots = {"optimization_history": (optuna.visualization.matplotlib.plot_optimization_history, None)}
    for method, evaluator in importance_evaluators().items():
        if method in importances:
            plots[f"param_importances_{method}"] = (
                functools.partial(optuna.visualization.matplotlib.plot_param_importances, evaluator=evaluator),
                f"Hyperparameter importances ({IMPORTANCE_TITLES[method]})")
    for name, (plot, title) in plots.items():
        try:
            axes = plot(study)
        except (ValueError, RuntimeError) as error:  # e.g. importances need varied parameters
            log.warning("cannot draw %s: %s", name, error)
            continue
        figure = axes.figure if hasattr(axes, "figure") else axes[0].figure
        if title:
            axes.set_title(title, loc="left")
        figure.set_size_inches(9, 5)
        figure.tight_layout()  # the parameters' names whole
        mlflow.log_figure(figure, f"study/{name}.png")
        plt.close(figure)
    if best.user_attrs.get("mlflow_run_id"):
        retry_concurrent_insert(mlflow.MlflowClient().set_tag, best.user_attrs["mlflow_run_id"], "optuna.best", "true")
    return summary
