"""Conv1D, the transposed, depthwise and separable convolutions, 1-d pooling, padding, cropping and
upsampling: outputs against Keras 3's own layers holding the same weights on every backend (both data
formats, strides, dilation, groups, causal/same/valid padding, output_padding), gradients against
jax.grad of Keras's layers, configs, argument and input errors, and small models that train and
save in formats Keras 3 reads.

All the layers of one data format are compiled into one function per backend (theano's C compilation
is the slow part)."""
import inspect
import os

import numpy as np
import pytest

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import mlcore  # noqa: E402
from mlcore import function, grad, layers  # noqa: E402
from mlcore.graph.basic import TensorType  # noqa: E402
from mlcore.models import load_model  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # jax arrays' __array__ in Keras

BACKENDS = ["numpy", "jax", "theano"]
FORMATS = ["channels_last", "channels_first"]
SEQUENCE_NLC = (2, 9, 6)
IMAGE_NHWC = (2, 5, 6, 3)
VOLUME_NDHWC = (2, 5, 4, 6, 4)
SHAPES = {"sequence": SEQUENCE_NLC, "image": IMAGE_NHWC, "volume": VOLUME_NDHWC}
SEQUENCE_CASES = [
    ("Conv1D", dict(filters=4, kernel_size=3)),
    ("Conv1D", dict(filters=6, kernel_size=3, groups=3, padding="same", strides=2, activation="relu")),
    ("Conv1D", dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2)),
    ("Conv1D", dict(filters=5, kernel_size=2, use_bias=False, activation="softmax")),
    ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same")),
    ("Conv1DTranspose", dict(filters=3, kernel_size=4, strides=3, output_padding=2)),
    ("Conv1DTranspose", dict(filters=2, kernel_size=3, dilation_rate=2, padding="same")),
    ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2, padding="same", strides=2)),
    ("SeparableConv1D", dict(filters=4, kernel_size=3, dilation_rate=2, activation="tanh")),
    ("MaxPooling1D", dict()),
    ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same")),
    ("AveragePooling1D", dict(pool_size=2, padding="same")),
    ("AveragePooling1D", dict(pool_size=4, strides=1)),
    ("GlobalMaxPooling1D", dict(keepdims=True)),
    ("GlobalAveragePooling1D", dict()),
    ("ZeroPadding1D", dict(padding=(1, 2))),
]
IMAGE_CASES = [
    ("Conv2DTranspose", dict(filters=4, kernel_size=3)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=(3, 2), strides=2, padding="same", activation="relu")),
    ("Conv2DTranspose", dict(filters=3, kernel_size=(3, 4), strides=(2, 3))),
    ("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same", output_padding=1)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=4, strides=3, padding="same", output_padding=(2, 0))),
    ("Conv2DTranspose", dict(filters=3, kernel_size=(2, 3), strides=3, output_padding=(1, 2), use_bias=False)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=(2, 3), dilation_rate=(2, 1), padding="same")),
    ("DepthwiseConv2D", dict(kernel_size=3)),
    ("DepthwiseConv2D", dict(kernel_size=(2, 3), strides=2, padding="same", depth_multiplier=2, activation="relu")),
    ("DepthwiseConv2D", dict(kernel_size=3, dilation_rate=2, use_bias=False, padding="same")),
    ("SeparableConv2D", dict(filters=4, kernel_size=3)),
    ("SeparableConv2D", dict(filters=5, kernel_size=(3, 2), strides=(2, 1), padding="same", depth_multiplier=3)),
    ("SeparableConv2D", dict(filters=2, kernel_size=2, dilation_rate=(1, 2), use_bias=False)),
]
VOLUME_CASES = [
    ("Conv3D", dict(filters=3, kernel_size=3)),
    ("Conv3D", dict(filters=4, kernel_size=(2, 3, 2), strides=(2, 1, 2), padding="same", groups=2)),
    ("Conv3D", dict(filters=3, kernel_size=(3, 2, 2), dilation_rate=(2, 1, 2), padding="same", activation="relu")),
    ("Conv3D", dict(filters=2, kernel_size=(3, 1, 2), strides=(3, 2, 1), use_bias=False)),
]
# layers without a data_format: (N, steps, C) sequences only
FORMATLESS_CASES = [("UpSampling1D", dict(size=3)), ("Cropping1D", dict(cropping=(2, 0))),
                    ("Cropping1D", dict(cropping=1))]
