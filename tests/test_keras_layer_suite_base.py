"""The Layer base class and the core, merging, activation, regularization and reshaping layers where Keras's
own layer tests (keras/src/layers/{layer,core,merging,activations,regularization,reshaping}/*_test.py, run by
tools/keras_layer_suite.py) found mlcore different: which layers are built once made, activity regularizers
and trainable flags of any layer, add_weight's and Input's argument checks, build() arguments named after
call()'s, calls on constant tensors and by keyword, merge layers' mask and shape checks, and Keras's
error phrases."""
import numpy as np
import pytest

import mlcore
from mlcore import KerasTensor, layers, models, ops
from mlcore.keras_masks import get_keras_mask


def both(keras):
    """mlcore's layers and Keras's, to run the same code on each."""
    return {"mlcore": layers, "keras": keras.layers}


# --- built once made ---------------------------------------------------------------------------------------
LAYERS = [("Activation", ("relu",)), ("ELU", ()), ("LeakyReLU", ()), ("ReLU", ()), ("Softmax", ()),
             ("Identity", ()), ("Masking", ()), ("ActivityRegularization", ()), ("Dropout", (0.5,)),
             ("AlphaDropout", (0.5,)), ("GaussianDropout", (0.5,)), ("GaussianNoise", (0.5,)),
             ("SpatialDropout1D", (0.5,)), ("SpatialDropout2D", (0.5,)), ("Reshape", ((2,),)),
             ("Dense", (2,)), ("Flatten", ()), ("Permute", ((1,),)), ("PReLU", ())]


def test_stateless_layers_are_built_once_made_as_in_keras(keras):
    for lib in both(keras).values():
        assert {name: getattr(lib, name)(*args).built for name, args in LAYERS} == \
            {name: name not in ("Dense", "Flatten", "Permute", "PReLU") for name, _ in LAYERS}


def test_a_subclass_that_overrides_build_is_not_built_at_init(keras):
    for lib in both(keras).values():
        class Scaled(lib.ReLU):
            def build(self, input_shape):
                self.scale = self.add_weight(shape=(), initializer="ones")

        class Plain(lib.Layer):
            def call(self, x):
                return x
        assert not Scaled().built and not Plain().built
    relu = layers.ReLU()
    relu(np.ones((2, 3), "float32"))
    assert relu.path is None and relu.get_build_config() is None       # as Keras's: never built from a shape


# --- the base layer's arguments -------------------------------------------------------------------------
@pytest.mark.parametrize("batch", [0, 1, 5])
def test_any_layer_takes_an_activity_regularizer(keras, batch):
    x = np.full((batch, 5), 2.0, "float32")
    losses = {}
    for name, lib in both(keras).items():
        class Passthrough(lib.Layer):
            def call(self, x):
                return x
        layer = Passthrough(activity_regularizer="l2")
        layer(x)
        losses[name] = [float(np.asarray(loss)) for loss in layer.losses]
    assert losses["mlcore"] == pytest.approx(losses["keras"]) and len(losses["mlcore"]) == 1


def test_unknown_arguments_and_non_boolean_trainable_are_refused_with_kerass_words():
    with pytest.raises(ValueError, match=r"Unrecognized keyword arguments passed to Dense: \{'foo': 1\}"):
        layers.Dense(2, foo=1)
    for value in ("yes", 1, None):
        with pytest.raises(ValueError, match="Expected `trainable` to be a boolean"):
            layers.Dense(2, trainable=value)


def test_freezing_a_layer_freezes_its_weights_and_sublayers(keras):
    counts = {}
    for name, lib in both(keras).items():
        class Inner(lib.Layer):
            def build(self, _):
                self.w1 = self.add_weight(shape=(), initializer="ones")
                self.w2 = self.add_weight(shape=(), initializer="ones", trainable=False)

        class Outer(Inner):
            def build(self, shape):
                super().build(shape)
                self.nested = Inner()
                self.nested.build(None)
        layer = Outer()
        layer.build(None)
        layer.trainable = False
        frozen = (len(layer.trainable_weights), len(layer.non_trainable_weights), layer.w1.trainable,
                  layer.nested.w1.trainable, layer.nested.trainable)
        layer.trainable = True
        counts[name] = frozen + (len(layer.trainable_weights), layer.w1.trainable, layer.nested.w1.trainable)
    assert counts["mlcore"] == counts["keras"] == (0, 4, False, False, False, 2, True, True)


