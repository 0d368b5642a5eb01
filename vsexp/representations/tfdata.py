"""The one place representations meet TensorFlow: arrays -> batched, prefetched ``tf.data``."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def make_dataset(inputs: np.ndarray, labels: np.ndarray | None, *, num_classes: int, batch_size: int,
                 shuffle: bool = False, seed: int = 0) -> tf.data.Dataset:
    """Batches of (inputs, one-hot labels), shuffled per epoch when asked, prefetched.

    The arrays are held in memory once; shuffling, batching and prefetching run in TensorFlow's
    threads, so an epoch has no Python loop.
    """
    if labels is None:
        dataset = tf.data.Dataset.from_tensor_slices(inputs)
    else:
        one_hot = np.eye(num_classes, dtype=np.float32)[labels]
        dataset = tf.data.Dataset.from_tensor_slices((inputs, one_hot))
    if shuffle:
        dataset = dataset.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
