"""Mixed precision (keras.mixed_precision): layers under "mixed_float16" or "mixed_bfloat16" keep float32
variables and compute in float16 or bfloat16, as Keras 3's do; each test runs Keras beside mlcore."""
import numpy as np
import pytest

import mlcore
from mlcore import dtype_policies
from mlcore.graph.basic import toposort
from mlcore.graph.ops.elemwise import Cast
from mlcore.models import load_model

FLOAT16_TOLERANCE = dict(rtol=2e-3, atol=1e-3)      # a float16 rounding or two (11 significant bits)


@pytest.fixture
def policy(keras):
    """policy(name): mlcore's and Keras's global policy; both are back as they were after the test."""
    ours, theirs = list(dtype_policies._global_policy), keras.config.dtype_policy()

    def set_both(name):
        mlcore.mixed_precision.set_global_policy(name)
        keras.mixed_precision.set_global_policy(name)
    yield set_both
    dtype_policies._global_policy[:] = ours
    keras.config.set_dtype_policy(theirs)


def random_weights(layer, rng):
    """Values for a Keras layer's weights: small, and positive for a variance."""
    return [rng.uniform(0.5, 1.5, w.shape) if "variance" in w.path else rng.uniform(-0.5, 0.5, w.shape)
            for w in layer.weights]


def same_weights_outputs(ours, theirs, inputs, rng):
    """The outputs of both layers called on inputs (the call's positional arguments), with the same
    random weights."""
    theirs(*inputs)
    weights = random_weights(theirs, rng)
    theirs.set_weights(weights)
    ours(*inputs)
    ours.set_weights(weights)
    return ours(*inputs), np.asarray(theirs(*inputs))


def layer_cases(rng):
    """name: (a factory of the layer from a layers module and keyword arguments, the call's inputs)."""
    images = rng.normal(size=(2, 6, 6, 2)).astype("float32")
    sequences = rng.normal(size=(2, 5, 3)).astype("float32")
    return {
        "dense": (lambda m, **kw: m.Dense(5, activation="relu", **kw), [rng.normal(size=(4, 3)).astype("float32")]),
        "conv2d": (lambda m, **kw: m.Conv2D(3, 3, padding="same", **kw), [images]),
        "lstm": (lambda m, **kw: m.LSTM(4, return_sequences=True, **kw), [sequences]),
        "batch_normalization": (lambda m, **kw: m.BatchNormalization(**kw), [3 * images + 1]),
        "embedding": (lambda m, **kw: m.Embedding(10, 4, **kw), [rng.integers(0, 10, size=(3, 5))]),
        "multi_head_attention": (lambda m, **kw: m.MultiHeadAttention(num_heads=2, key_dim=3, **kw),
                                 [sequences, rng.normal(size=(2, 4, 3)).astype("float32")]),
    }


# --- policies -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["global", "argument"])
def test_mixed_layers_have_kerass_dtypes_and_float32_weights(policy, keras, rng, how):
    if how == "global":
        policy("mixed_float16")
    kwargs = {} if how == "global" else {"dtype": "mixed_bfloat16"}
    for name, (make, inputs) in layer_cases(rng).items():
        ours, theirs = make(mlcore.layers, **kwargs), make(keras.layers, **kwargs)
        for attribute in ("dtype", "compute_dtype", "variable_dtype", "input_dtype"):
            assert getattr(ours, attribute) == getattr(theirs, attribute), (name, attribute)
        assert ours.dtype_policy.name == theirs.dtype_policy.name == ("mixed_float16" if how == "global"
                                                                       else "mixed_bfloat16")
        ours(*inputs), theirs(*inputs)
        assert [w.dtype for w in ours.weights] == [w.dtype for w in theirs.weights] == ["float32"] * len(ours.weights)
    model = mlcore.Sequential([mlcore.Input((3,)), mlcore.layers.Dense(2)])
    assert model.dtype_policy.name == keras.Sequential().dtype_policy.name == ("mixed_float16" if how == "global"
                                                                                else "float32")


