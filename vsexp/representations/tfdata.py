"""The one place representations meet TensorFlow: arrays -> batched, prefetched ``tf.data``."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def make_dataset(inputs: np.ndarray, labels: np.ndarray | None, *, num_classes: int, batch_size: int,
                 shuffle: bool = False, seed: int = 0) -> tf.data.Dataset:
    """Batches of (inputs, one-hot labels), reshuffled every epoch when asked, prefetched.

    The arrays become tensors once. What is shuffled and batched are row indices; each batch is
    then one ``gather`` per tensor, so a step costs a few ops instead of one per example, and an
    epoch has no Python loop.
    """
    tensors = (tf.constant(inputs),) if labels is None else (
        tf.constant(inputs), tf.constant(np.eye(num_classes, dtype=np.float32)[labels]))
    indices = tf.data.Dataset.range(len(inputs))
    if shuffle:
        indices = indices.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
    gather = (lambda i: tf.gather(tensors[0], i)) if labels is None else (
        lambda i: (tf.gather(tensors[0], i), tf.gather(tensors[1], i)))
    return indices.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
