"""Model builders: the paper's layer stacks, output shapes, and that a few steps lower the loss."""

import warnings

import keras
import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from vsexp.errors import ConfigError
from vsexp.models.cnn2d.config import Cnn2dConfig
from vsexp.models.cnn2d.network import build_cnn2d
from vsexp.models.cnn_lstm.config import CnnLstmConfig
from vsexp.models.cnn_lstm.network import build_cnn_lstm
from vsexp.models.forest.config import ForestConfig
from vsexp.models.forest.estimator import build_forest
from vsexp.representations.features import FEATURE_GROUP_NAMES, FEATURE_NAMES


def test_cnn_lstm_follows_the_paper_stack():
    model = build_cnn_lstm(CnnLstmConfig(), (546, 1), 7)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Conv1D") == 4 and kinds.count("MaxPooling1D") == 2 and kinds.count("LSTM") == 2
    assert [layer.units for layer in model.layers if type(layer).__name__ == "Dense"] == [1024, 512, 7]
    assert [layer.kernel_size[0] for layer in model.layers if type(layer).__name__ == "Conv1D"] == [3, 3, 5, 5]
    assert model.output_shape == (None, 7)
    lstm = next(layer for layer in model.layers if type(layer).__name__ == "LSTM")
    assert lstm.activation.__name__ == "tanh" and lstm.recurrent_dropout == 0 and not lstm.unroll  # cuDNN path


def test_cnn2d_takes_uint8_images_and_starts_with_3x3():
    model = build_cnn2d(Cnn2dConfig(), (90, 53), 5)
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert convs[0].kernel_size == (3, 3) and all(c.kernel_size == (5, 5) for c in convs[1:])
    assert model.output_shape == (None, 5)
    out = model.predict(np.full((2, 90, 53), 255, dtype=np.uint8), verbose=0)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    two_channels = build_cnn2d(Cnn2dConfig(), (90, 53, 2), 5)  # dm-dt + dm-dphase
    assert two_channels.get_layer("conv1").input.shape[-1] == 2
    normalised = build_cnn2d(Cnn2dConfig(batch_norm=True), (90, 53), 5)
    assert [type(normalised.get_layer(f"{kind}1")).__name__ for kind in ("conv", "norm", "relu")] == [
        "Conv2D", "BatchNormalization", "Activation"]


@pytest.mark.parametrize("builder, config, shape", [
    (build_cnn_lstm, CnnLstmConfig(filters=(4, 4, 8, 8), lstm_units=(4, 8), dense_units=(16,)), (32, 1)),
    (build_cnn2d, Cnn2dConfig(filters=(4, 8, 8), dense_units=(16,), dropout_rate=0.0), (16, 12)),
    (build_cnn2d, Cnn2dConfig(filters=(4, 8, 8), dense_units=(16,), dropout_rate=0.0, batch_norm=True), (16, 12)),
])
def test_a_few_steps_lower_the_loss(builder, config, shape):
    """Evaluated in inference mode: batch normalisation's moving statistics must have followed (60 steps)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 32)
    inputs = rng.normal(size=(64, *shape)).astype(np.float32) + labels.reshape(-1, *([1] * len(shape)))
    if builder is build_cnn2d:
        inputs = np.clip(inputs * 40 + 100, 0, 255).astype(np.uint8)
    model = builder(config, shape, 2)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    before = model.evaluate(inputs, labels, verbose=0)
    model.fit(inputs, labels, epochs=15, batch_size=16, verbose=0)
    assert model.evaluate(inputs, labels, verbose=0) < 0.7 * before


@pytest.mark.parametrize("builder, config, shape, name", [
    (build_cnn_lstm, CnnLstmConfig(filters=(4, 4, 8, 8), lstm_units=(4, 8), dense_units=(16,)), (32, 1), "sequence"),
    (build_cnn2d, Cnn2dConfig(filters=(4, 8, 8), dense_units=(16,)), (16, 12), "dmdt"),
])
def test_single_input_networks_take_their_input_by_name(builder, config, shape, name):
    """The data sets feed {name: array}; a network built on a bare tensor makes Keras warn at every fit."""
    model = builder(config, shape, 2)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="The structure of `inputs` doesn't match")
        assert model.predict({name: np.zeros((2, *shape), np.float32)}, verbose=0).shape == (2, 2)


def test_forest_is_balanced_and_seeded():
    forest = build_forest(ForestConfig(n_estimators=5), seed=3).named_steps["ensemble"]
    assert forest.class_weight == "balanced_subsample" and forest.random_state == 3 and forest.min_samples_leaf == 1


def test_boosted_trees_are_balanced_seeded_and_fit_features_with_missing_values():
    boosted = build_forest(ForestConfig(kind="boosted", n_estimators=30), seed=3)
    ensemble = boosted.named_steps["ensemble"]
    assert ensemble.class_weight == "balanced" and ensemble.random_state == 3 and ensemble.min_samples_leaf == 20
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 60)
    features = rng.normal(size=(180, 4)) + labels[:, None]
    features[::7, 1] = np.nan
    inputs = {"features": features}
    assert (boosted.fit(inputs, labels).predict(inputs) == labels).mean() > 0.8


def test_feature_groups_fit_the_forest_on_their_columns_only():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 60)
    features = rng.normal(size=(120, len(FEATURE_NAMES)))
    features[:, FEATURE_NAMES.index("log_second_period")] += 8 * labels  # only a second-period column knows the class
    features[::9, 0] = np.nan
    fitted, held_out = {"features": features[::2]}, {"features": features[1::2]}
    accuracy = {}
    for groups in ("", "second_period", "statistics,periodogram,harmonic"):
        forest = build_forest(ForestConfig(n_estimators=30, feature_groups=groups), seed=0).fit(fitted, labels[::2])
        accuracy[groups] = (forest.predict(held_out) == labels[1::2]).mean()
    assert accuracy[""] > 0.9 and accuracy["second_period"] > 0.9 and accuracy["statistics,periodogram,harmonic"] < 0.75
    selected = build_forest(ForestConfig(feature_groups="harmonic, statistics")).fit({"features": features}, labels)
    assert selected.named_steps["ensemble"].n_features_in_ == len(FEATURE_GROUP_NAMES["statistics"]) + len(FEATURE_GROUP_NAMES["harmonic"])
    every = build_forest(ForestConfig(feature_groups="statistics,periodogram,harmonic,second_period"))
    assert [name for name, _ in every.steps] == ["features", "ensemble"]  # all groups: no column selection
    assert isinstance(every.named_steps["ensemble"], RandomForestClassifier)


def test_bad_forest_config_refused():
    with pytest.raises(ConfigError, match="model.kind must be one of random, boosted"):
        ForestConfig(kind="xgboost")
    with pytest.raises(ConfigError, match="learning_rate"):
        ForestConfig(kind="boosted", learning_rate=0.0)
    for groups in ("colour", "harmonic,colour", ","):
        with pytest.raises(ConfigError, match=f"model.feature_groups must be a comma-separated subset of statistics, "
                                              f"periodogram, harmonic, second_period .* got '{groups}'"):
            ForestConfig(feature_groups=groups)
