"""Keras 3.15 arguments mlcore took late: optional/ragged Inputs, batch renormalization, unzipped .keras
folders, sharded weights, overwrite=False, timeseries `format`, keyword names of the serialize helpers and
the optimizers' common arguments; each checked against Keras 3.15 run beside it."""
import json
import os

import numpy as np
import pytest

import mlcore

OPTIMIZER_NAMES = ("Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lamb", "Lion",
                   "Nadam", "RMSprop", "SGD", "Muon", "ScheduleFreeAdamW")


def _values(weights):
    return [np.asarray(w.numpy()) for w in weights]


def _small_model(lib):
    model = lib.Sequential([lib.Input((6,)), lib.layers.Dense(5), lib.layers.BatchNormalization(),
                            lib.layers.Dense(3)])
    model.set_weights([np.arange(w.size, dtype="float32").reshape(w.shape) / 10 for w in model.get_weights()])
    return model


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).normal(1, 2, (8, 6)).astype("float32")


def test_optional_input_takes_none(keras, x):
    results = []
    for lib in (keras, mlcore):
        class OptionalAdd(lib.layers.Layer):
            def call(self, a, b=None):
                return a if b is None else a + b

            def compute_output_shape(self, a_shape, b_shape=None):
                return a_shape
        first, second = lib.Input((6,)), lib.Input((6,), optional=True)
        model = lib.Model([first, second], OptionalAdd()(first, second))
        config = {k: v for k, v in model.layers[1].get_config().items() if k != "name"}    # names count per process
        results.append((np.asarray(model([x, None])), np.asarray(model([x, x])), config))
        with pytest.raises(ValueError, match="is not optional, but None was passed"):
            model([None, x])
    np.testing.assert_allclose(results[1][0], results[0][0])
    np.testing.assert_allclose(results[1][1], results[0][1])
    assert results[1][2] == results[0][2]


def test_ragged_input_refused_and_input_layer_defaults(keras):
    for lib in (keras, mlcore):
        with pytest.raises(ValueError, match="ragged=True` is not supported with the jax backend"):
            lib.Input((3,), ragged=True)
    assert mlcore.layers.InputLayer(shape=(2,)).get_config()["sparse"] is False


def test_batch_renorm_matches_keras(keras, x):
    """Training calls (outputs, every moving statistic), inference, config, then fit (gradients through r, d)."""
    calls, fits = {}, {}
    for lib in (keras, mlcore):
        layer = lib.layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 1.5, "dmax": 0.5},
                                              renorm_momentum=0.9, momentum=0.8)
        outs = [np.asarray(layer(x * (k + 1), training=True)) for k in range(3)] + [np.asarray(layer(x))]
        calls[lib] = outs, [w.name for w in layer.weights], _values(layer.weights), layer.get_config()
        model = lib.Sequential([lib.Input((6,)), lib.layers.Dense(3), lib.layers.BatchNormalization(renorm=True),
                                lib.layers.Dense(1)])
        model.set_weights([np.arange(w.size, dtype="float32").reshape(w.shape) / 10 for w in model.get_weights()])
        model.compile(lib.optimizers.SGD(0.01), "mse")
        model.fit(x, x[:, :1], batch_size=4, epochs=2, shuffle=False, verbose=0)
        fits[lib] = _values(model.weights)
    (k_outs, k_names, k_vars, k_config), (m_outs, m_names, m_vars, m_config) = calls[keras], calls[mlcore]
    assert m_names == k_names
    assert {k: v for k, v in m_config.items() if k != "name"} == {k: v for k, v in k_config.items() if k != "name"}
    for ours, theirs in zip(m_outs + m_vars + fits[mlcore], k_outs + k_vars + fits[keras]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    ({"renorm": True, "renorm_clipping": {"rmx": 1}}, "invalid keys for `renorm_clipping`"),
    ({"renorm": True, "renorm_clipping": {"rmax": 1, "rmin": 2}}, "rmax should be greater than rmin"),
    ({"renorm": True, "renorm_clipping": {"dmax": -1}}, "dmax should be non-negative"),
    ({"synchronized": True}, "synchronized=True is only supported with the TensorFlow backend")])
