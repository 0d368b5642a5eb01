"""One training path for every Keras model: class weights, early stopping and checkpoints on a
validation metric, resumable epochs, GPU mixed precision, seeds; callbacks are injected."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import sys
from pathlib import Path

from vsexp.console import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras imports it: TensorFlow's start-up banner stays off stderr

import keras
import numpy as np
import tensorflow as tf

from vsexp.config import FitConfig
from vsexp.dataset.build import replace_atomically
from vsexp.representations.tfdata import make_dataset
from vsexp.training.metrics import balanced_class_weights

log = logging.getLogger(__name__)

MONITOR_MODE = {"val_macro_f1": "max", "val_accuracy": "max", "val_loss": "min"}


@dataclasses.dataclass
class FitResult:
    """``history``, ``epochs_run`` and ``best_epoch`` (0-based) cover every epoch of the training,
    including those before a resume; ``resumed_at_epoch`` is the epoch it resumed at (0: not resumed)."""

    model: keras.Model
    history: dict[str, list[float]]
    epochs_run: int
    best_epoch: int
    seconds_per_epoch: float
    resumed_at_epoch: int = 0


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
    """Keras' BackupAndRestore with each backup written atomically (to a temporary file, then
    renamed: an interruption in the middle of a write leaves the previous backup whole; Keras writes
    in place, and a SIGTERM mid-write left weights that load as "0 variables"), keeping the previous
    epoch's copy (``double_checkpoint``) and falling back to it when the latest weights or epoch file
    are unreadable anyway (Keras falls back on an OSError only; a truncated JSON raises
    JSONDecodeError, truncated weights a ValueError)."""

    def __init__(self, backup_dir: str):
        super().__init__(backup_dir, double_checkpoint=True)

    def _save_model(self):
        Path(self.backup_dir).mkdir(parents=True, exist_ok=True)
        weights, metadata = Path(self._weights_path), Path(self._training_metadata_path)
        for latest, previous in ((weights, self._prev_weights_path), (metadata, self._prev_training_metadata_path)):
            if latest.exists():
                shutil.copyfile(latest, previous)
        replace_atomically(weights, lambda target: self.model.save_weights(filepath=str(target), overwrite=True))
        epoch = json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen})
        replace_atomically(metadata, lambda target: target.write_text(epoch))

    def _load_model(self):
        try:
            super()._load_model()
        except (json.JSONDecodeError, ValueError) as error:
            raise OSError(f"unreadable backup in {self.backup_dir}: {error}") from error


class BestCheckpoint(keras.callbacks.ModelCheckpoint):
    """Keras' ModelCheckpoint of the best weights only, written atomically like the backup: an
    interruption in the middle of a write leaves the previous best whole."""

    def __init__(self, path: Path, monitor: str, mode: str):
        super().__init__(str(path), monitor=monitor, mode=mode, save_best_only=True, save_weights_only=True)
        self.path = path

    def _save_model(self, epoch, batch, logs):
        if self._should_save_model(epoch, batch, logs, str(self.path)):  # a new best (it also updates ``best``)
            replace_atomically(self.path, lambda target: self.model.save_weights(str(target), overwrite=True))


class ResumableState(keras.callbacks.Callback):
    """What Keras' BackupAndRestore does not keep: the best checkpoint's score, early stopping's
    state and the history of the epochs before an interruption.

    After each epoch (before BackupAndRestore backs it up: this callback comes earlier in the list)
    ``path`` is rewritten (atomically: a kill mid-write leaves the previous file) with the history so
    far and the checkpoint and early-stopping state keyed by the epoch a resume would start at; only
    the last two are kept, as BackupAndRestore resumes from its latest backup or, when that is
    unreadable, the one before. When training starts at epoch ``E`` > 0, the state for ``E`` and the
    first ``E`` epochs of history are put back, so the first epoch after a resume does not overwrite
    a better checkpoint, and patience counts on.
    """

    def __init__(self, path: Path, checkpoint: keras.callbacks.ModelCheckpoint | None,
                 early_stopping: keras.callbacks.EarlyStopping | None):
        super().__init__()
        self.path, self.checkpoint, self.early_stopping = path, checkpoint, early_stopping
        saved = json.loads(path.read_text()) if path.exists() else {"history": {}, "states": {}}
        self.saved_history, self.states = saved["history"], saved["states"]
        self.history: dict[str, list[float]] = {}
        self.resumed_at = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.resumed_at is not None:
            return
        self.resumed_at = epoch
        state = self.states.get(str(epoch)) if epoch > 0 else None
        if state is None:
            if epoch > 0:
                log.warning("resuming at epoch %d without the state of the epochs before it", epoch)
            self.states = {}
            return
        self.history = {k: v[:epoch] for k, v in self.saved_history.items()}
        if self.checkpoint is not None and state["checkpoint_best"] is not None:
            self.checkpoint.best = state["checkpoint_best"]
        if self.early_stopping is not None and state["early_stopping"] is not None:
            for name, value in state["early_stopping"].items():
                setattr(self.early_stopping, name, value)
        log.info("resumed at epoch %d with the best %s so far", epoch + 1, state["checkpoint_best"])

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        stopping = self.early_stopping
        self.states = {k: v for k, v in self.states.items() if k == str(epoch)}  # the previous epoch's, kept
        self.states[str(epoch + 1)] = {
            "checkpoint_best": None if self.checkpoint is None else float(self.checkpoint.best),
            "early_stopping": None if stopping is None else {
                "wait": int(stopping.wait), "best": float(stopping.best), "best_epoch": int(stopping.best_epoch)},
        }
        state = json.dumps({"history": self.history, "states": self.states})
        replace_atomically(self.path, lambda target: target.write_text(state))

    def on_train_end(self, logs=None):  # finished: nothing to resume (as BackupAndRestore drops its backup)
        self.path.unlink(missing_ok=True)


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
    checkpoint = early_stopping = None
    if validation is not None:
        checkpoint = BestCheckpoint(best_path, monitor=fit.monitor, mode=mode)
        if fit.patience > 0:
            early_stopping = keras.callbacks.EarlyStopping(monitor=fit.monitor, mode=mode, patience=fit.patience)
    state = ResumableState(work_dir / "fit_state.json", checkpoint, early_stopping)
    # BackupAndRestore last: an epoch is backed up only after every other callback (logging,
    # checkpoint, the resumable state) has seen it, so a kill between them repeats an epoch's log on
    # resume rather than losing it. Both it and the best checkpoint write atomically.
    all_callbacks = [timer, *callbacks, *filter(None, (checkpoint, early_stopping)), state,
                     BackupAndRestore(str(work_dir / "backup"))]
    class_weight = balanced_class_weights(train[1], num_classes) if fit.class_weights == "balanced" else None
    # the tf.data pipeline shuffles itself (shuffle=False stops Keras warning that it would not);
    # a progress bar per epoch on a terminal, one line per epoch in logs
    history = model.fit(train_data, validation_data=validation_data, epochs=fit.epochs, class_weight=class_weight,
                        callbacks=all_callbacks, shuffle=False, verbose=1 if sys.stdout.isatty() else 2)
    if validation is not None and best_path.exists():
        model.load_weights(str(best_path))
    full_history = state.history or {k: [float(v) for v in vs] for k, vs in history.history.items()}
    epochs_run = len(full_history.get("loss", []))
    values = full_history.get(fit.monitor, [])
    best_epoch = int(np.argmax(values) if mode == "max" else np.argmin(values)) if values else epochs_run - 1
    return FitResult(model, full_history, epochs_run, best_epoch,
                     float(np.mean(timer.seconds)) if timer.seconds else 0.0, state.resumed_at or 0)