def test_add_weight_takes_shape_initializer_and_dtype_by_position_only():
    class Made(layers.Layer):
        def __init__(self, *args, **kwargs):
            super().__init__()
            self.w = self.add_weight(*args, **kwargs)
    weight = Made((3, 4), "zeros", "float32").w
    assert weight.shape == (3, 4) and weight.dtype == "float32"
    with pytest.raises(ValueError, match="`name` must be passed as a keyword argument"):
        Made("matrix", shape=(3, 4))
    with pytest.raises(ValueError, match="`shape` was passed both positionally and as a keyword argument"):
        Made((3, 4), shape=(3, 4))
    with pytest.raises(TypeError, match="takes at most 3 positional arguments"):
        Made((3, 4), "zeros", "float32", "name")


def test_a_layer_collects_the_metrics_it_and_its_sublayers_hold(keras):
    found = {}
    for name, lib in both(keras).items():
        metrics = mlcore.metrics if name == "mlcore" else keras.metrics

        class WithMetric(lib.Layer):
            def __init__(self, inner=None):
                super().__init__()
                self.inner = inner or lib.Dense(3)
                self.metric = metrics.MeanSquaredError()

            def build(self, shape):
                self.inner.build(shape)
        layer = WithMetric(WithMetric())
        layer.build((1, 3))
        found[name] = (len(layer.metrics), len(layer.metrics_variables), len(layer.trainable_variables))
    assert found["mlcore"] == found["keras"] == (2, 4, 2)


def test_from_config_gives_init_a_float_policy_by_name():
    seen = []

    class Recording(layers.Dense):
        def __init__(self, *args, **kwargs):
            seen.append(kwargs["dtype"])
            super().__init__(*args, **kwargs)
    Recording.from_config(layers.Dense(2, dtype="bfloat16").get_config())
    assert seen == ["bfloat16"]


# --- calling --------------------------------------------------------------------------------------------
def test_the_base_layer_has_no_call():
    with pytest.raises(NotImplementedError, match="Layer Layer does not have a `call` method implemented"):
        layers.Layer()(np.ones((2, 3), "float32"))


def test_inputs_may_come_by_keyword_and_build_takes_the_shapes_it_names():
    class Sum(layers.Layer):
        def build(self, b_shape, a_shape):
            self.shapes = (a_shape, b_shape)

        def call(self, a, b):
            return a[:, :1] + b[:, :1]
    a, b = KerasTensor((4, 1)), KerasTensor((4, 2))
    layer = Sum()
    assert layer(a=a, b=b).type.shape == (4, 1) and layer.shapes == ((4, 1), (4, 2))
    layer = Sum()
    layer(a, b)
    assert layer.shapes == ((4, 1), (4, 2))

    class Masked(layers.Layer):
        def build(self, inputs_shape, attention_mask_shape=None):
            self.mask_shape = attention_mask_shape

        def call(self, inputs, attention_mask=None):
            return inputs * attention_mask
    layer = Masked()
    assert layer(np.ones((2, 3), "float32"), attention_mask=np.ones((2, 1), "float32")).shape == (2, 3)
    assert layer.mask_shape == (2, 1)


@pytest.mark.parametrize("build, message", [
    ("def build(self, foo_shape, bar):\n    pass", "argument `bar`, which does not end in `_shape`"),
    ("def build(self, foo_shape, baz_shape):\n    pass", r"`baz_shape`, but `call\(\)` does not have argument `baz`"),
])
def test_a_build_of_several_arguments_must_name_call_arguments(build, message):
    namespace = {}
    exec(build, namespace)

    class Pair(layers.Layer):
        def call(self, foo, bar):
            return foo + bar
    Pair.build = namespace["build"]
    with pytest.raises(ValueError, match=message):
        Pair()(KerasTensor((4, 1)), KerasTensor((4, 1)))


def test_only_tensors_may_be_passed_by_position(keras):
    for lib in both(keras).values():
        class Flagged(lib.Layer):
            def call(self, x, flag):
                return x if flag else x + 1
        x = keras.KerasTensor((2, 3)) if lib is keras.layers else KerasTensor((2, 3))
        with pytest.raises(ValueError, match="Only input tensors may be passed as positional arguments"):
            Flagged()(x, True)
        Flagged()(x, flag=True)


