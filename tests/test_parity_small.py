"""Small places where mlcore differed from Keras 3.15, each compared with real Keras (jax) in the same
test: what the IoU metrics' update_state returns, InputLayer's dtype and dtype policy for non-float
inputs, Discretization.adapt's approximate quantiles, and the callbacks' docstring examples."""
import os

import numpy as np
import pytest

import mlcore

IOU_CASES = [
    ("IoU", dict(num_classes=3, target_class_ids=[0, 2]), [0, 1, 2, 2, 1], [0, 2, 2, 1, 1]),
    ("MeanIoU", dict(num_classes=3), [0, 1, 2, 2, 1], [0, 2, 2, 1, 1]),
    ("BinaryIoU", dict(target_class_ids=[0, 1], threshold=0.3), [0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7]),
    ("OneHotIoU", dict(num_classes=3, target_class_ids=[1]),
     np.eye(3)[[0, 1, 2, 1]], [[0.2, 0.3, 0.5], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]]),
    ("OneHotMeanIoU", dict(num_classes=3),
     np.eye(3)[[0, 1, 2, 1]], [[0.2, 0.3, 0.5], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]]),
]


@pytest.mark.parametrize("name, kwargs, y_true, y_pred", IOU_CASES, ids=[c[0] for c in IOU_CASES])
def test_iou_update_state_returns_the_confusion_matrix_as_keras(keras, name, kwargs, y_true, y_pred):
    returned = []
    for module in (keras, mlcore):
        metric = getattr(module.metrics, name)(**kwargs)
        metric.update_state(np.asarray(y_true), np.asarray(y_pred, "float32"))
        second = metric.update_state(np.asarray(y_true), np.asarray(y_pred, "float32"),
                                     sample_weight=np.arange(1, len(y_true) + 1))
        returned.append(np.asarray(second))
    np.testing.assert_array_equal(returned[1], returned[0])
    assert returned[1].dtype == returned[0].dtype


def test_other_metrics_update_state_returns_none_as_keras(keras):
    for module in (keras, mlcore):
        assert module.metrics.Mean().update_state(np.array([1.0, 2.0])) is None
        assert module.metrics.AUC().update_state(np.array([0.0, 1.0]), np.array([0.2, 0.9])) is None


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "float16", "float64", None])
def test_input_layer_dtype_and_policy_as_keras(keras, dtype):
    def described(module):
        layer = module.layers.InputLayer(shape=(3,), dtype=dtype)
        return (layer.dtype, layer.dtype_policy.name, layer.compute_dtype, layer.variable_dtype,
                layer.get_config()["dtype"])
    assert described(mlcore) == described(keras)


def test_input_of_int_dtype_keeps_its_dtype_in_a_model():
    model = mlcore.Sequential([mlcore.Input((3,), dtype="int32"), mlcore.layers.Embedding(10, 2)])
    assert model.inputs[0].dtype == "int32"
    assert model.predict(np.array([[1, 2, 3]]), verbose=0).shape == (1, 3, 2)


_rng = np.random.default_rng(0)
DISCRETIZATION_CASES = {
    "normal": (_rng.normal(size=1000), 4, 0.01),
    "uniform 2-d": (_rng.uniform(size=(250, 3)), 5, 0.01),
    "docstring": (np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]]), 3, 0.01),
    "fewer values than bins": (np.array([3.0, 1.0, 2.0, 5.0]), 10, 0.01),
    "integers, coarse epsilon": (_rng.integers(0, 20, size=5000), 7, 0.05),
    "batches": ([_rng.exponential(size=300), _rng.exponential(size=77), _rng.normal(size=500)], 6, 0.02),
}


@pytest.mark.parametrize("data, num_bins, epsilon", DISCRETIZATION_CASES.values(), ids=list(DISCRETIZATION_CASES))
def test_discretization_adapt_gives_keras_boundaries(keras, data, num_bins, epsilon):
    expected = keras.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    expected.reset_state()     # Keras's adapt() needs TensorFlow here; it is these three steps
    for batch in [data] if isinstance(data, np.ndarray) else data:
        expected.update_state(batch)
    expected.finalize_state()
    layer = mlcore.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    layer.adapt(data)
    assert layer.bin_boundaries == expected.bin_boundaries


def test_discretization_adapt_refuses_empty_data():
    with pytest.raises(ValueError, match="Discretization.*no data"):
        mlcore.layers.Discretization(num_bins=3).adapt(np.zeros((0, 2)))


