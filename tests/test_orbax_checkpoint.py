"""keras.callbacks.OrbaxCheckpoint and loading its checkpoints, against Keras 3.15 on jax."""
import os
import sys

import numpy as np
import pytest

import mlcore
from mlcore.callbacks import OrbaxCheckpoint

pytest.importorskip("orbax.checkpoint")
pytestmark = pytest.mark.usefixtures("numpy_backend")

X = np.random.RandomState(0).rand(8, 3).astype("float32")
Y = X.sum(axis=1, keepdims=True)


def build(K):
    """The same functional model in Keras or mlcore: Dense, BatchNormalization (non-trainable state),
    Dense, compiled with Adam (slots) and a metric (metrics state)."""
    inputs = K.Input((3,))
    hidden = K.layers.BatchNormalization(name="bn")(K.layers.Dense(4, name="d1")(inputs))
    model = K.Model(inputs, K.layers.Dense(1, name="d2")(hidden), name="net")
    model.compile(optimizer=K.optimizers.Adam(name="adam"), loss="mse", metrics=["mae"])
    return model


def steps(directory):
    return sorted(int(name) for name in os.listdir(directory))


def assert_same_state(keras_model, mlcore_model):
    np.testing.assert_allclose(keras_model.predict(X, verbose=0), mlcore_model.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-6)
    keras_opt = {v.path: np.asarray(v) for v in keras_model.optimizer.variables}
    mlcore_opt = {v.path: v.numpy() for v in mlcore_model.optimizer.variables}
    assert sorted(keras_opt) == sorted(mlcore_opt)
    for path, value in keras_opt.items():
        np.testing.assert_allclose(value, mlcore_opt[path], rtol=1e-6, err_msg=path)


@pytest.fixture(scope="module")
def mlcore_checkpoint(tmp_path_factory):
    """An mlcore model trained 3 epochs with the default callback but max_to_keep=2."""
    directory = str(tmp_path_factory.mktemp("orbax") / "mlcore")
    model = build(mlcore)
    model.fit(X, Y, batch_size=4, epochs=3, verbose=0, callbacks=[OrbaxCheckpoint(directory, max_to_keep=2)])
    return model, directory


def test_epoch_steps_kept_and_finished(mlcore_checkpoint):
    _, directory = mlcore_checkpoint
    assert steps(directory) == [1, 2]       # epochs 0..2, max_to_keep=2; background saves all committed
    assert sorted(os.listdir(os.path.join(directory, "2"))) == [
        "_CHECKPOINT_METADATA", "commit_success.txt", "model_config", "pytree"]


def test_state_tree_matches_keras(keras):
    mine, theirs = build(mlcore), build(keras)
    for model in (mine, theirs):
        model.fit(X, Y, batch_size=8, epochs=1, verbose=0)

    def keys(tree):
        return {k: keys(v) for k, v in tree.items()} if isinstance(tree, dict) else None
    assert keys(mine.get_state_tree()) == keys(theirs.get_state_tree())
    state = theirs.get_state_tree(value_format="numpy_array")
    mine.set_state_tree(state)
    assert_same_state(theirs, mine)
    with pytest.raises(ValueError, match="Unknown variable name: weights"):
        mine.set_state_tree({"weights": {}})
    with pytest.raises(ValueError, match="value_format"):
        mine.get_state_tree(value_format="list")


def test_mlcore_checkpoint_loads_in_keras(keras, mlcore_checkpoint):
    model, directory = mlcore_checkpoint
    assert_same_state(keras.saving.load_model(directory), model)
    rebuilt = build(keras)
    rebuilt.optimizer.build(rebuilt.trainable_variables)    # Keras fills the slots an optimizer has
    rebuilt.load_weights(directory)     # the latest step
    assert_same_state(rebuilt, model)