def test_a_float32_graph_has_no_casts_and_a_mixed_one_reads_its_weights_as_float16(policy):
    def casts(output):
        """What the graph casts, by name, and to which dtypes."""
        return sorted((getattr(node.inputs[0], "path", node.inputs[0].name), node.inputs[0].dtype, node.op.dtype)
                      for node in toposort([output]) if isinstance(node.op, Cast))
    assert casts(mlcore.layers.Dense(3, name="single")(mlcore.Input((4,), name="x"))) == []
    policy("mixed_float16")
    dense = mlcore.layers.Dense(3, name="mixed")
    out = dense(mlcore.Input((4,), name="x"))
    assert out.dtype == "float16"
    assert casts(out) == [("mixed/bias", "float32", "float16"), ("mixed/kernel", "float32", "float16"),
                          ("x", "float32", "float16")]
    assert [g.dtype for g in mlcore.grad(out.sum(), dense.weights)] == ["float32", "float32"]


# --- layers compute as Keras's --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["dense", "conv2d", "lstm", "batch_normalization", "embedding",
                                  "multi_head_attention"])
def test_mixed_float16_layers_compute_as_kerass(policy, keras, on_backend, rng, name, float32_jax):
    policy("mixed_float16")
    make, inputs = layer_cases(rng)[name]
    ours, theirs = same_weights_outputs(make(mlcore.layers), make(keras.layers), inputs, rng)
    assert ours.dtype == theirs.dtype == np.float16
    np.testing.assert_allclose(ours.astype("float32"), theirs.astype("float32"), **FLOAT16_TOLERANCE)


@pytest.mark.parametrize("name", ["dense", "lstm", "multi_head_attention"])
def test_mixed_bfloat16_layers_compute_as_kerass_where_the_backend_has_bfloat16(policy, keras, on_backend, rng,
                                                                                 name, float32_jax):
    policy("mixed_bfloat16")
    make, inputs = layer_cases(rng)[name]
    if on_backend == "theano":
        with pytest.raises(TypeError, match="The theano backend cannot compute in bfloat16"):
            make(mlcore.layers)(*inputs)
        return
    ours, theirs = same_weights_outputs(make(mlcore.layers), make(keras.layers), inputs, rng)
    assert ours.dtype == theirs.dtype and ours.dtype.name == "bfloat16"
    np.testing.assert_allclose(ours.astype("float32"), theirs.astype("float32"), rtol=1.6e-2, atol=8e-3)


# --- nesting --------------------------------------------------------------------------------------------------
def custom_layers(module):
    """A layer whose call calls its sublayers and reads a weight of its own, and one that scales by a weight,
    each written once against `module`'s Layer (mlcore's or Keras's)."""
    class Residual(module.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.inner = module.layers.Dense(units, activation="relu")
            self.norm = module.layers.LayerNormalization()

        def build(self, input_shape):
            self.gate = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gate")

        def call(self, x):
            return self.norm(x + self.gate * self.inner(x))

    class Scale(module.layers.Layer):
        def build(self, input_shape):
            self.factor = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="factor")
            self.reads = []     # the dtype each call read the factor in

        def call(self, x):
            self.reads.append(str((self.factor + 0).dtype))
            return x * self.factor
    return Residual, Scale


def nested_model(module):
    """A mixed model holding a mixed model, custom layers, a layer that does not autocast, and the float32
    head the mixed-precision guide advises."""
    residual, scale = custom_layers(module)
    inner = module.Sequential([module.Input((6,)), module.layers.Dense(6, activation="tanh")], name="inner")
    x = module.Input((4,))
    h = scale(autocast=False)(residual(6)(inner(module.layers.Dense(6)(x))))
    out = module.layers.Activation("softmax", dtype="float32")(module.layers.Dense(3, dtype="float32")(h))
    return module.Model(x, out)


def test_nested_layers_and_models_cast_as_kerass(policy, keras, on_backend, rng, float32_jax):
    policy("mixed_float16")
    ours, theirs = nested_model(mlcore), nested_model(keras)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    weights = random_weights(theirs, rng)
    theirs.set_weights(weights)
    ours.set_weights(weights)
    assert [str(layer.output.dtype) for layer in ours.layers] == [layer.output.dtype for layer in theirs.layers]
    x = rng.normal(size=(5, 4)).astype("float32")
    predicted = ours.predict(x, verbose=0)
    assert predicted.dtype == np.float32
    np.testing.assert_allclose(predicted, theirs.predict(x, verbose=0), **FLOAT16_TOLERANCE)


