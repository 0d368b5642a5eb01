"""The paper's 1D CNN-LSTM (section 4, Fig. 4) on padded light-curve sequences.

Layer stack (defaults; every size is a config field the search can vary)::

    Input [length, channels]
    Conv1D(32, 3) -> Conv1D(32, 3) -> MaxPooling1D(2)      filters increasing, kernels 3, 3, 5, 5
    Conv1D(64, 5) -> Conv1D(64, 5) -> MaxPooling1D(2)
    LSTM(32, sequences) -> LSTM(64, sequences)              units increasing
    Flatten -> Dense(1024) -> Dropout -> Dense(512) -> Dropout
    Dense(num_classes, softmax)

The LSTMs keep Keras's defaults (tanh, sigmoid gates, no recurrent dropout, not unrolled) so that
GPU runners get the cuDNN kernel, as the paper's CuDNNLSTM did.
"""

from __future__ import annotations

from vsexp.console import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras imports it: TensorFlow's start-up banner stays off stderr

import keras
from keras import layers

from vsexp.models.cnn_lstm.config import CnnLstmConfig


def cnn_lstm_trunk(x, config: CnnLstmConfig, prefix: str = ""):
    """Conv1D/pooling then LSTM layers; returns the flattened features (before the dense head)."""
    for index, (filters, kernel) in enumerate(zip(config.filters, config.kernels), start=1):
        x = layers.Conv1D(filters, kernel, padding="same", activation="relu", name=f"{prefix}conv{index}")(x)
        if index in config.pool_after:
            x = layers.MaxPooling1D(2, name=f"{prefix}pool{index}")(x)
    for index, units in enumerate(config.lstm_units, start=1):
        x = layers.LSTM(units, return_sequences=True, name=f"{prefix}lstm{index}")(x)
    return layers.Flatten(name=f"{prefix}flatten")(x)


def dense_head(x, dense_units, dropout_rate: float, num_classes: int):
    """Dense + dropout layers, then a float32 softmax (float32 also under mixed precision)."""
    for index, units in enumerate(dense_units, start=1):
        x = layers.Dense(units, activation="relu", name=f"dense{index}")(x)
        x = layers.Dropout(dropout_rate, name=f"dropout{index}")(x)
    return layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)


def build_cnn_lstm(config: CnnLstmConfig, input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    """Build the CNN-LSTM for inputs of shape [length, channels]."""
    inputs = keras.Input(shape=input_shape, name="sequence")
    outputs = dense_head(cnn_lstm_trunk(inputs, config), config.dense_units, config.dropout_rate, num_classes)
    return keras.Model({"sequence": inputs}, outputs, name="cnn_lstm")  # a dict, as the data sets feed it
