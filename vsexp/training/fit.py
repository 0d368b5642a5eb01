"""One training path for every Keras model: class weights, early stopping and checkpoints on a
validation metric, resumable epochs, GPU mixed precision, seeds; callbacks are injected."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from vsexp.config import FitConfig
from vsexp.representations.tfdata import make_dataset
from vsexp.training.metrics import balanced_class_weights

log = logging.getLogger(__name__)

MONITOR_MODE = {"val_macro_f1": "max", "val_accuracy": "max", "val_loss": "min"}


@dataclasses.dataclass
class FitResult:
    model: keras.Model
    history: dict[str, list[float]]
    epochs_run: int
    best_epoch: int
    seconds_per_epoch: float


def gpu_available() -> bool:
    return bool(tf.config.list_physical_devices("GPU"))


def configure_precision(fit: FitConfig) -> str:
    """Turn on mixed precision on GPUs (``auto``) or when asked; returns the policy name."""
    policy = "mixed_float16" if fit.mixed_precision == "on" or (fit.mixed_precision == "auto" and gpu_available()) else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = tf.timestamp()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(float(tf.timestamp() - self._start))


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' BackupAndRestore, keeping the previous epoch's copy (``double_checkpoint``) and
    falling back to it when a kill -9 in the middle of a write left the latest weights *or* the
    epoch file unreadable (Keras falls back on an OSError only; a truncated JSON raises JSONDecodeError)."""

    def __init__(self, backup_dir: str):
        super().__init__(backup_dir, double_checkpoint=True)

    def _load_model(self):
        try:
            super()._load_model()
        except json.JSONDecodeError as error:
            raise OSError(f"unreadable backup epoch file {self._training_metadata_path}: {error}") from error


def fit_keras(model: keras.Model, fit: FitConfig, train: tuple[np.ndarray, np.ndarray],
              validation: tuple[np.ndarray, np.ndarray] | None, num_classes: int, *, work_dir: Path,
              callbacks: list[keras.callbacks.Callback] = ()) -> FitResult:
    """Compile and fit ``model``; returns it with the best validation weights restored.

    Args:
        train, validation: (inputs [n, ...], class indices [n]). Without validation data (a final
            refit on train + validation) the model trains for exactly ``fit.epochs`` epochs.
        work_dir: holds the best checkpoint and the BackupAndRestore state; re-running with the
            same folder after an interruption resumes at the last finished epoch.
        callbacks: extra callbacks (e.g. MLflow logging, Optuna pruning).
    """
    keras.utils.set_random_seed(fit.seed)
    model.compile(
        optimizer=keras.optimizers.Adam(fit.learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy", keras.metrics.F1Score(average="macro", name="macro_f1")],
    )
    train_data = make_dataset(*train, num_classes=num_classes, batch_size=fit.batch_size, shuffle=True, seed=fit.seed)
    validation_data = None if validation is None else make_dataset(
        *validation, num_classes=num_classes, batch_size=max(fit.batch_size, 256))
    work_dir.mkdir(parents=True, exist_ok=True)
    best_path = work_dir / "best.weights.h5"
    mode = MONITOR_MODE[fit.monitor]
    timer = EpochTimer()
    all_callbacks = [timer, *callbacks]
    if validation is not None:
        all_callbacks.append(keras.callbacks.ModelCheckpoint(str(best_path), monitor=fit.monitor, mode=mode,
                                                             save_best_only=True, save_weights_only=True))
        if fit.patience > 0:
            all_callbacks.append(keras.callbacks.EarlyStopping(monitor=fit.monitor, mode=mode, patience=fit.patience))
    # last: an epoch is backed up only after every other callback (logging, checkpoint) has seen it,
    # so a kill between them repeats an epoch's log on resume rather than losing it. Keras writes the
    # backup in place; a kill -9 mid-write left it unreadable in CI ("bad object header version number")
    all_callbacks.append(BackupAndRestore(str(work_dir / "backup")))
    class_weight = balanced_class_weights(train[1], num_classes) if fit.class_weights == "balanced" else None
    # the tf.data pipeline shuffles itself (shuffle=False stops Keras warning that it would not);
    # a progress bar per epoch on a terminal, one line per epoch in logs
    history = model.fit(train_data, validation_data=validation_data, epochs=fit.epochs, class_weight=class_weight,
                        callbacks=all_callbacks, shuffle=False, verbose=1 if sys.stdout.isatty() else 2)
    if validation is not None and best_path.exists():
        model.load_weights(str(best_path))
    epochs_run = len(history.history.get("loss", []))
    values = history.history.get(fit.monitor, [])
    best_epoch = int(np.argmax(values) if mode == "max" else np.argmin(values)) if values else epochs_run - 1
    return FitResult(model, {k: [float(v) for v in vs] for k, vs in history.history.items()}, epochs_run,
                     best_epoch, float(np.mean(timer.seconds)) if timer.seconds else 0.0)
