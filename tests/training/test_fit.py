"""fit_keras resumes after an interruption, even when the kill left the latest backup unreadable, and
keeps the best checkpoint, early stopping's patience and the history of the epochs before it."""

import keras
import numpy as np
import pytest

from vsexp.config import FitConfig
from vsexp.training.fit import fit_keras


class StopAfter(keras.callbacks.Callback):
    """Raises at the end of epoch ``epoch`` (0-based): training dies without its on_train_end cleanup."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def _model():
    inputs = keras.Input((6,), name="values")
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(8)(inputs)))


@pytest.mark.parametrize("broken", ["latest.weights.h5", "training_metadata.json"])
def test_resumes_from_the_previous_backup_when_the_latest_is_corrupt(tmp_path, broken):
    rng = np.random.default_rng(0)
    data = ({"values": rng.normal(size=(60, 6)).astype(np.float32)}, rng.integers(0, 3, 60))
    fit = FitConfig(epochs=6, batch_size=16, patience=0)
    with pytest.raises(KeyboardInterrupt):
        fit_keras(_model(), fit, data, data, 3, work_dir=tmp_path, callbacks=[StopAfter(2)])
    path = tmp_path / "backup" / broken
    assert path.exists() and path.with_name(broken + ".bkp").exists()
    path.write_bytes(path.read_bytes()[:5])  # what a kill -9 in the middle of the write leaves

    result = fit_keras(_model(), fit, data, data, 3, work_dir=tmp_path)

    # backups exist after epochs 0 (the .bkp copy) and 1 (latest, now corrupt; the failing epoch 2 never
    # reached BackupAndRestore, the last callback): training restarts after epoch 0 and runs 1-5
    assert result.resumed_at_epoch == 1
    assert result.epochs_run == 6 and len(result.history["val_loss"]) == 6  # the epoch before the resume counts


def test_an_interruption_in_the_middle_of_a_backup_leaves_the_previous_one_whole(tmp_path, monkeypatch):
    """SIGTERM (a KeyboardInterrupt in the CLI) can land while Keras writes the weights: the file so far
    is an HDF5 file without the variables, which loads as "expected 3 variables, received 0"."""
    import h5py

    rng = np.random.default_rng(2)
    data = ({"values": rng.normal(size=(60, 6)).astype(np.float32)}, rng.integers(0, 3, 60))
    fit = FitConfig(epochs=6, batch_size=16, patience=0)
    save_weights, backups = keras.Model.save_weights, []

    def interrupted_at_the_third_backup(model, filepath, overwrite=True):
        if "backup" in str(filepath):
            backups.append(filepath)
            if len(backups) == 3:
                h5py.File(filepath, "w").close()  # begun, not finished
                raise KeyboardInterrupt
        save_weights(model, filepath, overwrite=overwrite)

    monkeypatch.setattr(keras.Model, "save_weights", interrupted_at_the_third_backup)
    with pytest.raises(KeyboardInterrupt):
        fit_keras(_model(), fit, data, data, 3, work_dir=tmp_path)
    monkeypatch.setattr(keras.Model, "save_weights", save_weights)

    result = fit_keras(_model(), fit, data, data, 3, work_dir=tmp_path)

    assert result.resumed_at_epoch == 2  # the backups of epochs 0 and 1 were whole; epoch 2's never landed
    assert result.epochs_run == 6


class Sabotage(keras.callbacks.Callback):
    """Zeroes the model's weights after every batch: every epoch it is run in scores worse than chance."""

    def on_train_batch_end(self, batch, logs=None):
        for variable in self.model.trainable_variables:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))


def test_a_resume_keeps_the_best_checkpoint_and_the_patience_left(tmp_path):
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(90, 6)).astype(np.float32)
    labels = (inputs[:, 0] > 0).astype(int) + (inputs[:, 1] > 0)  # learnable: three classes from two signs
    data = ({"values": inputs}, labels)
    fit = FitConfig(epochs=20, batch_size=16, patience=3, learning_rate=0.01)
    with pytest.raises(KeyboardInterrupt):
        fit_keras(_model(), fit, data, data, 3, work_dir=tmp_path, callbacks=[StopAfter(4)])
    # epochs 0-3 were backed up; their best score is what a resumed run must beat
    result = fit_keras(_model(), fit, data, data, 3, work_dir=tmp_path, callbacks=[Sabotage()])

    assert result.resumed_at_epoch == 4
    assert result.best_epoch < 4  # the best epoch is one before the kill, not the first after the resume
    assert any(np.abs(w).sum() > 0 for w in result.model.get_weights())  # its weights, not the sabotaged ones
    assert result.epochs_run < fit.epochs  # early stopping went on counting and stopped the bad epochs
    assert len(result.history["val_macro_f1"]) == result.epochs_run
