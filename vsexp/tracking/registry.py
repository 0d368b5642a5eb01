"""Model Registry operations: names, registration with the ``challenger`` alias, lookups."""

from __future__ import annotations

import logging

import mlflow
from mlflow import MlflowClient

log = logging.getLogger(__name__)

CHALLENGER, CHAMPION, PREVIOUS = "challenger", "champion", "previous"


def registered_name(survey: str, model: str) -> str:
    """``vsexp-<survey>-<model>``, e.g. ``vsexp-crts-lstm``."""
    return f"vsexp-{survey}-{model}"


def register_challenger(model_uri: str, name: str, tags: dict[str, str]) -> str:
    """Register ``model_uri`` as a new version of ``name`` and alias it ``challenger``.

    Returns:
        The new version number (as a string).
    """
    version = mlflow.register_model(model_uri, name, tags=tags)
    set_alias(name, CHALLENGER, version.version)
    log.info("registered %s version %s as %s", name, version.version, CHALLENGER)
    return version.version


def version_for_alias(name: str, alias: str):
    """The model version behind ``name@alias``, or None when the alias is not set."""
    try:
        return MlflowClient().get_model_version_by_alias(name, alias)
    except mlflow.exceptions.MlflowException:
        return None


def set_alias(name: str, alias: str, version: str, attempts: int = 3) -> None:
    """Point ``name@alias`` at ``version``, safe against another process setting the same alias.

    MLflow's SQL store reads the alias row and then inserts it when absent, so two processes setting
    a new alias at once can both insert; the loser gets a unique-key error (seen in CI with two
    simultaneous promotions). The loser re-reads the alias: already ``version`` means done, else it
    sets it again (the row exists now, so the store updates it).
    """
    client = MlflowClient()
    for attempt in range(1, attempts + 1):
        try:
            client.set_registered_model_alias(name, alias, version)
            return
        except mlflow.exceptions.MlflowException as error:
            current = version_for_alias(name, alias)
            if current is not None and str(current.version) == str(version):
                log.info("%s@%s was set to %s by another process at the same time", name, alias, version)
                return
            if attempt == attempts:
                raise
            log.warning("setting %s@%s -> %s failed (%s); retrying", name, alias, version, error)


def move_champion(name: str, new_version: str, old_version: str | None) -> None:
    """``champion`` -> ``new_version``; the old champion stays reachable as ``previous``."""
    if old_version is not None and old_version != new_version:
        set_alias(name, PREVIOUS, old_version)
    set_alias(name, CHAMPION, new_version)


def tag_version(name: str, version: str, tags: dict[str, str]) -> None:
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, str(value))