ATOL = 2e-5


def to_format(x, data_format):
    """A channels_last array in data_format (channels moved to axis 1)."""
    return np.moveaxis(x, -1, 1) if data_format == "channels_first" else x


def cases_of(data_format):
    """(layer name, kwargs, which input) of every case in one data format."""
    cases = [(name, dict(kw, data_format=data_format), "sequence") for name, kw in SEQUENCE_CASES]
    cases += [(name, dict(kw, data_format=data_format), "image") for name, kw in IMAGE_CASES]
    cases += [(name, dict(kw, data_format=data_format), "volume") for name, kw in VOLUME_CASES]
    if data_format == "channels_last":
        cases += [(name, kw, "sequence") for name, kw in FORMATLESS_CASES]
    return cases


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(1)
    return {kind: rng.standard_normal(shape).astype("float32") for kind, shape in SHAPES.items()}


@pytest.fixture(scope="module")
def built(inputs):
    """Per data format: the symbolic inputs, the cases, their layers (random weights) and outputs."""
    rng = np.random.default_rng(42)
    result = {}
    for data_format in FORMATS:
        symbols = {kind: TensorType("float32", (None,) + to_format(value, data_format).shape[1:])(kind)
                   for kind, value in inputs.items()}
        cases = cases_of(data_format)
        made = [getattr(layers, name)(**kw) for name, kw, _ in cases]
        outputs = [layer(symbols[kind]) for layer, (_, _, kind) in zip(made, cases)]
        for layer in made:
            layer.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.5 for w in layer.weights])
        result[data_format] = (symbols, cases, made, outputs)
    return result


@pytest.fixture(scope="module", params=BACKENDS)
def results(request, built, inputs, require_backend):
    """Every layer's output on one backend, per data format."""
    backend = require_backend(request.param)
    out = {}
    for data_format, (symbols, _, _, outputs) in built.items():
        fn = function(list(symbols.values()), outputs, backend=backend)
        out[data_format] = fn(*[to_format(inputs[kind], data_format) for kind in symbols])
    return out


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def keras_results(keras, built, inputs):
    """Every layer's output from Keras 3's own layer holding the same weights."""
    out = {}
    for data_format, (symbols, cases, made, _) in built.items():
        given = {kind: keras.Input(to_format(inputs[kind], data_format).shape[1:]) for kind in symbols}
        theirs = [getattr(keras.layers, name)(**kw) for name, kw, _ in cases]
        model = keras.Model(list(given.values()),
                            [layer(given[kind]) for layer, (_, _, kind) in zip(theirs, cases)])
        for layer, ours in zip(theirs, made):
            layer.set_weights(ours.get_weights())
        values = [to_format(inputs[kind], data_format) for kind in symbols]
        out[data_format] = [np.asarray(y) for y in model.predict(values, verbose=0)]
    return out


@pytest.mark.parametrize("data_format", FORMATS)
def test_layers_match_keras(results, keras_results, built, data_format):
    _, cases, made, _ = built[data_format]
    for (name, kwargs, _), layer, got, expected in zip(cases, made, results[data_format], keras_results[data_format]):
        assert got.dtype == np.float32 and got.shape == expected.shape, (name, kwargs)
        np.testing.assert_allclose(got, expected, atol=ATOL, rtol=1e-5, err_msg="%s %s" % (name, kwargs))