def test_a_layer_called_on_constant_tensors_runs_at_once(keras):
    x = np.array([[[0.0, 0.0], [1.0, 2.0]]], "float32")
    dense = layers.Dense(2, kernel_initializer="ones")
    out = dense(ops.convert_to_tensor(x))
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, x @ np.ones((2, 2)))
    masked = layers.Masking()(ops.convert_to_tensor(x))
    want = keras.layers.Masking()(keras.ops.convert_to_tensor(x))
    np.testing.assert_array_equal(masked._keras_mask, np.asarray(want._keras_mask))


def test_a_sequential_of_a_loss_adding_layer_called_on_arrays(keras):
    results = {}
    for name, lib in both(keras).items():
        lib_ops = ops if name == "mlcore" else keras.ops
        lib_models = models if name == "mlcore" else keras.models

        class AddsLoss(lib.Layer):
            def call(self, x):
                self.add_loss(lib_ops.sum(x))
                return x
        model = lib_models.Sequential([AddsLoss()])
        model(np.ones((1,), "float32"))
        outer = lib_models.Sequential([model])
        outer(np.ones((1,), "float32"))
        results[name] = [float(np.asarray(loss)) for loss in model.losses + outer.losses]
    assert results["mlcore"] == results["keras"] == [1.0, 1.0]


# --- Input ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(shape=(2, 3), batch_shape=(2, 3)), "cannot pass both `shape` and `batch_shape`"),
    (dict(batch_size=4, batch_shape=(2, 3)), "cannot pass both `batch_size` and `batch_shape`"),
    (dict(), "You must pass a `shape` argument."),
    (dict(shape=(2, 3), input_tensor=np.zeros((2, 3))), "Argument `input_tensor` must be a KerasTensor"),
    (dict(shape=(2, 4), input_tensor=KerasTensor((2, 3))), "cannot provide an incompatible `shape`"),
    (dict(batch_shape=(2, 4), input_tensor=KerasTensor((2, 3))), "cannot provide an incompatible `batch_shape`"),
    (dict(batch_size=5, input_tensor=KerasTensor((2, 3))), "cannot provide an incompatible `batch_size`"),
    (dict(dtype="float16", input_tensor=KerasTensor((2, 3))), "cannot provide an incompatible `dtype`"),
])
def test_input_layer_argument_errors_in_kerass_words(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.InputLayer(**kwargs)


def test_input_layer_arguments_kept_from_keras_2():
    with pytest.warns(UserWarning, match="Argument `input_shape` is deprecated. Use `shape` instead."):
        layer = layers.InputLayer(input_shape=(2, 3), batch_size=4)
    assert layer.batch_shape == (4, 2, 3) and layer.call() is None
    tensor = KerasTensor((2, 3), "int32")
    assert layers.InputLayer(shape=(3,), batch_size=2, dtype="int32", input_tensor=tensor).output is tensor
    assert layers.Input(tensor=tensor).dtype == "int32"


# --- core layers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("units", [2.5, "a", 0])
def test_dense_units_must_be_a_positive_int(units):
    with pytest.raises(ValueError, match="Received an invalid value for `units`, expected a positive integer"):
        layers.Dense(units)


def test_dense_checks_later_inputs_and_runs_without_activation(keras):
    dense = layers.Dense(2, use_bias=False)
    dense(KerasTensor((1, 2)))
    with pytest.raises(ValueError, match="incompatible with the layer"):
        dense(KerasTensor((1, 3)))
    dense.set_weights([np.array([[1.0, -2.0], [3.0, -4.0]], "float32")])
    dense.activation = None
    np.testing.assert_allclose(dense(np.array([[-1.0, 2.0]], "float32")), [[5.0, -6.0]])


@pytest.mark.parametrize("kwargs, message", [
    (dict(rate=1.5), "Invalid value received for argument `rate`"),
    (dict(rate=0.5, noise_shape="bad"), "Expected a tuple or list of integers"),
    (dict(rate=0.5, noise_shape=5), "Expected an iterable of integers"),
    (dict(rate=0.5, noise_shape=(2, 1.5)), "Expected all elements to be integers or None"),
    (dict(rate=0.5, noise_shape=(2, 0)), "Received negative or zero value at index 1: 0"),
])
def test_dropout_arguments_checked_as_in_keras(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.Dropout(**kwargs)


def test_dropout_keeps_a_tuple_noise_shape_and_takes_a_rate_of_one(keras):
    assert layers.Dropout(0.5, noise_shape=[20, 1, 10]).noise_shape == (20, 1, 10)
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(layers.Dropout(1.0)(x, training=True), keras.layers.Dropout(1.0)(x, training=True))


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Reshape((-2, 5)), r"non-negative integer.*-1.*target_shape=\(-2, 5\)"),
    (lambda: layers.Reshape((-1, -1, 5)), r"at most one unknown dimension.*target_shape=\(-1, -1, 5\)"),
    (lambda: layers.Permute((0, 1, 2)), "Invalid permutation argument `dims` for Permute Layer"),
    (lambda: layers.Permute((1, 3)), "Invalid permutation argument `dims` for Permute Layer"),
])
def test_reshape_and_permute_check_their_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_flatten_keeps_a_known_batch_size(keras):
    got = layers.Flatten()(layers.Input(batch_shape=(5, 2, None))).type.shape
    assert got == keras.layers.Flatten()(keras.Input(batch_shape=(5, 2, None))).shape == (5, None)


