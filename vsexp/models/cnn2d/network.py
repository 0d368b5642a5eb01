"""Mahabal et al. (2017)'s 2D CNN on dm-dt images (paper section 3, Fig. 3).

Layer stack (defaults; sizes are config fields)::

    Input [dm_bins, dt_bins] uint8 -> Rescaling(1/255) -> add a channel axis
    Conv2D(16, 3x3) -> MaxPooling2D(2) -> Dropout
    Conv2D(32, 5x5) -> MaxPooling2D(2) -> Dropout
    Conv2D(64, 5x5) -> MaxPooling2D(2) -> Dropout
    Flatten -> Dense(512) -> Dropout -> Dense(64) -> Dropout
    Dense(num_classes, softmax)

``batch_norm`` puts a BatchNormalization between each convolution and its ReLU (the scaled
maps are mostly near zero: a few bright cells per image). Its moving statistics, which inference
uses, follow the batches with momentum 0.9: with Keras' 0.99 the moving variance, starting at 1,
stayed far above the convolutions' tiny variance for hundreds of steps, and on real CRTS a trial
predicted one class on validation for nine epochs while its training accuracy climbed.

Pooling after every convolution keeps a 90 x 53 map affordable on CPU (pooling only after the
second conv, with 32/64/64 filters, ran at ~26 samples/s on 2 cores; this stack is ~10x cheaper).

The model takes the Mahabal-normalised uint8 images as they are cached and served; scaling to
[0, 1] happens inside it so that training and serving cannot disagree.
"""

from __future__ import annotations

from vsexp.console import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras imports it: TensorFlow's start-up banner stays off stderr

import keras
from keras import layers

from vsexp.models.cnn2d.config import Cnn2dConfig
from vsexp.models.cnn_lstm.network import dense_head

BATCH_NORM_MOMENTUM = 0.9  # Keras' default 0.99 lags for hundreds of steps (see the module docstring)


def cnn2d_trunk(inputs, config: Cnn2dConfig, prefix: str = ""):
    """Scaling, convolutions, pooling and dropout on a uint8 [dm, dt] map; returns flat features."""
    input_shape = tuple(inputs.shape[1:])
    x = layers.Rescaling(1.0 / 255.0, name=f"{prefix}scale")(inputs)
    if len(input_shape) == 2:  # [dm, dt] -> one channel; [dm, dt, c] images keep theirs
        x = layers.Reshape((*input_shape, 1), name=f"{prefix}channel")(x)
    for index, (filters, kernel) in enumerate(zip(config.filters, config.kernels), start=1):
        if config.batch_norm:
            x = layers.Conv2D(filters, kernel, padding="same", use_bias=False, name=f"{prefix}conv{index}")(x)
            x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"{prefix}norm{index}")(x)
            x = layers.Activation("relu", name=f"{prefix}relu{index}")(x)
        else:
            x = layers.Conv2D(filters, kernel, padding="same", activation="relu", name=f"{prefix}conv{index}")(x)
        if index in config.pool_after and min(x.shape[1], x.shape[2]) >= 2:
            x = layers.MaxPooling2D(2, name=f"{prefix}pool{index}")(x)
            x = layers.Dropout(config.dropout_rate, name=f"{prefix}conv_dropout{index}")(x)
    return layers.Flatten(name=f"{prefix}flatten")(x)


def build_cnn2d(config: Cnn2dConfig, input_shape: tuple[int, int], num_classes: int) -> keras.Model:
    """Build the 2D CNN for dm-dt images of shape [dm_bins, dt_bins]."""
    inputs = keras.Input(shape=input_shape, name="dmdt")
    outputs = dense_head(cnn2d_trunk(inputs, config), config.dense_units, config.dropout_rate, num_classes)
    return keras.Model({"dmdt": inputs}, outputs, name="cnn2d")  # a dict, as the data sets feed it
