"""The project's own files: MLproject parameters reach their commands, pins agree, presets load."""

from pathlib import Path

import pytest
import yaml

from vsexp.presets import load_preset, preset_names
from vsexp.train_config import from_flat, to_flat

ROOT = Path(__file__).resolve().parents[1]


def test_every_mlproject_parameter_reaches_its_command():
    project = yaml.safe_load((ROOT / "MLproject").read_text())
    for name, entry in project["entry_points"].items():
        for parameter in entry.get("parameters", {}):
            assert "{" + parameter + "}" in entry["command"], f"{name}: parameter '{parameter}' never used"


def test_conda_env_pins_equal_requirements():
    conda = yaml.safe_load((ROOT / "conda.yaml").read_text())
    pip = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
    requirements = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
                    if line and not line.startswith("#")]
    assert [p for p in pip if p != "-e ."] == requirements


@pytest.mark.parametrize("name", ["ogle_small", "crts_small", "ogle_paper", "crts_paper", "crts_real", "tiny",
                                  "crts_best_forest", "crts_best_network", "crts_other_forest",
                                  "crts_cnn_tuned", "crts_lstm_tuned"])
@pytest.mark.parametrize("model", ["lstm", "cnn", "baseline"])
def test_presets_load_and_round_trip_through_flat_params(name, model):
    assert name in preset_names()
    config = load_preset(name, model)
    assert config.model.name == model
    assert from_flat({k: str(v) for k, v in to_flat(config).items()}) == config


def test_every_mlproject_command_parses_with_the_cli():
    import shlex

    from vsexp.cli import build_parser

    project = yaml.safe_load((ROOT / "MLproject").read_text())
    for name, entry in project["entry_points"].items():
        values = {p: str(spec.get("default", "x")) for p, spec in entry.get("parameters", {}).items()}
        command = entry["command"].format(**{p: shlex.quote(v) for p, v in values.items()})
        arguments = shlex.split(command)
        assert arguments[:3] == ["python", "-m", "vsexp.cli"] and arguments[3] == name, command
        build_parser().parse_args(arguments[3:])  # argparse exits on an unknown or malformed option


def test_the_best_measured_configurations_are_presets():
    forest = load_preset("crts_best_forest", "baseline")
    assert (forest.augment.copies, forest.model.min_samples_leaf, forest.data.class_set) == (4, 5, "crts")
    assert forest.features.second_period == "coarse"
    other = load_preset("crts_other_forest", "baseline")
    assert other.data.other_class and other.unknown.rate == 0.02 and other.features == forest.features
    network = load_preset("crts_best_network", "multi")
    assert network.model.branches == "folded,features,dmdt,sequence" and network.augment.copies == 4
    assert (network.sequence.order, network.dmdt.phase_channel, network.fit.learning_rate) == ("phase", True, 0.001)