def test_keras_checkpoint_loads_in_mlcore(keras, tmp_path):
    directory = str(tmp_path / "keras")
    model = build(keras)
    model.fit(X, Y, batch_size=4, epochs=2, verbose=0,
              callbacks=[keras.callbacks.OrbaxCheckpoint(directory, save_freq=3, max_to_keep=None)])
    assert steps(directory) == [3]      # 4 batches in all: the model has moved on since
    model.load_weights(directory)
    assert_same_state(model, mlcore.saving.load_model(directory))
    rebuilt = build(mlcore)
    rebuilt.load_weights(os.path.join(directory, "3"))      # one step's folder, optimizer state included
    assert_same_state(model, rebuilt)


def test_batch_steps_count_on_from_optimizer_iterations(tmp_path):
    directory = str(tmp_path / "ckpt")
    model = build(mlcore)
    model.fit(X, Y, batch_size=2, epochs=2, verbose=0,
              callbacks=[OrbaxCheckpoint(directory, save_freq=3, max_to_keep=None)])
    assert steps(directory) == [3, 6]       # 4 batches an epoch, counted across epochs
    model.fit(X, Y, batch_size=4, epochs=2, verbose=0, callbacks=[
        OrbaxCheckpoint(directory, save_freq=2, max_to_keep=None, save_on_background=False,
                        save_weights_only=True)])
    assert steps(directory) == [3, 6, 10, 12]      # the optimizer had run 8 steps
    with pytest.raises(ValueError, match="does not contain model configuration"):
        mlcore.saving.load_model(directory)
    rebuilt = build(mlcore)
    rebuilt.load_weights(directory)
    np.testing.assert_allclose(rebuilt.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    assert rebuilt.optimizer.iterations.numpy() == 0        # weights only


def test_save_best_only_follows_monitor_mode_and_threshold(tmp_path):
    model = build(mlcore)
    callback = OrbaxCheckpoint(str(tmp_path / "best"), monitor="val_mae", save_best_only=True,
                               initial_value_threshold=3.0, max_to_keep=None)
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate([4.0, 2.0, 2.5, 1.0]):
        callback.on_epoch_end(epoch, {"val_mae": value})
    with pytest.warns(UserWarning, match="Can save best model only with val_mae available, skipping save"):
        callback.on_epoch_end(4, {"loss": 0.1})
    callback.on_train_end()
    assert steps(tmp_path / "best") == [1, 3]
    assert callback.best == 1.0

    maximize = OrbaxCheckpoint(str(tmp_path / "max"), monitor="score", mode="max", save_best_only=True,
                               save_freq=1, max_to_keep=None, save_on_background=False)
    maximize.set_model(model)       # the model has run no step yet
    for batch, value in enumerate([0.5, 0.4, 0.9]):
        maximize.on_train_batch_end(batch, {"score": value})
    maximize.on_train_end()
    assert steps(tmp_path / "max") == [1, 3]


def test_arguments_are_checked_as_keras_checks_them(keras, tmp_path):
    for library in (keras, mlcore):
        with pytest.raises(ValueError, match="Unrecognized save_freq: often"):
            library.callbacks.OrbaxCheckpoint(str(tmp_path / "a"), save_freq="often")
    with pytest.raises(ValueError, match="max_to_keep"):
        OrbaxCheckpoint(str(tmp_path / "b"), max_to_keep=0)
    callback = OrbaxCheckpoint(str(tmp_path / "c"), monitor="mystery", save_best_only=True)
    callback.set_model(build(mlcore))
    with pytest.raises(ValueError, match="monitor=mystery"):
        callback.on_epoch_end(0, {"mystery": 1.0})


def test_without_orbax_the_callback_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "orbax.checkpoint", None)
    with pytest.raises(ImportError, match="OrbaxCheckpoint requires the 'orbax-checkpoint' package"):
        OrbaxCheckpoint(str(tmp_path))


def test_loading_a_folder_without_steps_names_it(tmp_path):
    (tmp_path / "empty" / "0.orbax-checkpoint-tmp").mkdir(parents=True)
    with pytest.raises(ValueError, match="No valid checkpoints found in .*empty"):
        mlcore.saving.load_model(str(tmp_path / "empty"))