def test_output_shapes_match_keras(keras, built):
    """Symbolic output shapes, and compute_output_shape with unknown lengths, are Keras's."""
    for data_format, (_, cases, made, outputs) in built.items():
        for (name, kwargs, kind), layer, out in zip(cases, made, outputs):
            theirs = getattr(keras.layers, name)(**kwargs)
            shape = to_format(np.empty(SHAPES[kind]), data_format).shape
            assert out.type.shape == tuple(theirs.compute_output_shape((None,) + shape[1:])), (name, kwargs)
            channel_axis = 1 if data_format == "channels_first" else len(shape) - 1
            unknown = tuple(size if axis == channel_axis else None for axis, size in enumerate(shape))
            assert layer.compute_output_shape(unknown) == tuple(theirs.compute_output_shape(unknown)), (name, kwargs)


@pytest.mark.parametrize("kwargs", [dict(filters=3, kernel_size=(3, 2, 2), strides=(2, 1, 1), padding="same"),
                                    dict(filters=3, kernel_size=(4, 2, 2), strides=(3, 1, 1), padding="same"),
                                    dict(filters=3, kernel_size=2, strides=(3, 1, 1))])
def test_conv3d_of_an_unknown_depth_matches_keras(backend, keras, kwargs):
    """One compiled function for every depth: "same" padding, which depends on the depth, is worked out
    when it runs."""
    rng = np.random.default_rng(5)
    ours = layers.Conv3D(**kwargs)
    x = TensorType("float32", (None, None, 5, 4, 2))("x")
    fn = function([x], ours(x), backend=backend)
    for depth in (4, 5, 6, 7):
        value = rng.standard_normal((2, depth, 5, 4, 2)).astype("float32")
        theirs = keras.layers.Conv3D(**kwargs)
        theirs(value)
        theirs.set_weights(ours.get_weights())
        np.testing.assert_allclose(fn(value), np.asarray(theirs(value)), atol=ATOL, rtol=1e-5, err_msg=str(depth))


# --- gradients ------------------------------------------------------------------------------------
GRADIENT_CASES = [
    ("Conv1D", dict(filters=6, kernel_size=3, groups=2, padding="causal", dilation_rate=2), "sequence"),
    ("Conv1DTranspose", dict(filters=3, kernel_size=4, strides=3, padding="same", output_padding=1), "sequence"),
    ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same"), "sequence"),
    ("AveragePooling1D", dict(pool_size=3, strides=2, padding="same"), "sequence"),
    ("Conv2DTranspose", dict(filters=4, kernel_size=(3, 2), strides=2, output_padding=(1, 0), data_format="channels_first"),
     "image"),
    ("DepthwiseConv2D", dict(kernel_size=3, strides=2, depth_multiplier=2, padding="same"), "image"),
    ("SeparableConv2D", dict(filters=4, kernel_size=2, dilation_rate=2, depth_multiplier=2), "image"),
    ("Conv3D", dict(filters=4, kernel_size=(3, 2, 2), strides=(2, 1, 1), padding="same", groups=2), "volume"),
]


