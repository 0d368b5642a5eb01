"""Model Registry operations: names, registration with the ``challenger`` alias, lookups."""

from __future__ import annotations

import logging

import mlflow
from mlflow import MlflowClient

from vsexp.errors import ConfigError

log = logging.getLogger(__name__)

CHALLENGER, CHAMPION, PREVIOUS = "challenger", "champion", "previous"


def registered_name(survey: str, model: str) -> str:
    """``vsexp-<survey>-<model>``, e.g. ``vsexp-crts-lstm``."""
    return f"vsexp-{survey}-{model}"


def register_challenger(model_uri: str, name: str, tags: dict[str, str], card: str | None = None) -> str:
    """Register ``model_uri`` as a new version of ``name`` and alias it ``challenger``; ``card`` (the
    model card, Markdown) becomes the version's description, which the MLflow UI shows.

    Returns:
        The new version number (as a string).
    """
    version = mlflow.register_model(model_uri, name, tags=tags)
    if card:
        MlflowClient().update_model_version(name, version.version, description=card)
    set_alias(name, CHALLENGER, version.version)
    log.info("registered %s version %s as %s", name, version.version, CHALLENGER)
    return version.version


def check_registered(name: str) -> None:
    """Raise ``ConfigError`` naming the registered models when ``name`` is not one of them."""
    client = MlflowClient()
    if client.search_registered_models(filter_string=f"name = '{name}'"):
        return
    names = sorted(model.name for model in client.search_registered_models())
    raise ConfigError(f"no registered model '{name}' in {mlflow.get_tracking_uri()} "
                      f"(registered: {', '.join(names) or 'none yet: train a model first'})")


def version_for_alias(name: str, alias: str):
    """The model version behind ``name@alias``, or None when the alias is not set."""
    try:
        return MlflowClient().get_model_version_by_alias(name, alias)
    except mlflow.exceptions.MlflowException:
        return None


def set_alias(name: str, alias: str, version: str) -> None:
    """Point ``name@alias`` at ``version``, safe against another process setting the same alias."""
    client = MlflowClient()
    _write_racing(lambda: client.set_registered_model_alias(name, alias, version),
                  lambda: getattr(version_for_alias(name, alias), "version", None), str(version), f"{name}@{alias}")


def _write_racing(write, read_back, wanted: str, what: str, attempts: int = 3) -> None:
    """Run ``write`` (an MLflow alias or tag write), tolerating another process writing the same row.

    MLflow's SQL store reads an alias or tag row and then inserts it when absent, so two processes
    writing a new one at once can both insert; the loser gets a unique-key error (seen in CI with
    two simultaneous promotions, first on the alias, then on a version tag). The loser re-reads the
    row: already ``wanted`` means done, else it writes again (the row exists now, so the store
    updates it).
    """
    for attempt in range(1, attempts + 1):
        try:
            write()
            return
        except mlflow.exceptions.MlflowException as error:
            if _read_or_none(read_back) == wanted:
                log.info("%s was set to %s by another process at the same time", what, wanted)
                return
            if attempt == attempts:
                raise
            log.warning("setting %s -> %s failed (%s); retrying", what, wanted, error)


def _read_or_none(read_back) -> str | None:
    try:
        value = read_back()
    except mlflow.exceptions.MlflowException:  # e.g. the version does not exist: the write's error is the one to raise
        return None
    return None if value is None else str(value)


def move_champion(name: str, new_version: str, old_version: str | None) -> None:
    """``champion`` -> ``new_version``; the old champion stays reachable as ``previous``."""
    if old_version is not None and old_version != new_version:
        set_alias(name, PREVIOUS, old_version)
    set_alias(name, CHAMPION, new_version)


def tag_version(name: str, version: str, tags: dict[str, str]) -> None:
    """Set ``tags`` on version ``version`` of ``name``, safe against another process setting them too."""
    client = MlflowClient()
    for key, value in tags.items():
        _write_racing(lambda: client.set_model_version_tag(name, version, key, str(value)),
                      lambda: client.get_model_version(name, version).tags.get(key), str(value),
                      f"tag {key} of {name} v{version}")
