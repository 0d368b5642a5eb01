"""Setting an alias or a version tag survives another process setting the same one at the same moment."""

import mlflow
import pytest
from mlflow import MlflowClient

from vsexp.tracking import registry
from vsexp.tracking.model_card import model_card


@pytest.fixture
def model_name(isolated_workspace, request):
    """A registered model with versions 1 and 2 and no aliases, one per test."""
    name = f"vsexp-test-alias-{request.node.name}".replace("[", "-").rstrip("]")
    client = MlflowClient()
    client.create_registered_model(name)
    for _ in range(2):
        client.create_model_version(name, source=str(isolated_workspace))
    return name


def _lose_the_race_once(monkeypatch, method, winning_value):
    """The first ``MlflowClient.<method>`` call finds the row inserted by a concurrent writer.

    ``method`` takes the value to write as its last argument; the other process writes
    ``winning_value`` there and commits first."""
    original = getattr(MlflowClient, method)
    calls = []

    def racing(self, *args):
        calls.append(args[-1])
        if len(calls) == 1:
            original(self, *args[:-1], winning_value)
            raise mlflow.exceptions.MlflowException("(sqlite3.IntegrityError) UNIQUE constraint failed")
        return original(self, *args)

    monkeypatch.setattr(MlflowClient, method, racing)
    return calls


@pytest.mark.parametrize("winner_version", ["2", "1"])
def test_losing_an_alias_race_ends_with_the_requested_version(model_name, monkeypatch, winner_version):
    calls = _lose_the_race_once(monkeypatch, "set_registered_model_alias", winner_version)
    registry.set_alias(model_name, registry.CHAMPION, "2")
    assert str(MlflowClient().get_model_version_by_alias(model_name, registry.CHAMPION).version) == "2"
    assert len(calls) == (1 if winner_version == "2" else 2)  # same target: no second write


def test_an_alias_error_that_is_not_a_race_is_raised(model_name):
    with pytest.raises(mlflow.exceptions.MlflowException):
        registry.set_alias(model_name, registry.CHAMPION, "7")


@pytest.mark.parametrize("winning_value", ["challenger_wins", "already_champion"])
def test_losing_a_version_tag_race_ends_with_the_requested_value(model_name, monkeypatch, winning_value):
    calls = _lose_the_race_once(monkeypatch, "set_model_version_tag", winning_value)
    registry.tag_version(model_name, "2", {"promotion.decision": "challenger_wins"})
    assert MlflowClient().get_model_version(model_name, "2").tags["promotion.decision"] == "challenger_wins"
    assert len(calls) == (1 if winning_value == "challenger_wins" else 2)


def test_a_tag_error_that_is_not_a_race_is_raised(model_name):
    with pytest.raises(mlflow.exceptions.MlflowException):
        registry.tag_version(model_name, "7", {"promotion.decision": "challenger_wins"})


def test_model_card_names_data_metrics_per_class_scores_minimum_points_use_and_limits():
    classes = ["RRab", "RRd"]
    metrics = {"test_macro_f1": 0.8, "test_macro_f1_ci_low": 0.7, "test_macro_f1_ci_high": 0.9, "test_accuracy": 0.85,
               **{f"test_{m}_{c}": v for c, v in (("RRab", 0.9), ("RRd", 0.6)) for m in ("precision", "recall", "f1")},
               "test_support_RRab": 40, "test_support_RRd": 5}
    card = model_card(registered_model="vsexp-crts-baseline", model="random forest (`baseline`)", inputs="features",
                      data={"source": "crts:DIR", "survey": "crts", "name": "crts-crts-1", "stars": 45},
                      classes=classes, metrics=metrics, split="test", min_points=100, run_id="abc", commit=None,
                      fitted_on="train")
    assert "| macro-F1 | 0.800 | [0.700, 0.900] |" in card and "| RRd | 0.600 | 0.600 | 0.600 | 5 |" in card
    assert "**Minimum points**: 100" in card and "## Intended use" in card and "no git checkout" in card
    assert "Weakest class: RRd" in card and "interval is wide" in card and "simulated" not in card
