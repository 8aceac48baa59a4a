"""Small Keras 3 names: losses.Circle / circle, the focal crossentropies in metrics, the initializers'
other class names, backend.get_uid, utils.standardize_dtype, interactive logging, the config's caps on
epochs and steps, and keras.preprocessing's sequence and timeseries_dataset_from_array; each against
Keras 3."""
import logging
import warnings

import numpy as np
import pytest

import mlcore
import mlcore.backend as K
from mlcore import config


@pytest.fixture
def restore_config():
    saved = dict(config._overrides)
    yield
    config._overrides.clear()
    config._overrides.update(saved)


@pytest.fixture
def embeddings(rng):
    e = rng.normal(size=(8, 5)).astype("float32")
    return np.array([0, 1, 0, 2, 1, 3, 0, 1]), e / np.linalg.norm(e, axis=1, keepdims=True)


def test_circle_loss_matches_keras(keras, float32_jax, embeddings):
    labels, e = embeddings
    np.testing.assert_allclose(mlcore.losses.circle(labels, e), keras.losses.circle(labels, e), rtol=1e-5)
    np.testing.assert_allclose(mlcore.losses.circle(labels, e, remove_diagonal=False, gamma=10, margin=0.2),
                               keras.losses.circle(labels, e, remove_diagonal=False, gamma=10, margin=0.2),
                               rtol=1e-5)
    references = np.roll(e, 3, axis=0)
    np.testing.assert_allclose(mlcore.losses.circle(labels, e, ref_labels=labels[::-1], ref_embeddings=references),
                               keras.losses.circle(labels, e, ref_labels=labels[::-1], ref_embeddings=references),
                               rtol=1e-5)
    for reduction in ("sum_over_batch_size", "sum"):    # samples of loss 0 (no positive pair) leave the mean
        np.testing.assert_allclose(mlcore.losses.Circle(reduction=reduction)(labels, e),
                                   keras.losses.Circle(reduction=reduction)(labels, e), rtol=1e-5)
    assert mlcore.losses.Circle(gamma=3.0).get_config() == keras.losses.Circle(gamma=3.0).get_config()
    assert isinstance(mlcore.losses.get("Circle"), mlcore.losses.Circle)


def test_circle_loss_gradient_is_finite_and_trains(embeddings, numeric_grad):
    labels, e = embeddings
    x = mlcore.tensor.matrix()
    loss = mlcore.losses.circle(labels, x, gamma=4).sum()
    value, gradient = mlcore.function([x], loss, backend="numpy"), mlcore.function([x], mlcore.grad(loss, x),
                                                                                 backend="numpy")
    expected = numeric_grad(lambda v: value(v.astype("float32")), [e.astype("float64")], 0, eps=1e-3)
    np.testing.assert_allclose(gradient(e), expected, rtol=2e-2, atol=2e-3)


def test_focal_crossentropies_are_metrics_functions(keras, float32_jax, rng):
    y = (rng.uniform(size=(6, 3)) > 0.5).astype("float32")
    p = rng.uniform(0.05, 0.95, size=(6, 3)).astype("float32")
    for name in ("binary_focal_crossentropy", "categorical_focal_crossentropy"):
        assert getattr(mlcore.metrics, name) is getattr(mlcore.losses, name)
        np.testing.assert_allclose(getattr(mlcore.metrics, name)(y, p), getattr(keras.metrics, name)(y, p),
                                   rtol=1e-5)


def test_initializer_class_aliases(keras):
    assert mlcore.initializers.IdentityInitializer is mlcore.initializers.Identity
    assert mlcore.initializers.OrthogonalInitializer is mlcore.initializers.Orthogonal
    np.testing.assert_allclose(mlcore.initializers.IdentityInitializer(gain=2.0)((3, 4)),
                               keras.initializers.IdentityInitializer(gain=2.0)((3, 4)))
    q = np.asarray(mlcore.initializers.OrthogonalInitializer(gain=1.5, seed=1)((5, 3)))
    np.testing.assert_allclose(q.T @ q, 2.25 * np.eye(3), atol=1e-5)


def test_get_uid_and_standardize_dtype(keras):
    K.clear_session()
    keras.backend.clear_session()
    assert [K.get_uid("x"), K.get_uid("x"), K.get_uid()] == [keras.backend.get_uid("x"),
                                                             keras.backend.get_uid("x"), keras.backend.get_uid()]
    mlcore.layers.Dense(2)
    keras.layers.Dense(2)
    assert K.get_uid("dense") == keras.backend.get_uid("dense") == 2
    K.clear_session()
    keras.backend.clear_session()
    assert K.get_uid("dense") == keras.backend.get_uid("dense") == 1
    for dtype in ("float32", np.float64, np.dtype("int32"), bool, None, "uint8"):
        assert mlcore.utils.standardize_dtype(dtype) == keras.utils.standardize_dtype(dtype)


