"""Search spaces and storages: parsing, per-layer expansion, configs, refusals."""

import optuna
import pytest

from vsexp.errors import ConfigError
from vsexp.presets import load_preset
from vsexp.tuning.optuna_search import make_pruner, make_storage
from vsexp.tuning.space import active_dimensions, config_from_params, load_space, suggest_optuna


def test_lstm_space_searches_filters_and_kernels_per_layer():
    names = [d.name for d in load_space("lstm")]
    assert names[:8] == [f"model.filters_{i}" for i in range(1, 5)] + [f"model.kernels_{i}" for i in range(1, 5)]
    assert "fit.learning_rate" in names and "model.dropout_rate" in names


def test_trial_params_become_a_config():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    params = suggest_optuna(trial, load_space("cnn"))
    config = config_from_params(load_preset("tiny", "cnn"), params)
    assert config.model.filters == tuple(params[f"model.filters_{i}"] for i in (1, 2, 3))
    assert config.model.kernels == tuple(params[f"model.kernels_{i}"] for i in (1, 2, 3))
    assert config.fit.learning_rate == pytest.approx(params["fit.learning_rate"])
    assert config.fit.batch_size == params["fit.batch_size"]


@pytest.mark.parametrize("spec", ["postgres:/x", "http://host/db", "db.sqlite", "redis://localhost"])
def test_malformed_storage_refused_with_allowed_forms(spec, tmp_path):
    with pytest.raises(ConfigError, match="journal:PATH"):
        make_storage(spec, tmp_path / "default.journal")


def test_pruner_names():
    assert isinstance(make_pruner("threshold:0.5"), optuna.pruners.ThresholdPruner)
    with pytest.raises(ConfigError, match="allowed: median, hyperband, none, threshold:NUMBER"):
        make_pruner("sometimes")


def test_multi_space_searches_folded_branch_filters_and_kernels():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    params = suggest_optuna(study.ask(), load_space("multi"))
    config = config_from_params(load_preset("tiny", "multi"), params)
    assert config.model.folded_filters == tuple(params[f"model.folded_filters_{i}"] for i in (1, 2, 3))
    assert config.model.folded_kernels == tuple(params[f"model.folded_kernels_{i}"] for i in (1, 2, 3))
    assert config.model.branches == "folded,features"


@pytest.mark.parametrize(("model", "searched", "left_out"), [
    ("multi", ("model.folded_filters_1", "model.feature_units_1"), ("model.dmdt_", "model.sequence_", "model.lstm_units")),
    ("hybrid", ("model.dmdt_kernels_3", "model.sequence_filters_4", "model.lstm_units_1"), ("model.folded_", "model.feature_")),
])
def test_multi_search_leaves_out_switched_off_branches(model, searched, left_out):
    config = load_preset("tiny", model)
    names = [d.name for d in active_dimensions(load_space("multi"), config)]
    assert set(searched) <= set(names) and {"fit.learning_rate", "model.dense_units_1"} <= set(names)
    assert not [n for n in names if n.startswith(left_out)]
    params = suggest_optuna(optuna.create_study().ask(), active_dimensions(load_space("multi"), config))
    assert config_from_params(config, params).model.branches == config.model.branches


def test_hybrid_is_the_two_branch_multi_input_network():
    from vsexp.cli import build_parser, config_from_args

    args = build_parser().parse_args(["train_hybrid", "--preset", "tiny"])
    config = config_from_args(args)
    assert config.model.name == "multi" and config.model.branches == "sequence,dmdt"
    args = build_parser().parse_args(["train_hybrid", "--preset", "tiny", "--set", "model.branches=sequence"])
    assert config_from_args(args).model.branches == "sequence"