def test_cropping2d_refuses_crops_larger_than_the_image_in_kerass_words():
    with pytest.raises(ValueError, match="Values in `cropping` argument should be smaller than the corresponding"):
        layers.Cropping2D(((4, 5), (0, 0)))(np.ones((3, 8, 9, 5), "float32"))


# --- activation layers ------------------------------------------------------------------------------------
def test_activation_layer_errors_in_kerass_words():
    with pytest.raises(ValueError, match="The negative_slope value of a Leaky ReLU layer cannot be None"):
        layers.LeakyReLU(negative_slope=None)
    with pytest.warns(UserWarning, match="Argument `alpha` is deprecated"):
        assert layers.LeakyReLU(alpha=0.2).negative_slope == 0.2
    with pytest.raises(ValueError, match="must not have more dimensions"):
        layers.Softmax()(np.ones((1, 3), "float32"), mask=np.ones((1, 1, 3), bool))
    with pytest.raises(ValueError, match="Each mask dimension must be 1 or match"):
        layers.Softmax()(np.ones((1, 3), "float32"), mask=np.ones((1, 2), bool))


# --- merging layers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"])
def test_merge_layers_check_the_masks_they_are_given(name):
    a, b = layers.Input((4, 5), batch_size=2), layers.Input((4, 5), batch_size=2)
    layer = getattr(layers, name)()
    with pytest.raises(ValueError, match="`mask` should be a list."):
        layer.compute_mask([a, b], np.ones((2, 4, 5)))
    with pytest.raises(ValueError, match="`inputs` should be a list."):
        layer.compute_mask(a, [None, None])
    with pytest.raises(ValueError, match=" should have the same length."):
        layer.compute_mask([a, b], [None])


@pytest.mark.parametrize("a_shape, b_shape, axis", [((1, 2, 1, 1, 5), (1, 1, 1, 1, 4), -1),
                                                    ((1, 2, 1, 2, 1), (1, 1, 1, 3, 1), 1)])
def test_concatenate_needs_matching_shapes_off_its_axis(a_shape, b_shape, axis):
    with pytest.raises(ValueError, match="requires inputs with matching shapes except for the concatenation axis"):
        layers.Concatenate(axis=axis)([np.ones(a_shape, "float32"), np.ones(b_shape, "float32")])


def test_multiply_counts_a_masked_step_as_one(keras):
    a = np.array([[[0, 0], [1, 2], [0, 0], [3, 4]]], "float32")
    b = np.array([[[0, 0], [0, 0], [1, 2], [3, 4]]], "float32")
    for mask_b in (False, True):
        got = layers.Multiply()([layers.Masking()(a), layers.Masking()(b) if mask_b else b])
        k_a = keras.layers.Masking()(keras.ops.convert_to_tensor(a))
        k_b = keras.layers.Masking()(keras.ops.convert_to_tensor(b)) if mask_b else keras.ops.convert_to_tensor(b)
        want = keras.layers.Multiply()([k_a, k_b])
        np.testing.assert_array_equal(got, np.asarray(want))
        got_mask, want_mask = get_keras_mask(got), getattr(want, "_keras_mask", None)
        assert (got_mask is None) == (want_mask is None)
        if want_mask is not None:
            np.testing.assert_array_equal(got_mask, np.asarray(want_mask))



