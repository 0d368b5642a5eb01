"""Every model family the registry finds: configured from presets, built, fitted, saved, served from
raw curves, and reachable from the command line, with no code outside its folder."""

from pathlib import Path

import keras
import mlflow
import numpy as np
import optuna
import pytest

import vsexp.models
from tests.conftest import request_frame
from vsexp.cli import build_parser
from vsexp.errors import ConfigError
from vsexp.lightcurves.simulator import simulate_star
from vsexp.models.registry import custom_objects, families, family, family_names, input_shapes
from vsexp.pipelines.train import train
from vsexp.presets import load_preset
from vsexp.representations.cache import build_representations
from vsexp.representations.protocol import Settings
from vsexp.tuning.space import active_dimensions, config_from_params, load_space, suggest_optuna

FAMILIES = family_names()


def test_every_model_folder_is_a_family_and_every_family_a_folder():
    folders = {path.name for path in Path(vsexp.models.__file__).parent.iterdir() if (path / "__init__.py").exists()}
    assert {f.package.rsplit(".", 1)[1] for f in families()} == folders
    assert {"baseline", "lstm", "cnn", "multi"} <= set(FAMILIES)
    with pytest.raises(ConfigError, match="unknown model 'transformer' \\(allowed: .*hybrid"):
        family("transformer")


@pytest.mark.parametrize("name", FAMILIES)
def test_family_config_tiny_spec_and_command(name):
    model_family = family(name)
    config = load_preset("tiny", name)
    assert isinstance(config.model, model_family.config_type) and config.model.name == name
    for key, value in model_family.tiny_settings.items():  # the tiny preset uses the family's tiny spec
        assert getattr(config.model, key.removeprefix("model.")) == (tuple(value) if isinstance(value, list) else value)
    assert build_parser().parse_args([f"train_{name}", "--preset", "tiny"]).model == name
    assert build_parser().parse_args(["train", "--model", name]).model == name


@pytest.mark.parametrize("name", FAMILIES)
def test_family_builds_fits_and_saves_on_its_inputs(name, tiny_dataset, tmp_path):
    model_family = family(name)
    config = load_preset("tiny", name)
    representations = build_representations(tiny_dataset, model_family.inputs(config.model), Settings.of(config))
    inputs, labels = representations.inputs("train"), tiny_dataset.labels("train")
    classes = len(tiny_dataset.classes)
    model = model_family.build(config.model, input_shapes(inputs), classes, 0)
    if not model_family.network:
        probabilities = model.fit(inputs, labels).predict_proba(inputs)
    else:
        keras.utils.set_random_seed(0)
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
        before = model.evaluate(inputs, labels, verbose=0)
        model.fit(inputs, labels, epochs=8, batch_size=16, verbose=0)
        assert model.evaluate(inputs, labels, verbose=0) < before
        probabilities = model.predict(inputs, verbose=0)
        model.save(tmp_path / "model.keras")
        reloaded = keras.saving.load_model(tmp_path / "model.keras", custom_objects=custom_objects(), compile=False)
        np.testing.assert_allclose(reloaded.predict(inputs, verbose=0), probabilities, atol=1e-5)
    assert probabilities.shape == (len(labels), classes)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", FAMILIES)
def test_family_trains_registers_and_serves_raw_curves(name):
    summary = train(load_preset("tiny", name))
    assert summary["registered_model"] == f"vsexp-synthetic-ogle-{name}"
    run = mlflow.get_run(summary["run_id"])
    assert run.data.tags["vsexp.model_family"] == family(name).family
    assert run.data.tags["vsexp.representation"] == "+".join(family(name).inputs(load_preset("tiny", name).model))
    card = mlflow.MlflowClient().get_model_version(summary["registered_model"], summary["version"]).description
    assert card.startswith(f"# {summary['registered_model']}") and "**Minimum points**: 40" in card
    assert card == mlflow.artifacts.load_text(f"runs:/{summary['run_id']}/model_card.md")
    model = mlflow.pyfunc.load_model(summary["model_uri"])
    stars = [simulate_star("ogle", label, 9100 + i, seed=4) for i, label in enumerate(("RRL", "CEPH", "ECLP"))]
    predictions = model.predict(request_frame(stars))
    assert len(predictions) == 3 and predictions.filter(like="prob_").shape[1] == 5


@pytest.mark.parametrize("name", [n for n in FAMILIES if family(n).searchable])
def test_every_point_of_a_family_search_space_is_a_valid_config(name):
    base = load_preset("tiny", name)
    space = active_dimensions(load_space(name), base)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        config = config_from_params(base, suggest_optuna(study.ask(), space))
        assert config.model.name == name and config.model != base.model
