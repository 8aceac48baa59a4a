"""BackupAndRestore: a fit() interrupted after some epochs, run again with the same backup_dir,
ends with exactly the weights of an uninterrupted fit (weights, momentum and epoch restored)."""
import numpy as np
import pytest

import mlcore
from mlcore import callbacks, layers, optimizers

pytestmark = pytest.mark.usefixtures("numpy_backend")


class InterruptAt(callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


def _model(weights=None):
    model = mlcore.Sequential([layers.Input((3,)), layers.Dense(4, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="mse")
    if weights is not None:
        model.set_weights(weights)
    return model


def test_an_interrupted_fit_resumes_where_it_stopped(tmp_path, rng):
    x, y = rng.normal(size=(32, 3)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    start = _model().get_weights()
    straight = _model(start)
    straight.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0)

    backup = tmp_path / "backup"
    model = _model(start)
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(backup), InterruptAt(3)])
    assert (backup / "latest.weights.h5").exists()
    resumed = _model(start)                          # a new process would start from scratch
    history = resumed.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
                          callbacks=[callbacks.BackupAndRestore(backup)])
    assert len(history.history["loss"]) == 2         # epochs 4 and 5 only
    for got, expected in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert not backup.exists()                       # a completed fit deletes the backup


def test_arguments_are_checked_as_keras_does():
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore("/tmp/b", save_freq="batch")