def _callback_examples(module, directory):
    """Keras's callbacks' docstring examples, run on `module`: what each leaves (history lengths, learning
    rates, files).  The data are deterministic, and the numbers compared depend on no initial weights."""
    x, y = np.arange(100).reshape(5, 20).astype("float32"), np.zeros(5)

    def model():
        built = module.models.Sequential([module.layers.Dense(10)])
        built.compile(module.optimizers.SGD(), loss="mse")
        return built

    results = {}
    history = model().fit(x, y, epochs=10, batch_size=1, verbose=0,
                          callbacks=[module.callbacks.EarlyStopping(monitor="loss", patience=3)])
    results["EarlyStopping epochs"] = len(history.history["loss"])

    class Interrupting(module.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 4:
                raise RuntimeError("Interrupting!")
    backup_dir = os.path.join(directory, "backup")
    backup = module.callbacks.BackupAndRestore(backup_dir=backup_dir)
    interrupted = model()
    interrupted.build(input_shape=(None, 20))
    with pytest.raises(RuntimeError, match="Interrupting"):
        interrupted.fit(x, y, epochs=10, batch_size=1, callbacks=[backup, Interrupting()], verbose=0)
    results["BackupAndRestore files"] = sorted(os.listdir(backup_dir))
    history = interrupted.fit(x, y, epochs=10, batch_size=1, callbacks=[backup], verbose=0)
    results["BackupAndRestore epochs"] = len(history.history["loss"])
    results["BackupAndRestore cleans up"] = not os.path.exists(backup_dir)

    scheduled = model()
    results["initial learning rate"] = round(float(scheduled.optimizer.learning_rate), 5)
    history = scheduled.fit(x, y, epochs=15, batch_size=1, verbose=0, callbacks=[module.callbacks.LearningRateScheduler(
        lambda epoch, lr: lr if epoch < 10 else lr * float(np.exp(-0.1)))])
    results["scheduled learning rate"] = round(float(scheduled.optimizer.learning_rate), 5)
    results["scheduled history"] = np.round(history.history["learning_rate"], 6).tolist()

    features, labels = np.linspace(-1, 1, 96).reshape(24, 4).astype("float32"), np.arange(24) % 3

    def classifier():
        built = module.Sequential([module.Input((4,)), module.layers.Dense(3, activation="softmax")])
        built.compile(optimizer=module.optimizers.SGD(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return built
    history = classifier().fit(features, labels, validation_data=(features, labels), epochs=10, verbose=0,
                               callbacks=[module.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=2,
                                                                             min_lr=0.001, min_delta=10.0)])
    results["ReduceLROnPlateau history"] = np.round(history.history["learning_rate"], 6).tolist()

    for name, kwargs in (("checkpoint.model.keras", {}), ("checkpoint.weights.h5", {"save_weights_only": True})):
        trained = classifier()
        path = os.path.join(directory, "ckpt", name)
        trained.fit(features, labels, validation_data=(features, labels), epochs=3, verbose=0,
                    callbacks=[module.callbacks.ModelCheckpoint(filepath=path, monitor="val_accuracy", mode="max",
                                                                save_best_only=True, **kwargs)])
        if kwargs:
            trained.load_weights(path)
        else:
            results["ModelCheckpoint model layers"] = len(module.models.load_model(path).layers)
    results["ModelCheckpoint files"] = sorted(os.listdir(os.path.join(directory, "ckpt")))
    classifier().fit(features, labels, epochs=3, verbose=0, callbacks=[module.callbacks.ModelCheckpoint(
        os.path.join(directory, "every", "w.{epoch:02d}.weights.h5"), save_weights_only=True)])
    results["ModelCheckpoint per epoch"] = sorted(os.listdir(os.path.join(directory, "every")))

    log = os.path.join(directory, "training.log")
    classifier().fit(features, labels, validation_data=(features, labels), epochs=3, verbose=0,
                     callbacks=[module.callbacks.CSVLogger(log)])
    classifier().fit(features, labels, epochs=2, verbose=0, callbacks=[module.callbacks.CSVLogger(log, ";", True)])
    rows = open(log).read().splitlines()
    results["CSVLogger rows"] = [row.replace(";", ",").split(",")[0] for row in rows]
    results["CSVLogger header"] = rows[0]

    batches, epochs = [], []
    classifier().fit(features, labels, epochs=2, batch_size=10, verbose=0, callbacks=[module.callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: batches.append(batch),
        on_epoch_end=lambda epoch, logs: epochs.append((epoch, sorted(logs))))])
    results["LambdaCallback"] = (batches, epochs)

    poisoned = features.copy()
    poisoned[5] = np.nan
    history = classifier().fit(poisoned, labels, epochs=5, batch_size=4, shuffle=False, verbose=0,
                               callbacks=[module.callbacks.TerminateOnNaN()])
    results["TerminateOnNaN epochs"] = len(history.history["loss"])
    with pytest.raises(RuntimeError, match="NaN|nan|Invalid loss"):
        classifier().fit(poisoned, labels, epochs=5, batch_size=4, verbose=0,
                         callbacks=[module.callbacks.TerminateOnNaN(raise_error=True)])

    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server at http://127.0.0.1:9"):
        history = classifier().fit(features, labels, epochs=2, verbose=0,
                                   callbacks=[module.callbacks.RemoteMonitor(root="http://127.0.0.1:9")])
    results["RemoteMonitor epochs"] = len(history.history["loss"])
    return results


def test_callback_docstring_examples_as_keras(keras, tmp_path, capsys):
    expected = _callback_examples(keras, str(tmp_path / "keras"))
    printed = capsys.readouterr().out
    got = _callback_examples(mlcore, str(tmp_path / "mlcore"))
    assert got == expected
    assert capsys.readouterr().out == printed     # TerminateOnNaN's "Batch 1: Invalid loss, terminating training"


def test_scatter_update_reduction_in_any_case_as_keras(keras):
    args = (np.zeros(4, "float32"), [[0], [0], [2]], np.array([1.0, 2.0, 5.0], "float32"))
    expected = np.asarray(keras.ops.scatter_update(*args, reduction="ADD"))
    np.testing.assert_array_equal(mlcore.ops.convert_to_numpy(mlcore.ops.scatter_update(*args, reduction="ADD")),
                                  expected)


def test_scatter_update_refuses_an_unknown_reduction_by_name():
    with pytest.raises(ValueError, match="scatter_update: invalid reduction 'mean'"):
        mlcore.ops.scatter_update(np.zeros(4), [[0]], np.ones(1), reduction="mean")
