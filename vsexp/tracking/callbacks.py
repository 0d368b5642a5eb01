"""Keras callbacks that log to MLflow; training receives them and never imports MLflow."""

from __future__ import annotations

from vsexp.console import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras imports it: TensorFlow's start-up banner stays off stderr

import keras
import mlflow


class MlflowEpochLogger(keras.callbacks.Callback):
    """Logs every epoch's training and validation metrics with the epoch as step."""

    def on_epoch_end(self, epoch, logs=None):
        if logs:
            mlflow.log_metrics({k: float(v) for k, v in logs.items()}, step=epoch)
