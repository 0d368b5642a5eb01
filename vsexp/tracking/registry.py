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