def test_batch_norm_argument_errors(keras, kwargs, message):
    for lib in (keras, mlcore):
        with pytest.raises(ValueError, match=message):
            lib.layers.BatchNormalization(**kwargs)


def test_renorm_layer_saves_and_loads_in_keras(keras, tmp_path, x):
    """A .keras archive with renorm on: mlcore's loads in Keras and gives the same inference outputs."""
    model = mlcore.Sequential([mlcore.Input((6,)), mlcore.layers.BatchNormalization(renorm=True)])
    model(x, training=True)
    model.save(tmp_path / "renorm.keras")
    theirs = keras.saving.load_model(tmp_path / "renorm.keras")
    np.testing.assert_allclose(np.asarray(theirs(x)), np.asarray(model(x)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("writer", ["keras", "mlcore"])
def test_unzipped_archive_loads_in_both(keras, tmp_path, x, writer):
    libs = {"keras": keras, "mlcore": mlcore}
    saved = _small_model(libs[writer])
    saved.save(tmp_path / "model_dir", zipped=False)
    assert {"config.json", "metadata.json", "model.weights.h5"} <= set(os.listdir(tmp_path / "model_dir"))
    for lib in (keras, mlcore):
        loaded = lib.saving.load_model(tmp_path / "model_dir")
        np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(saved(x)), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="should not end in `.keras`"):
        saved.save(tmp_path / "bad.keras", zipped=False)


@pytest.mark.parametrize("writer", ["keras", "mlcore"])
def test_sharded_weights_load_in_both(keras, tmp_path, x, writer):
    libs = {"keras": keras, "mlcore": mlcore}
    saved = _small_model(libs[writer])
    with pytest.warns(UserWarning, match="requires `\\*.json` as the extension"):
        saved.save_weights(tmp_path / "m.weights.h5", max_shard_size=2e-7)    # ~215 bytes a shard
    index = json.loads((tmp_path / "m.weights.json").read_text())
    if writer == "mlcore":
        keras_saved = _small_model(keras)
        keras_saved.save_weights(tmp_path / "k.weights.json", max_shard_size=2e-7)
        expected = json.loads((tmp_path / "k.weights.json").read_text())
        assert index == json.loads(json.dumps(expected).replace("k_0", "m_0"))
        assert sorted(os.listdir(tmp_path)) == ["k.weights.json", "k_00000.weights.h5", "k_00001.weights.h5",
                                                "m.weights.json", "m_00000.weights.h5", "m_00001.weights.h5"]
    for lib in (keras, mlcore):
        loaded = _small_model(lib)
        loaded.set_weights([np.zeros_like(w) for w in loaded.get_weights()])
        loaded.load_weights(tmp_path / "m.weights.json")
        np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(saved(x)), rtol=1e-6, atol=1e-6)


def test_shard_size_errors(tmp_path, x):
    """A failed sharded save leaves the files of the last good one as they were, and no partial shard."""
    model = _small_model(mlcore)
    model.save_weights(tmp_path / "m.weights.json", max_shard_size=2e-7)
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    expected = np.asarray(model(x))
    model.set_weights([w + 1 for w in model.get_weights()])
    with pytest.raises(ValueError, match="exceeds the maximum shard size"):
        model.save_weights(tmp_path / "m.weights.json", max_shard_size=1e-9)
    assert {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)} == before
    model.load_weights(tmp_path / "m.weights.json")
    np.testing.assert_allclose(np.asarray(model(x)), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="must end in `.weights.json`"):
        model.save_weights(tmp_path / "m.h5", max_shard_size=1)