def test_gradients_match_jax_grad_of_keras(backend, keras, inputs):
    """d(sum over layers of sum(layer(x) * r)) / d(inputs, every weight), against jax.grad of the same
    sum of Keras's layers (stateless_call) holding the same weights."""
    import jax
    rng = np.random.default_rng(3)
    values = {kind: to_format(value, "channels_first") if kind == "image" else value
              for kind, value in inputs.items()}
    symbols = {kind: TensorType("float32", (None,) + value.shape[1:])(kind) for kind, value in values.items()}
    ours = [getattr(layers, name)(**kw) for name, kw, _ in GRADIENT_CASES]
    theirs = [getattr(keras.layers, name)(**kw) for name, kw, _ in GRADIENT_CASES]
    outputs = [layer(symbols[kind]) for layer, (_, _, kind) in zip(ours, GRADIENT_CASES)]
    for layer, twin, (_, _, kind) in zip(ours, theirs, GRADIENT_CASES):
        twin(values[kind])
        twin.set_weights(layer.get_weights())
    weights = [w for layer in ours for w in layer.weights]
    r = [rng.standard_normal((2,) + out.type.shape[1:]).astype("float32") for out in outputs]
    cost = sum((out * ri).sum() for out, ri in zip(outputs, r))
    got = function(list(symbols.values()), grad(cost, list(symbols.values()) + weights), backend=backend)(
        *values.values())

    def reference_cost(*arrays):
        given, flat = dict(zip(values, arrays)), arrays[len(values):]
        total, start = 0.0, 0
        for twin, (_, _, kind), ri in zip(theirs, GRADIENT_CASES, r):
            own = flat[start:start + len(twin.trainable_variables)]
            start += len(own)
            total = total + (twin.stateless_call(list(own), [], given[kind])[0] * ri).sum()
        return total
    arrays = list(values.values()) + [np.asarray(w.get_value()) for w in weights]
    expected = jax.grad(reference_cost, argnums=tuple(range(len(arrays))))(*arrays)
    for g, e, what in zip(got, expected, list(symbols) + [w.path for w in weights]):
        np.testing.assert_allclose(g, np.asarray(e), atol=1e-4, rtol=1e-4, err_msg=what)


# --- configs, signatures, errors --------------------------------------------------------------------
NEW_LAYERS = ["Conv1D", "Conv1DTranspose", "Conv2DTranspose", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D",
              "SeparableConv1D", "SeparableConv2D", "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D",
              "GlobalAveragePooling1D", "UpSampling1D", "ZeroPadding1D", "Cropping1D"]


def assert_config_is_keras(keras, name, kwargs, layer):
    """layer's config has the keys and values of Keras's same layer made with kwargs, and round-trips."""
    mine, ref = layer.get_config(), getattr(keras.layers, name)(**kwargs).get_config()
    assert set(mine) == set(ref), name
    for key in set(ref) - {"name", "dtype"} - {k for k in ref if k.endswith("_initializer")}:
        value = ref[key]
        assert mine[key] == (tuple(value) if isinstance(value, list) else value), (name, key)
    again = type(layer).from_config(mine)
    assert type(again) is type(layer) and again.get_config() == mine


def assert_signature_is_keras(keras, name, pool_size_default=None, keras1_kwargs=False):
    """Argument names, order and defaults of layers.<name> are Keras's; with pool_size_default, but for a
    pool_size of that default where Keras 3 requires one; with keras1_kwargs, but for a **kwargs (for
    Keras 1's spellings) where Keras 3's takes none."""
    ours = dict(inspect.signature(getattr(layers, name)).parameters)
    theirs = dict(inspect.signature(getattr(keras.layers, name)).parameters)
    if keras1_kwargs:
        assert ours.pop("kwargs").kind == inspect.Parameter.VAR_KEYWORD and "kwargs" not in theirs
    if pool_size_default is not None:
        assert ours.pop("pool_size").default == pool_size_default
        theirs.pop("pool_size")
    assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in theirs.values()], name


@pytest.mark.parametrize("data_format", FORMATS)
def test_configs_have_keras_keys_and_round_trip(keras, built, data_format):
    _, cases, made, _ = built[data_format]
    for (name, kwargs, _), layer in zip(cases, made):
        assert_config_is_keras(keras, name, kwargs, layer)


def test_signatures_match_keras(keras):
    """Argument names, order and defaults are Keras's, except AveragePooling1D's pool_size, which keeps
    Keras 1/2's default of 2 where Keras 3 requires it (as AveragePooling2D does)."""
    for name in NEW_LAYERS:
        assert_signature_is_keras(keras, name, 2 if name == "AveragePooling1D" else None)


