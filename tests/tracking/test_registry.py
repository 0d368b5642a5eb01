"""Setting an alias survives another process setting the same alias at the same moment."""

import mlflow
import pytest
from mlflow import MlflowClient

from vsexp.tracking import registry


@pytest.fixture
def model_name(isolated_workspace, request):
    """A registered model with versions 1 and 2 and no aliases, one per test."""
    name = f"vsexp-test-alias-{request.node.name}".replace("[", "-").rstrip("]")
    client = MlflowClient()
    client.create_registered_model(name)
    for _ in range(2):
        client.create_model_version(name, source=str(isolated_workspace))
    return name


def _lose_the_race_once(monkeypatch, winner_version):
    """The first set_registered_model_alias call finds the row inserted by a concurrent writer."""
    original = MlflowClient.set_registered_model_alias
    calls = []

    def racing(self, name, alias, version):
        calls.append(version)
        if len(calls) == 1:
            original(self, name, alias, winner_version)  # the other process commits first
            raise mlflow.exceptions.MlflowException("(sqlite3.IntegrityError) UNIQUE constraint failed")
        return original(self, name, alias, version)

    monkeypatch.setattr(MlflowClient, "set_registered_model_alias", racing)
    return calls


@pytest.mark.parametrize("winner_version", ["2", "1"])
def test_losing_an_alias_race_ends_with_the_requested_version(model_name, monkeypatch, winner_version):
    calls = _lose_the_race_once(monkeypatch, winner_version)
    registry.set_alias(model_name, registry.CHAMPION, "2")
    assert str(MlflowClient().get_model_version_by_alias(model_name, registry.CHAMPION).version) == "2"
    assert len(calls) == (1 if winner_version == "2" else 2)  # same target: no second write


def test_an_alias_error_that_is_not_a_race_is_raised(model_name):
    with pytest.raises(mlflow.exceptions.MlflowException):
        registry.set_alias(model_name, registry.CHAMPION, "7")