def test_overwrite_false_asks(tmp_path, monkeypatch):
    """Keras's prompt: "n" keeps the old file, "y" replaces it, anything else asks again."""
    model = _small_model(mlcore)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    before = path.read_bytes()
    answers = iter(["maybe", "n"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    model.layers[0].kernel.assign(np.ones((6, 5), "float32"))
    model.save_weights(path, overwrite=False)
    assert path.read_bytes() == before
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    model.save(tmp_path / "m.keras", overwrite=False)           # new file: no question
    model.save_weights(path, overwrite=False)
    assert path.read_bytes() != before


def test_timeseries_format(keras):
    """Both formats give the same windows (Keras's need TensorFlow or Grain, absent here); others are refused
    with Keras's message, which Keras checks first."""
    data = np.arange(20)
    for fmt in ("tf", "grain"):
        ours = mlcore.utils.timeseries_dataset_from_array(data, None, 4, batch_size=5, format=fmt)
        np.testing.assert_array_equal(ours[0], np.arange(5)[:, None] + np.arange(4))
    for lib in (keras, mlcore):
        with pytest.raises(ValueError, match='`format` should be either "tf" or "grain"'):
            lib.utils.timeseries_dataset_from_array(data, None, 4, format="torch")


def test_serialize_helpers_take_keras_keywords(keras):
    calls = [("initializers.serialize", dict(initializer="ones"), lambda lib: lib.initializers.get("ones")),
             ("regularizers.serialize", dict(regularizer=None), lambda lib: lib.regularizers.L2(0.5)),
             ("constraints.serialize", dict(constraint=None), lambda lib: lib.constraints.NonNeg()),
             ("quantizers.serialize", dict(initializer=None), lambda lib: lib.quantizers.AbsMaxQuantizer(-1)),
             ("dtype_policies.serialize", dict(dtype_policy=None), lambda lib: lib.dtype_policies.DTypePolicy("float16")),
             ("optimizers.schedules.serialize", dict(learning_rate_schedule=None),
              lambda lib: lib.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))]
    for name, kwargs, make in calls:
        results = []
        for lib in (keras, mlcore):
            function = lib
            for part in name.split("."):
                function = getattr(function, part)
            key = next(iter(kwargs))
            results.append(function(**{key: make(lib)}))
        assert results[1] == results[0], name
    config = keras.dtype_policies.serialize(keras.dtype_policies.DTypePolicy("mixed_float16"))
    assert mlcore.dtype_policies.deserialize(config=config).name == "mixed_float16"
    assert mlcore.losses.deserialize(name="mse") is mlcore.losses.mean_squared_error


def test_config_setters_take_keras_keywords():
    from mlcore import config
    saved = dict(config._overrides)
    try:
        mlcore.config.set_image_data_format(data_format="channels_first")
        assert mlcore.backend.image_data_format() == "channels_first"
        mlcore.backend.set_image_data_format(data_format="channels_last")
        assert mlcore.config.image_data_format() == "channels_last"
        mlcore.config.set_backend(backend="numpy")
        assert mlcore.config.backend() == "numpy"
    finally:
        config._overrides.clear()
        config._overrides.update(saved)


COMMON = dict(weight_decay=0.01, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=3, loss_scale_factor=2.0,
              gradient_accumulation_steps=2, name="opt")
CLIPPING = [dict(clipnorm=1.0), dict(clipvalue=0.5), dict(global_clipnorm=2.0)]   # Keras allows one at a time


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_optimizer_common_arguments(keras, name):
    """Every optimizer takes Keras's common arguments and keeps them in its config as Keras does; two
    clippings at once are refused by both."""
    for clipping in CLIPPING if name != "Muon" else CLIPPING[2:]:     # Muon: global_clipnorm only, in both
        kwargs = dict(COMMON, **clipping, **({"weight_decay": 0.004} if name == "AdamW" else {}))
        ours = getattr(mlcore.optimizers, name)(**kwargs).get_config()
        theirs = getattr(keras.optimizers, name)(**kwargs).get_config()
        assert {k: ours.get(k) for k in kwargs} == {k: theirs.get(k) for k in kwargs}
    for lib in (keras, mlcore):
        with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm`"):
            getattr(lib.optimizers, name)(clipnorm=1.0, clipvalue=0.5)
