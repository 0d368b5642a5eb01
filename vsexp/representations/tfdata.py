"""The one place representations meet TensorFlow: arrays -> batched, prefetched ``tf.data``."""

from __future__ import annotations

import numpy as np
from vsexp.console import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras imports it: TensorFlow's start-up banner stays off stderr

import tensorflow as tf


def make_dataset(inputs: dict[str, np.ndarray], labels: np.ndarray | None, *, num_classes: int, batch_size: int,
                 shuffle: bool = False, seed: int = 0) -> tf.data.Dataset:
    """Batches of (inputs, one-hot labels), reshuffled every epoch when asked, prefetched.

    ``inputs`` maps each model input's name to its array [n, ...].

    The arrays become tensors once. What is shuffled and batched are row indices; each batch is
    then one ``gather`` per tensor, so a step costs a few ops instead of one per example, and an
    epoch has no Python loop.
    """
    features = {name: tf.constant(array) for name, array in inputs.items()}
    count = len(next(iter(inputs.values())))
    targets = None if labels is None else tf.constant(np.eye(num_classes, dtype=np.float32)[labels])
    indices = tf.data.Dataset.range(count)
    if shuffle:
        indices = indices.shuffle(count, seed=seed, reshuffle_each_iteration=True)

    def gather(i):
        batch = tf.nest.map_structure(lambda tensor: tf.gather(tensor, i), features)
        return batch if targets is None else (batch, tf.gather(targets, i))

    return indices.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