def test_aliases_names_and_keras1_spellings():
    assert layers.Convolution1D is layers.Conv1D and layers.Convolution2DTranspose is layers.Conv2DTranspose
    assert layers.Convolution1DTranspose is layers.Conv1DTranspose and layers.Convolution3D is layers.Conv3D
    assert layers.SeparableConvolution2D is layers.SeparableConv2D
    assert layers.SeparableConvolution1D is layers.SeparableConv1D
    assert layers.MaxPool1D is layers.MaxPooling1D and layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D
    assert layers.GlobalAvgPool1D is layers.GlobalAveragePooling1D
    from mlcore.layers.base import clear_session
    clear_session()
    names = [layers.Conv1D(1, 1).name, layers.Conv2DTranspose(1, 1).name, layers.DepthwiseConv2D(1).name,
             layers.SeparableConv1D(1, 1).name, layers.GlobalAveragePooling1D().name, layers.UpSampling1D().name]
    assert names == ["conv1d", "conv2d_transpose", "depthwise_conv2d", "separable_conv1d",
                     "global_average_pooling1d", "up_sampling1d"]
    conv = layers.Convolution1D(8, 5, border_mode="causal", subsample_length=2, init="zeros", bias=False)
    assert (conv.filters, conv.kernel_size, conv.strides, conv.padding, conv.use_bias) == (8, (5,), (2,), "causal", False)
    assert type(conv.kernel_initializer).__name__ == "Zeros"
    pool = layers.MaxPooling1D(pool_length=3, stride=1, border_mode="same")
    assert (pool.pool_size, pool.strides, pool.padding) == ((3,), (1,), "same")


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.Conv1D(0, 3), ValueError, "filters"),
    (lambda: layers.Conv1D(4, (3, 3)), ValueError, "kernel_size"),
    (lambda: layers.Conv1D(4, 3, padding="full"), ValueError, "causal"),
    (lambda: layers.Conv1D(4, 3, groups=3), ValueError, "groups"),
    (lambda: layers.Conv1D(4, 3, strides=2, dilation_rate=2), ValueError, "dilation_rate"),
    (lambda: layers.Conv2D(4, 3, padding="causal"), ValueError, "padding"),
    (lambda: layers.Conv2DTranspose(4, 3, padding="causal"), ValueError, "padding"),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2, output_padding=2), ValueError, "output_padding"),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2, dilation_rate=2), ValueError, "dilation_rate"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), ValueError, "depth_multiplier"),
    (lambda: layers.SeparableConv2D(0, 3), ValueError, "filters"),
    (lambda: layers.DepthwiseConv2D(3, data_format="channels_middle"), ValueError, "data_format"),
    (lambda: layers.MaxPooling1D(0), ValueError, "pool_size"),
    (lambda: layers.UpSampling1D(2.0), TypeError, "integer"),
    (lambda: layers.UpSampling1D(0), ValueError, "size"),
    (lambda: layers.ZeroPadding1D(-1), ValueError, "padding"),
    (lambda: layers.Cropping1D((1, 2, 3)), ValueError, "cropping"),
])
def test_argument_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_input_errors_name_the_layer():
    sequence = TensorType("float32", (None, 8, 4))("sequence")
    image = TensorType("float32", (None, 8, 8, 4))("image")
    with pytest.raises(ValueError, match="'c1'.*ndim=3.*ndim=4"):
        layers.Conv1D(2, 3, name="c1")(image)
    with pytest.raises(ValueError, match="'d'.*ndim=4.*ndim=3"):
        layers.DepthwiseConv2D(3, name="d")(sequence)
    with pytest.raises(ValueError, match="'p'.*ndim=3"):
        layers.MaxPooling1D(name="p")(image)
    with pytest.raises(ValueError, match="groups"):
        layers.Conv1D(6, 3, groups=3)(sequence)
    with pytest.raises(ValueError, match="channel dimension"):
        layers.SeparableConv1D(2, 3)(TensorType("float32", (None, 8, None))("unknown"))
    with pytest.raises(ValueError, match="smaller than the input length"):
        layers.Cropping1D((4, 4))(sequence)
    transpose = layers.Conv2DTranspose(2, 3, name="t")
    transpose(image)
    with pytest.raises(ValueError, match="'t'.*4 channels"):
        transpose(TensorType("float32", (None, 8, 8, 5))("other"))