def test_a_layer_that_does_not_autocast_reads_its_weights_as_kerass_does(policy, keras, rng):
    """Keras's rule: alone, a mixed layer reads its weights in float16 even with autocast=False; called by a
    mixed layer, it turns that layer's autocasting off.  A model's step runs the model's call() outside its
    own scope (Keras's jax trainer: stateless_call), so there the layer is on its own again."""
    policy("mixed_float16")
    x = rng.normal(size=(2, 3)).astype("float32")
    reads = []
    for module in (mlcore, keras):
        residual, scale_class = custom_layers(module)
        scale = scale_class(autocast=False)
        outer = residual(3)
        outer.norm = scale         # the residual layer's call now calls the scale layer
        outer(x)
        called_by_a_layer = scale.reads[-1]
        scale(x)
        alone = scale.reads[-1]
        module.Sequential([module.Input((3,)), scale]).predict(x, verbose=0)
        reads.append((called_by_a_layer, alone, scale.reads[-1]))
    assert reads == [("float32", "float16", "float16")] * 2


# --- training ---------------------------------------------------------------------------------------------------
def regression_model(module):
    """A mixed model with the float32 output layer the mixed-precision guide advises."""
    return module.Sequential([module.Input((4,)), module.layers.Dense(16, activation="tanh"),
                              module.layers.BatchNormalization(), module.layers.Dense(1, dtype="float32")])


def regression_data(rng):
    x = rng.normal(size=(64, 4)).astype("float32")
    return x, (x @ np.float32([1.0, -2.0, 0.5, 1.0]))[:, None] + 0.3


def test_compile_wraps_the_optimizer_in_a_loss_scale_optimizer_as_keras(policy, keras):
    policy("mixed_float16")
    ours, theirs = regression_model(mlcore), regression_model(keras)
    for model in (ours, theirs):
        model.compile(optimizer="adam", loss="mse")
    assert isinstance(ours.optimizer, mlcore.optimizers.LossScaleOptimizer)
    ours_config, theirs_config = ours.optimizer.get_config(), theirs.optimizer.get_config()
    for config in (ours_config, theirs_config):     # Keras numbers its optimizers per process (adam_3)
        config["inner_optimizer"]["config"].pop("name")
    assert ours_config == theirs_config     # its name, inner Adam, scale, steps
    assert ours.get_compile_config()["optimizer"]["class_name"] == "Adam"   # compile's own argument, as Keras
    scaled = mlcore.optimizers.LossScaleOptimizer(mlcore.optimizers.SGD(), name="mine")
    ours.compile(optimizer=scaled, loss="mse")
    assert ours.optimizer is scaled
    ours.compile(optimizer="adam", loss="mse", auto_scale_loss=False)
    theirs.compile(optimizer="adam", loss="mse", auto_scale_loss=False)
    assert type(ours.optimizer).__name__ == type(theirs.optimizer).__name__ == "Adam"
    policy("mixed_bfloat16")        # bfloat16 has float32's range: Keras scales no loss
    ours, theirs = regression_model(mlcore), regression_model(keras)
    ours.compile(optimizer="adam", loss="mse")
    theirs.compile(optimizer="adam", loss="mse")
    assert type(ours.optimizer).__name__ == type(theirs.optimizer).__name__ == "Adam"


