"""Zhang & Bloom (2021, MNRAS; arXiv:2011.01243): a temporal CNN made invariant to where a
folded curve starts, on the folded curve (``folded``: [bins, 2], mean magnitude and point share
per phase bin).

Layer stack (defaults)::

    Input folded [bins, 2]
    5 residual blocks, block i: [cyclic pad (k-1)*2**i -> Conv1D(48, 3, dilation 2**i) -> ReLU -> Dropout] x 2
                                + the block's input (1x1 Conv1D when the width changes) -> ReLU
    concatenate the scaled feature vector at every position       (side input, optional)
    Conv1D(64, 1) -> ReLU -> Dropout -> Conv1D(num_classes, 1)    a classifier per phase position
    mean over positions -> softmax

Padding wraps around the phase circle and every layer up to the mean treats each position alike,
so shifting the folded curve's start (its phase zero) shifts the positions and leaves the mean,
and the prediction, unchanged. The reference code (kmzzhang/periodicnetwork, PyTorch) also
weight-normalises the convolutions; Keras has no such wrapper, so plain convolutions are used.

>>> import numpy as np
>>> model = build_cyclic_tcn(CyclicTcnConfig(channels=(8, 8)), {"folded": (64, 2), "features_scaled": (3,)}, 4)
>>> folded = np.random.default_rng(0).normal(size=(2, 64, 2)).astype("float32")
>>> side = np.ones((2, 3), "float32")
>>> probabilities = model.predict({"folded": folded, "features_scaled": side}, verbose=0)
>>> started_elsewhere = model.predict({"folded": np.roll(folded, 23, axis=1), "features_scaled": side}, verbose=0)
>>> bool(np.allclose(probabilities, started_elsewhere, atol=1e-6))
True
"""

from __future__ import annotations

from vsexp.console import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras imports it: TensorFlow's start-up banner stays off stderr

import keras
import numpy as np
from keras import layers, ops

from vsexp.models.cyclic_tcn.config import CyclicTcnConfig


@keras.saving.register_keras_serializable(package="vsexp")
class CyclicPadding1D(layers.Layer):
    """Prepends the last ``width`` positions of [batch, length, channels] (wrapping as often as needed)."""

    def __init__(self, width: int, **kwargs):
        super().__init__(**kwargs)
        self.width = width

    def call(self, inputs):
        length = inputs.shape[1]
        indices = np.arange(-self.width, length) % length
        return ops.take(inputs, indices, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] + self.width, *input_shape[2:])

    def get_config(self):
        return {**super().get_config(), "width": self.width}


def residual_block(x, filters: int, kernel: int, dilation: int, dropout_rate: float, index: int):
    """Two cyclically padded dilated convolutions and a residual connection."""
    shortcut = x if x.shape[-1] == filters else layers.Conv1D(filters, 1, name=f"block{index}_match")(x)
    for step in (1, 2):
        x = CyclicPadding1D((kernel - 1) * dilation, name=f"block{index}_pad{step}")(x)
        x = layers.Conv1D(filters, kernel, dilation_rate=dilation, activation="relu", name=f"block{index}_conv{step}")(x)
        x = layers.Dropout(dropout_rate, name=f"block{index}_dropout{step}")(x)
    return layers.ReLU(name=f"block{index}_out")(layers.Add(name=f"block{index}_add")([x, shortcut]))


def build_cyclic_tcn(config: CyclicTcnConfig, input_shapes: dict[str, tuple], num_classes: int) -> keras.Model:
    """Build the network for ``{"folded": (bins, 2)}`` (and ``"features_scaled": (F,)`` with side features)."""
    folded = keras.Input(shape=tuple(input_shapes["folded"]), name="folded")
    inputs = {"folded": folded}
    x = folded
    for index, filters in enumerate(config.channels):
        x = residual_block(x, filters, config.kernel, 2 ** index, config.dropout_rate, index + 1)
    if config.side_features:
        features = keras.Input(shape=tuple(input_shapes["features_scaled"]), name="features_scaled")
        inputs["features_scaled"] = features
        repeated = layers.RepeatVector(x.shape[1], name="features_at_every_phase")(features)
        x = layers.Concatenate(name="side_inputs")([x, repeated])
    x = layers.Conv1D(config.hidden_units, 1, activation="relu", name="position_hidden")(x)
    x = layers.Dropout(config.dropout_rate, name="position_dropout")(x)
    x = layers.Conv1D(num_classes, 1, name="position_logits")(x)
    x = layers.GlobalAveragePooling1D(name="mean_over_phase")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="cyclic_tcn")