# --- models that train and save -----------------------------------------------------------------------
def sequence_model(lib):
    L = lib.layers
    return lib.Sequential([lib.Input((12, 3)), L.Conv1D(6, 3, padding="causal", activation="relu", name="conv"),
                           L.MaxPooling1D(2), L.ZeroPadding1D((1, 0)), L.Cropping1D((0, 1)), L.UpSampling1D(2),
                           L.SeparableConv1D(4, 3, padding="same", name="sep"),
                           L.Conv1DTranspose(4, 3, strides=2, name="up"), L.AveragePooling1D(3),
                           L.GlobalMaxPooling1D(), L.Dense(1, name="out")], name="sequence")


def image_model(lib):
    L = lib.layers
    return lib.Sequential([lib.Input((8, 8, 2)), L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw"),
                           L.SeparableConv2D(4, 3, strides=2, padding="same", activation="relu", name="sep"),
                           L.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1, name="up"),
                           L.DepthwiseConv2D(2, strides=2, name="dw2"), L.GlobalAveragePooling2D(),
                           L.Dense(1, name="out")], name="image")


def volume_model(lib):
    L = lib.layers
    return lib.Sequential([lib.Input((4, 6, 6, 2)), L.Conv3D(4, 3, padding="same", groups=2, activation="relu",
                                                             name="c1"),
                           L.Conv3D(3, (2, 3, 3), strides=(1, 2, 2), name="c2"), L.Flatten(), L.Dense(1, name="out")],
                          name="volume")


@pytest.mark.parametrize("build, shape", [(sequence_model, (12, 3)), (image_model, (8, 8, 2)),
                                          (volume_model, (4, 6, 6, 2))])
def test_models_train_and_save_in_formats_keras_reads(tmp_path, keras, numpy_backend, build, shape):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((32,) + shape).astype("float32")
    y = (x.reshape(32, -1)[:, :5].sum(axis=1, keepdims=True) > 0).astype("float32")
    model = build(mlcore)
    model.compile(optimizer=mlcore.optimizers.Adam(0.01), loss="mse")
    losses = model.fit(x, y, epochs=15, batch_size=8, verbose=0, shuffle=False).history["loss"]
    assert losses[-1] < 0.7 * losses[0]
    expected = model.predict(x, verbose=0)

    model.save_weights(str(tmp_path / "m.weights.h5"))
    fresh = build(mlcore)
    fresh.load_weights(str(tmp_path / "m.weights.h5"))
    np.testing.assert_allclose(fresh.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    theirs = build(keras)
    theirs.load_weights(str(tmp_path / "m.weights.h5"))
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), expected, rtol=1e-4, atol=1e-5)

    assert_keras_archives_load_both_ways(tmp_path, keras, model, theirs, x, expected)


def assert_keras_archives_load_both_ways(tmp_path, keras, model, theirs, x, expected):
    """model's .keras archive loads in mlcore and in Keras, and Keras's twin's (same weights) in mlcore,
    each predicting `expected` for x."""
    model.save(str(tmp_path / "m.keras"))
    np.testing.assert_allclose(load_model(str(tmp_path / "m.keras")).predict(x, verbose=0), expected,
                               rtol=1e-5, atol=1e-6)
    loaded = keras.saving.load_model(str(tmp_path / "m.keras"))
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), expected, rtol=1e-4, atol=1e-5)

    theirs.save(str(tmp_path / "k.keras"))          # and back: Keras's archive of the same model in mlcore
    np.testing.assert_allclose(load_model(str(tmp_path / "k.keras")).predict(x, verbose=0), expected,
                               rtol=1e-4, atol=1e-5)