def test_a_mixed_model_fits_as_kerass_with_float32_losses_and_weights(policy, keras, on_backend, rng, float32_jax):
    policy("mixed_float16")
    ours, theirs = regression_model(mlcore), regression_model(keras)
    weights = random_weights(theirs, rng)
    for module, model in ((mlcore, ours), (keras, theirs)):
        model.set_weights(weights)
        model.compile(optimizer=module.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    x, y = regression_data(rng)
    ours_losses = ours.fit(x, y, batch_size=64, epochs=8, verbose=0).history["loss"]
    theirs_losses = theirs.fit(x, y, batch_size=64, epochs=8, verbose=0).history["loss"]
    assert ours_losses[-1] < ours_losses[0] / 2
    assert all(np.float32(loss) == loss for loss in ours_losses)     # one float32 step loss per epoch
    np.testing.assert_allclose(ours_losses, theirs_losses, rtol=1e-3)    # 2e-4 measured: float16 roundings
    assert [w.dtype for w in ours.get_weights()] == ["float32"] * len(weights)
    for mine, kerass in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, kerass, atol=1e-3)
    np.testing.assert_allclose(ours.optimizer.dynamic_scale.get_value(),
                               np.asarray(theirs.optimizer.dynamic_scale.value))
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), rtol=1e-3)


# --- saving -------------------------------------------------------------------------------------------------
def test_a_mixed_model_saves_and_loads_in_both_formats(policy, rng, tmp_path):
    policy("mixed_float16")
    model = regression_model(mlcore)
    model.compile(optimizer="adam", loss="mse")
    x, y = regression_data(rng)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "mixed.keras")
    model.save_weights(tmp_path / "mixed.weights.h5")
    loaded = load_model(tmp_path / "mixed.keras")
    assert [layer.dtype_policy.name for layer in loaded.layers] == ["mixed_float16"] * 2 + ["float32"]
    assert isinstance(loaded.optimizer, mlcore.optimizers.LossScaleOptimizer)
    assert [w.dtype for w in loaded.weights] == ["float32"] * len(loaded.weights)
    for ours, theirs in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(ours.get_value(), theirs.get_value())
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    policy("mixed_float16")
    twin = regression_model(mlcore)
    twin.load_weights(tmp_path / "mixed.weights.h5")
    np.testing.assert_array_equal(twin.predict(x, verbose=0), expected)


def classifier(module):
    return module.Sequential([module.Input((4,)), module.layers.Dense(8, activation="relu"),
                              module.layers.BatchNormalization(), module.layers.Dense(3),
                              module.layers.Activation("softmax", dtype="float32")])


def test_keras_and_mlcore_read_each_others_mixed_model_files(policy, keras, rng, tmp_path, float32_jax):
    policy("mixed_float16")
    x = rng.normal(size=(6, 4)).astype("float32")
    theirs = classifier(keras)
    theirs.set_weights(random_weights(theirs, rng))
    theirs.compile(optimizer="adam", loss="categorical_crossentropy")
    theirs.fit(x, np.eye(3)[np.arange(6) % 3], verbose=0)       # the optimizer's state is saved too
    theirs.save(tmp_path / "keras.keras")
    ours = load_model(tmp_path / "keras.keras")
    assert [layer.dtype_policy.name for layer in ours.layers] == ["mixed_float16"] * 3 + ["float32"]
    assert ours.layers[0].output.dtype == "float16"
    assert [np.asarray(v.get_value()).tolist() for v in ours.optimizer.variables] == \
        [np.asarray(v.value).tolist() for v in theirs.optimizer.variables]
    predicted = ours.predict(x, verbose=0)
    np.testing.assert_allclose(predicted, theirs.predict(x, verbose=0), **FLOAT16_TOLERANCE)
    ours.save(tmp_path / "ours.keras")
    again = keras.saving.load_model(tmp_path / "ours.keras")
    assert [layer.dtype_policy.name for layer in again.layers] == ["mixed_float16"] * 3 + ["float32"]
    np.testing.assert_allclose(again.predict(x, verbose=0), predicted, **FLOAT16_TOLERANCE)
    policy("float32")       # the layers keep their policies; the model takes the global one, as in Keras
    ours, theirs = load_model(tmp_path / "ours.keras"), keras.saving.load_model(tmp_path / "ours.keras")
    assert ours.dtype_policy.name == theirs.dtype_policy.name == "float32"
    assert [layer.dtype_policy.name for layer in ours.layers] == [layer.dtype_policy.name for layer in theirs.layers]
    assert type(ours.optimizer).__name__ == type(theirs.optimizer).__name__ == "Adam"
