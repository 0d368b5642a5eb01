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
    MlflowClient().set_registered_model_alias(name, CHALLENGER, version.version)
    log.info("registered %s version %s as %s", name, version.version, CHALLENGER)
    return version.version


def version_for_alias(name: str, alias: str):
    """The model version behind ``name@alias``, or None when the alias is not set."""
    try:
        return MlflowClient().get_model_version_by_alias(name, alias)
    except mlflow.exceptions.MlflowException:
        return None


def move_champion(name: str, new_version: str, old_version: str | None) -> None:
    """``champion`` -> ``new_version``; the old champion stays reachable as ``previous``."""
    client = MlflowClient()
    if old_version is not None and old_version != new_version:
        client.set_registered_model_alias(name, PREVIOUS, old_version)
    client.set_registered_model_alias(name, CHAMPION, new_version)


def tag_version(name: str, version: str, tags: dict[str, str]) -> None:
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, str(value))