# --- Keras's auto-config of a custom layer without get_config() ------------------------------------------------
def scaled_dense_class(base):
    """The same custom layer on mlcore's or Keras's Layer: no get_config(), plain arguments."""
    class ScaledDense(base.Layer):
        def __init__(self, units, scale=1.0, activation=None, **kwargs):
            super().__init__(**kwargs)
            self.units, self.scale, self.activation = units, scale, activation

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="ones")

        def call(self, inputs):
            return self.scale * (inputs @ self.kernel)
    return ScaledDense


def test_custom_layer_without_get_config_has_keras_auto_config(keras):
    ours = scaled_dense_class(layers)(3, scale=2.0, activation="relu", name="sd")
    theirs = scaled_dense_class(keras.layers)(3, scale=2.0, activation="relu", name="sd")
    assert ours.get_config() == theirs.get_config()
    assert ours.get_config()["units"] == 3 and ours.get_config()["scale"] == 2.0
    revived = type(ours).from_config(ours.get_config())
    assert (revived.units, revived.scale, revived.activation, revived.name) == (3, 2.0, "relu", "sd")


def test_custom_layer_with_auto_config_saves_and_loads(tmp_path):
    from mlcore.saving import load_model
    cls = scaled_dense_class(layers)
    model = models.Sequential([layers.Input((4,)), cls(2, scale=3.0)])
    x = np.arange(8, dtype="float32").reshape(2, 4)
    model.save(tmp_path / "custom.keras")
    loaded = load_model(tmp_path / "custom.keras", custom_objects={"ScaledDense": cls})
    assert loaded.layers[0].scale == 3.0
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_allclose(model.predict(x, verbose=0), 3.0 * x.sum(axis=1, keepdims=True).repeat(2, axis=1))


def test_auto_config_drops_name_where_init_cannot_take_it(keras):
    configs = []
    for lib in (layers, keras.layers):
        class NoName(lib.Layer):
            def __init__(self, size):
                super().__init__()
                self.size = size
        configs.append(NoName(4).get_config())
    assert configs[0] == configs[1] and configs[0]["size"] == 4 and "name" not in configs[0]


def test_auto_config_only_of_plain_arguments():
    """A custom layer made with an array writes the base keys only (Keras refuses to write any config)."""
    class Holder(layers.Layer):
        def __init__(self, table, **kwargs):
            super().__init__(**kwargs)
            self.table = table
    assert set(Holder(np.ones(3)).get_config()) == {"name", "trainable", "dtype"}
    assert set(layers.Dense(3).get_config()) >= {"units"} and "input_shape" not in layers.Add().get_config()


@pytest.mark.parametrize("written", ["shape", "(shape, shape)", "[shape, shape]", "{'a': shape}"])
def test_compute_output_spec_uses_a_users_compute_output_shape_as_keras(keras, written):
    specs = {}
    for name, lib in (("mlcore", mlcore), ("keras", keras)):
        class ShapeOnly(lib.layers.Layer):
            def call(self, x):
                raise RuntimeError("compute_output_spec must not call the layer")

            def compute_output_shape(self, input_shape):
                return eval(written, {"shape": input_shape})
        out = ShapeOnly().compute_output_spec(lib.KerasTensor((2, 3)))
        specs[name] = (type(out).__name__ if isinstance(out, (tuple, list, dict)) else "tensor",
                       lib.tree.map_structure(lambda t: (tuple(t.shape), str(t.dtype)), out))
    assert specs["mlcore"] == specs["keras"]


