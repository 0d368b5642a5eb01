"""A multi-input network: one branch per representation, merged before the classifier.

Branches (``MultiConfig.branches``)::

    folded   [bins, 2]      Conv1D stack (circular in spirit: the folded curve wraps at phase 1)
    features [F]            Dense stack on the robustly scaled feature vector
    dmdt     [dm, dt] uint8 the 2D CNN trunk (Mahabal)
    sequence [length, c]    the CNN-LSTM trunk (the paper)

    concatenate -> Dense(256) -> Dropout -> Dense(128) -> Dropout -> Dense(num_classes, softmax)

``sequence,dmdt`` is the paper's proposed two-branch model (section 6); ``folded,features`` adds
the period information the paper's networks lack.
"""

from __future__ import annotations

from vsexp.console import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras imports it: TensorFlow's start-up banner stays off stderr

import keras
from keras import layers

from vsexp.models.cnn2d.config import Cnn2dConfig
from vsexp.models.cnn2d.network import cnn2d_trunk
from vsexp.models.cnn_lstm.config import CnnLstmConfig
from vsexp.models.cnn_lstm.network import cnn_lstm_trunk, dense_head
from vsexp.models.multi import BRANCH_INPUT
from vsexp.models.multi.config import MultiConfig


def build_multi(config: MultiConfig, input_shapes: dict[str, tuple], num_classes: int) -> keras.Model:
    """Build the network for ``input_shapes`` = {input kind: shape without the batch axis}."""
    inputs, merged = {}, []
    for branch in config.branch_list:
        kind = BRANCH_INPUT[branch]
        tensor = keras.Input(shape=tuple(input_shapes[kind]), name=kind)
        inputs[kind] = tensor
        if branch == "folded":
            x = tensor
            for index, (filters, kernel) in enumerate(zip(config.folded_filters, config.folded_kernels), start=1):
                x = layers.Conv1D(filters, kernel, padding="same", activation="relu", name=f"folded_conv{index}")(x)
                if x.shape[1] >= 4:
                    x = layers.MaxPooling1D(2, name=f"folded_pool{index}")(x)
            x = layers.Flatten(name="folded_flatten")(x)
        elif branch == "features":
            x = tensor
            for index, units in enumerate(config.feature_units, start=1):
                x = layers.Dense(units, activation="relu", name=f"features_dense{index}")(x)
        elif branch == "dmdt":
            trunk = Cnn2dConfig(filters=config.dmdt_filters, kernels=config.dmdt_kernels,
                                pool_after=tuple(range(1, len(config.dmdt_filters) + 1)), dropout_rate=config.dropout_rate)
            x = cnn2d_trunk(tensor, trunk, prefix="dmdt_")
        else:
            trunk = CnnLstmConfig(filters=config.sequence_filters, kernels=config.sequence_kernels,
                                  pool_after=(2, 4), lstm_units=config.lstm_units)
            x = layers.MaxPooling1D(2, name="sequence_pool0")(tensor)  # halve the length: a cheaper LSTM
            x = cnn_lstm_trunk(x, trunk, prefix="sequence_")
        merged.append(x)
    x = layers.Concatenate(name="merge")(merged) if len(merged) > 1 else merged[0]
    outputs = dense_head(x, config.dense_units, config.dropout_rate, num_classes)
    return keras.Model(inputs, outputs, name="multi")