def small_models(keras):
    x = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    ours = mlcore.Sequential([mlcore.layers.Input((3,)), mlcore.layers.Dense(1)])
    theirs = keras.Sequential([keras.layers.Input((3,)), keras.layers.Dense(1)])
    ours.compile("sgd", "mse")
    theirs.compile("sgd", "mse")
    return x, y, ours, theirs


def batches_per_epoch(model, lib, x, y, **kwargs):
    counts = []
    counter = lib.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: counts.append(0),
                                           on_train_batch_end=lambda batch, logs: counts.__setitem__(-1, counts[-1] + 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, batch_size=4, callbacks=[counter], verbose=0, **kwargs)
    return counts, sorted(str(w.message) for w in caught if "Limiting" in str(w.message))


def test_max_epochs_and_steps_cap_fit_as_in_keras(keras, float32_jax, restore_config):
    x, y, ours, theirs = small_models(keras)
    try:
        for lib in (config, keras.config):
            lib.set_max_epochs(2)
            lib.set_max_steps_per_epoch(3)
        assert config.max_epochs() == keras.config.max_epochs() == 2
        assert config.max_steps_per_epoch() == keras.config.max_steps_per_epoch() == 3
        ours_run = batches_per_epoch(ours, mlcore, x, y, epochs=5)
        assert ours_run == batches_per_epoch(theirs, keras, x, y, epochs=5) == (
            [3, 3], ["Limiting epochs to 2", "Limiting steps_per_epoch to 3"])
        assert len(ours.predict(x, batch_size=4, verbose=0)) == len(theirs.predict(x, batch_size=4, verbose=0)) == 12
    finally:
        keras.config.set_max_epochs(None)
        keras.config.set_max_steps_per_epoch(None)
    config.set_max_epochs(None)
    config.set_max_steps_per_epoch(None)
    assert batches_per_epoch(ours, mlcore, x, y, epochs=2) == ([10, 10], [])


def test_interactive_logging_switch(keras, capsys, caplog, restore_config):
    """Off, the progress bar and the epoch lines go to the "mlcore" logger, not stdout (Keras's
    documented behaviour: to absl.logging); the switch reads as Keras's does."""
    x, y, ours, _ = small_models(keras)
    try:
        config.disable_interactive_logging()
        keras.config.disable_interactive_logging()
        assert config.is_interactive_logging_enabled() is keras.config.is_interactive_logging_enabled() is False
        with caplog.at_level(logging.INFO, logger="mlcore"):
            ours.fit(x, y, epochs=2, verbose=1)
        assert capsys.readouterr().out == ""
        messages = " ".join(record.getMessage() for record in caplog.records)
        assert "Epoch 2/2" in messages and "2/2" in messages
    finally:
        keras.config.enable_interactive_logging()
    mlcore.utils.enable_interactive_logging()
    assert mlcore.utils.is_interactive_logging_enabled() is keras.config.is_interactive_logging_enabled() is True
    ours.fit(x, y, epochs=2, verbose=1)
    assert "Epoch 2/2" in capsys.readouterr().out


def test_preprocessing_sequence_and_timeseries(keras):
    import mlcore.preprocessing as preprocessing
    sequences = [[1, 2, 3], [4], [5, 6]]
    np.testing.assert_array_equal(preprocessing.sequence.pad_sequences(sequences, maxlen=2, padding="post"),
                                  keras.preprocessing.sequence.pad_sequences(sequences, maxlen=2, padding="post"))
    assert preprocessing.timeseries_dataset_from_array is mlcore.utils.timeseries_dataset_from_array
    assert {"sequence", "timeseries_dataset_from_array"} <= set(preprocessing.__all__)


def test_result_type_is_keras_lattice(keras):
    """Every mix of one to three dtypes and weak Python types promotes as in Keras; Keras's jax backend
    then squashes 64-bit results to 32 bits, which mlcore (whose tensors keep 64 bits) does not."""
    import itertools
    squash = {"int64": "int32", "uint64": "uint32", "float64": "float32", "complex128": "complex64"}
    dtypes = ["bool", "uint8", "uint16", "uint32", "int8", "int16", "int32", "bfloat16", "float16", "float32",
              float, int, None]
    for count in (1, 2, 3):
        for combo in itertools.product(dtypes, repeat=count):
            ours = K.result_type(*combo)
            assert squash.get(ours, ours) == keras.backend.result_type(*combo), combo
    assert K.result_type() == keras.backend.result_type() == "float32"
    assert (K.result_type("float64"), K.result_type("int64", "float16"), K.result_type("uint32", "int8")) == (
        "float64", "float16", "int64")
    with pytest.raises(ValueError, match="float8"):
        K.result_type("float8_e4m3fn", "float32")