@pytest.mark.parametrize("mode", [None, "int8", "int4"])
def test_sequential_of_a_layer_built_alone_saves_and_loads_as_keras(tmp_path, mode):
    """Sequential([embedding]) without an Input, the layer built by build(): the model has no shape to
    be built from, so loading builds the layer from its own build_config, as Keras's loading does."""
    layer = layers.Embedding(10, 16)
    layer.build()
    if mode:
        layer.quantize(mode)
    model = models.Sequential([layer])
    x = np.array([[1, 2, 3]])
    model.save(tmp_path / "m.keras")
    loaded = mlcore.saving.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].built and not loaded.built
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    model.save_weights(tmp_path / "m.weights.h5")
    again = models.Sequential([layers.Embedding(10, 16)])
    again.build((None, 3))
    if mode:
        again.quantize(mode)
    again.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_from_config_refused_raises_kerass_type_error(keras):
    for lib in both(keras).values():
        with pytest.raises(TypeError, match="(?s)Error when deserializing class 'Dense' using config=.*Exception "
                                            "encountered: .*units"):
            lib.Dense.from_config({"units": -1, "name": "bad"})


def test_a_call_that_returns_nothing_runs_eagerly_with_its_inputs_cast(keras):
    """Keras's autocast test layer: it only looks at its inputs (floats in the compute dtype, ints as
    they came) and returns None."""
    for lib in both(keras).values():
        seen = []

        class Looks(lib.Layer):
            def call(self, x):
                seen.append((str(x[0].dtype), str(x[1].dtype)))
        assert Looks()([np.zeros(1, dtype="float64"), np.zeros(1, dtype="int32")]) is None
        assert seen == [("float32", "int32")]


def test_a_built_layer_cannot_add_weights_in_its_call(keras):
    """Keras locks a layer's state once it is built: a weight made in call() would be a new weight at every
    trace. A layer whose build() makes them, called the first time, is still fine."""
    for lib in both(keras).values():
        class WeightInCall(lib.Layer):
            def call(self, x):
                self.w = self.add_weight(initializer="zeros", shape=())
                return x

        class WeightInBuild(lib.Layer):
            def build(self, input_shape):
                self.w = self.add_weight(initializer="ones", shape=())

            def call(self, x):
                return x * self.w
        with pytest.raises(ValueError, match="cannot add new elements of state"):
            WeightInCall()(np.ones((3, 2), "float32"))
        np.testing.assert_array_equal(np.asarray(WeightInBuild()(np.ones((3, 2), "float32"))), np.ones((3, 2)))


def _doubled(x):
    return x * 2


def test_lambda_saves_a_named_function_by_name_and_loads_as_keras(keras, tmp_path):
    """Keras saves Lambda(named function) by the function's name, which loads with safe_mode on; only a
    Python lambda's bytecode needs safe_mode=False. mlcore writes the same configs, so files go both ways."""
    x = np.ones((1, 3), "float32")
    for lib in (mlcore, keras):
        inputs = lib.Input((3,))
        model = lib.Model(inputs, lib.layers.Lambda(_doubled)(inputs))
        model.save(tmp_path / ("%s.keras" % lib.__name__))
    ours_config = layers.Lambda(_doubled).get_config()["function"]
    assert ours_config == keras.layers.Lambda(_doubled).get_config()["function"]
    for load in (mlcore.saving.load_model, keras.saving.load_model):
        for name in ("mlcore", "keras"):
            loaded = load(tmp_path / ("%s.keras" % name), custom_objects={"_doubled": _doubled})
            np.testing.assert_array_equal(np.asarray(loaded.predict(x, verbose=0)), 2 * x)
    with pytest.raises(ValueError, match="safe_mode"):
        layers.Lambda.from_config(layers.Lambda(lambda t: t + 1).get_config())
    again = layers.Lambda.from_config(layers.Lambda(lambda t: t + 1).get_config(), safe_mode=False)
    np.testing.assert_array_equal(again(x), x + 1)


def test_supports_jit_is_false_for_the_host_run_layers_only(keras):
    """Keras's supports_jit: every layer of mlcore's runs in compiled programs except the lookup, text
    and hashing layers, which run on the host (Keras's, which need TensorFlow here, say False too)."""
    for name, args in [("Dense", (2,)), ("LSTM", (2,)), ("Conv2D", (2, 3)), ("Normalization", ())]:
        assert getattr(mlcore.layers, name)(*args).supports_jit is True
        assert getattr(keras.layers, name)(*args).supports_jit is True
    for layer in (mlcore.layers.StringLookup(), mlcore.layers.IntegerLookup(), mlcore.layers.TextVectorization(),
                  mlcore.layers.Hashing(4), mlcore.layers.HashedCrossing(4)):
        assert layer.supports_jit is False
