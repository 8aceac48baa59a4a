"""Conv2D, pooling and padding layers on every backend, against an independent numpy computation and
against Keras 3's layers holding the same weights; both data formats, strides, dilation, same/valid.

All the layers of one data format are compiled into one function per backend, so each backend compiles
twice (theano's C compilation is the slow part)."""
import os

import numpy as np
import pytest
import scipy.signal

os.environ["KERAS_BACKEND"] = "jax"

from mlcore import function, grad, layers  # noqa: E402
from mlcore.graph.basic import TensorType  # noqa: E402

BACKENDS = ["numpy", "jax", "theano"]      # skipped where not installed (conftest's require_backend)
FORMATS = ["channels_last", "channels_first"]
INPUT_NHWC = (2, 7, 9, 6)
CONV_CASES = [
    dict(filters=4, kernel_size=3),
    dict(filters=5, kernel_size=(2, 3), strides=(2, 1), padding="same"),
    dict(filters=4, kernel_size=3, dilation_rate=2, padding="same"),
    dict(filters=3, kernel_size=(2, 2), dilation_rate=(1, 2)),
    dict(filters=6, kernel_size=(3, 2), strides=2, use_bias=False),
    dict(filters=6, kernel_size=3, groups=3, padding="same", activation="relu"),
    dict(filters=2, kernel_size=1, activation="sigmoid"),
]
OTHER_CASES = [
    ("MaxPooling2D", dict(pool_size=2)),
    ("MaxPooling2D", dict(pool_size=(3, 2), strides=(1, 2), padding="same")),
    ("AveragePooling2D", dict(pool_size=2, padding="same")),
    ("AveragePooling2D", dict(pool_size=(3, 3), strides=2)),
    ("GlobalAveragePooling2D", dict()),
    ("GlobalMaxPooling2D", dict(keepdims=True)),
    ("ZeroPadding2D", dict(padding=((1, 2), (3, 0)))),
    ("ZeroPadding2D", dict(padding=2)),
]
ATOL = 2e-5


# --- independent references, on NHWC arrays ------------------------------------------------------
def _window_geometry(size, k, stride, dilation, padding):
    span = (k - 1) * dilation + 1
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + span - size, 0)
        return out, (total // 2, total - total // 2)
    return (size - span) // stride + 1, (0, 0)


def reference_conv(x, kernel, bias, strides=(1, 1), padding="valid", dilation=(1, 1), groups=1):
    """Shift-and-multiply: the sum over kernel taps of strided input slices times the tap's matrix."""
    n, h, w, _ = x.shape
    kh, kw, cin, cout = kernel.shape
    (oh, ph), (ow, pw) = (_window_geometry(s, k, st, d, padding) for s, k, st, d in
                          zip((h, w), (kh, kw), strides, dilation))
    xp = np.pad(x.astype(np.float64), ((0, 0), ph, pw, (0, 0)))
    out = np.zeros((n, oh, ow, cout))
    per = cout // groups
    for i in range(kh):
        for j in range(kw):
            r, c = i * dilation[0], j * dilation[1]
            patch = xp[:, r:r + (oh - 1) * strides[0] + 1:strides[0], c:c + (ow - 1) * strides[1] + 1:strides[1]]
            for g in range(groups):
                taps = kernel[i, j, :, g * per:(g + 1) * per]
                out[..., g * per:(g + 1) * per] += patch[..., g * cin:(g + 1) * cin] @ taps
    return out + (0 if bias is None else bias)


def reference_pool(x, mode, pool, strides, padding):
    n, h, w, c = x.shape
    (oh, ph), (ow, pw) = (_window_geometry(s, k, st, 1, padding) for s, k, st in zip((h, w), pool, strides))
    fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(x.astype(np.float64), ((0, 0), ph, pw, (0, 0)), constant_values=fill)
    real = np.pad(np.ones((1, h, w, 1)), ((0, 0), ph, pw, (0, 0)))
    out = np.empty((n, oh, ow, c))
    for a in range(oh):
        for b in range(ow):
            rows = slice(a * strides[0], a * strides[0] + pool[0])
            cols = slice(b * strides[1], b * strides[1] + pool[1])
            window = xp[:, rows, cols]
            if mode == "max":
                out[:, a, b] = window.max(axis=(1, 2))
            else:
                out[:, a, b] = window.sum(axis=(1, 2)) / real[:, rows, cols].sum()
    return out


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


ACTIVATIONS = {None: lambda v: v, "relu": lambda v: np.maximum(v, 0), "sigmoid": lambda v: 1 / (1 + np.exp(-v))}


def reference(layer_name, kwargs, weights, x):
    """The expected NHWC output of a layer given its NHWC input."""
    if layer_name == "Conv2D":
        bias = weights[1] if len(weights) > 1 else None
        out = reference_conv(x, weights[0], bias, _pair(kwargs.get("strides", 1)), kwargs.get("padding", "valid"),
                             _pair(kwargs.get("dilation_rate", 1)), kwargs.get("groups", 1))
        return ACTIVATIONS[kwargs.get("activation")](out)
    if layer_name in ("MaxPooling2D", "AveragePooling2D"):
        pool = _pair(kwargs["pool_size"])
        strides = _pair(kwargs.get("strides") or pool)
        return reference_pool(x, "max" if layer_name == "MaxPooling2D" else "avg", pool, strides,
                              kwargs.get("padding", "valid"))
    if layer_name.startswith("Global"):
        reduce = np.mean if "Average" in layer_name else np.max
        return reduce(x, axis=(1, 2), keepdims=kwargs.get("keepdims", False))
    pad = kwargs["padding"]
    pad = ((pad, pad), (pad, pad)) if isinstance(pad, int) else pad
    return np.pad(x, ((0, 0),) + tuple(pad) + ((0, 0),))


def test_reference_conv_is_scipy_correlate():
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal((1, 6, 7, 1)), rng.standard_normal((3, 2, 1, 1))
    expected = scipy.signal.correlate2d(x[0, :, :, 0], k[:, :, 0, 0], mode="valid")
    np.testing.assert_allclose(reference_conv(x, k, None)[0, :, :, 0], expected, atol=1e-12)
    full = scipy.signal.correlate2d(x[0, :, :, 0], k[:, :, 0, 0], mode="full")
    same = full[1:7, 1:8]                   # TF's "same": rows padded (1, 1), columns (0, 1)
    np.testing.assert_allclose(reference_conv(x, k, None, padding="same")[0, :, :, 0], same, atol=1e-12)


# --- the layers, built once per data format --------------------------------------------------------
def _to_format(x_nhwc, data_format):
    return x_nhwc.transpose(0, 3, 1, 2) if data_format == "channels_first" and x_nhwc.ndim == 4 else x_nhwc


def _from_format(y, data_format):
    return y.transpose(0, 2, 3, 1) if data_format == "channels_first" and y.ndim == 4 else y


@pytest.fixture(scope="module")
def built():
    """Per data format: the input, the layers (with random weights) and their symbolic outputs."""
    rng = np.random.default_rng(42)
    result = {}
    for data_format in FORMATS:
        shape = _to_format(np.empty(INPUT_NHWC), data_format).shape
        x = TensorType("float32", (None,) + shape[1:])("x")
        cases = [("Conv2D", kw) for kw in CONV_CASES] + OTHER_CASES
        made = [getattr(layers, name)(data_format=data_format, **kw) for name, kw in cases]
        outputs = [layer(x) for layer in made]
        for layer in made:
            layer.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.5 for w in layer.weights])
        result[data_format] = (x, cases, made, outputs)
    return result


@pytest.fixture(scope="module")
def x_nhwc():
    return np.random.default_rng(1).standard_normal(INPUT_NHWC).astype("float32")


@pytest.fixture(scope="module", params=BACKENDS)
def results(request, built, x_nhwc, require_backend):
    """Every layer's output on one backend, for both data formats, converted back to NHWC."""
    backend = require_backend(request.param)
    out = {}
    for data_format, (x, cases, made, outputs) in built.items():
        fn = function([x], outputs, backend=backend)
        out[data_format] = [_from_format(y, data_format) for y in fn(_to_format(x_nhwc, data_format))]
    return out


@pytest.mark.parametrize("data_format", FORMATS)
def test_layers_match_numpy_reference(results, built, x_nhwc, data_format):
    _, cases, made, _ = built[data_format]
    for (name, kwargs), layer, got in zip(cases, made, results[data_format]):
        expected = reference(name, kwargs, layer.get_weights(), x_nhwc.astype(np.float64))
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=ATOL, rtol=1e-5, err_msg="%s %s" % (name, kwargs))


@pytest.fixture(scope="module")
def keras_results(built, x_nhwc):
    """Every layer's output from Keras 3's own layer holding the same weights, converted to NHWC."""
    keras = pytest.importorskip("keras")
    out = {}
    for data_format, (_, cases, made, _) in built.items():
        x = _to_format(x_nhwc, data_format)
        inputs = keras.Input(x.shape[1:])
        theirs = [getattr(keras.layers, name)(data_format=data_format, **kwargs) for name, kwargs in cases]
        model = keras.Model(inputs, [layer(inputs) for layer in theirs])     # one compiled call for all
        for layer, ours in zip(theirs, made):
            layer.set_weights(ours.get_weights())
        out[data_format] = [_from_format(np.asarray(y), data_format) for y in model.predict(x, verbose=0)]
    return out


@pytest.mark.parametrize("data_format", FORMATS)
def test_layers_match_keras(results, keras_results, built, data_format):
    _, cases, _, _ = built[data_format]
    for (name, kwargs), got, expected in zip(cases, results[data_format], keras_results[data_format]):
        np.testing.assert_allclose(got, expected, atol=ATOL, rtol=1e-5, err_msg="%s %s" % (name, kwargs))


def test_gradients_match_jax(backend, x_nhwc):
    """d(sum(layer(x) * r)) / d(x, kernel) against jax.grad of the same computation with jax.lax."""
    jax = pytest.importorskip("jax")
    from jax import lax
    rng = np.random.default_rng(3)
    x = TensorType("float32", (None, 6, 7, 9))("x")           # channels_first input
    conv = layers.Conv2D(4, (3, 2), strides=(2, 1), padding="same", data_format="channels_first")
    pool = layers.MaxPooling2D((2, 2), strides=1, data_format="channels_first")
    y = pool(conv(x))
    r = rng.standard_normal((2, 4, 3, 8)).astype("float32")
    cost = (y * r).sum()
    fn = function([x], grad(cost, [x, conv.kernel, conv.bias]), backend=backend)
    x_value = x_nhwc.transpose(0, 3, 1, 2)
    got = fn(x_value)

    def reference_cost(x, k, b):
        out = lax.conv_general_dilated(x, k, (2, 1), ((1, 1), (0, 1)), dimension_numbers=("NCHW", "HWIO", "NCHW"))
        out = out + b[:, None, None]
        out = lax.reduce_window(out, -np.inf, lax.max, (1, 1, 2, 2), (1, 1, 1, 1), "VALID")
        return (out * r).sum()
    expected = jax.grad(reference_cost, argnums=(0, 1, 2))(x_value, conv.kernel.get_value(), conv.bias.get_value())
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, np.asarray(e), atol=1e-4, rtol=1e-4)


# --- Keras 1/2 spellings, aliases, validation ----------------------------------------------------------
def test_convolution2d_keras1_signature_makes_conv2d():
    from mlcore import regularizers
    layer = layers.Convolution2D(8, 3, 5, init="he_normal", activation="relu", border_mode="same",
                                 subsample=(2, 2), dim_ordering="th", W_regularizer=regularizers.l2(0.01), bias=False)
    assert type(layer) is layers.Conv2D and type(layer).__name__ == "Conv2D"
    assert (layer.filters, layer.kernel_size, layer.strides, layer.padding) == (8, (3, 5), (2, 2), "same")
    assert layer.data_format == "channels_first" and not layer.use_bias
    assert type(layer.kernel_initializer).__name__ == "HeNormal" and layer.kernel_regularizer is not None
    assert layers.Convolution2D(4, 3, 3, dim_ordering="tf").data_format == "channels_last"
    assert layers.Convolution2D(nb_filter=4, nb_row=2, nb_col=3).kernel_size == (2, 3)
    assert layers.Convolution2D(4, (3, 3), padding="same").padding == "same"       # Keras 2's call
    layer.build((None, 3, 16, 16))
    assert layer.kernel.shape == (3, 5, 3, 8) and layer.bias is None                # (h, w, in, out) always
    with pytest.raises(TypeError):
        layers.Convolution2D(4, 3, 3, 1)


def test_convolution2d_is_an_alias_of_conv2d():
    """As keras.layers.Convolution2D is keras.layers.Conv2D: isinstance holds both ways round, and
    from_config rebuilds a Conv2D."""
    conv = layers.Conv2D(4, 3, padding="same")
    assert isinstance(conv, layers.Convolution2D) and isinstance(layers.Convolution2D(4, 3, 3), layers.Conv2D)
    assert issubclass(layers.Conv2D, layers.Convolution2D) and not isinstance(layers.Dense(2), layers.Convolution2D)
    again = layers.Convolution2D.from_config(conv.get_config())
    assert type(again) is layers.Conv2D and again.get_config() == conv.get_config()


def test_keras1_pooling_spellings():
    pool = layers.MaxPooling2D((2, 2), (1, 1), "same", "th")          # Keras 1's positional order
    assert (pool.pool_size, pool.strides, pool.padding, pool.data_format) == ((2, 2), (1, 1), "same", "channels_first")
    pool = layers.MaxPooling2D(pool_size=(3, 3), border_mode="same", dim_ordering="tf")
    assert (pool.strides, pool.padding, pool.data_format) == ((3, 3), "same", "channels_last")
    assert layers.GlobalAveragePooling2D(dim_ordering="th").data_format == "channels_first"
    assert layers.ZeroPadding2D((1, 2), dim_ordering="th").padding == ((1, 1), (2, 2))


def test_aliases_and_keras_names():
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.AvgPool2D is layers.AveragePooling2D
    assert layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D
    assert layers.GlobalMaxPool2D is layers.GlobalMaxPooling2D
    from mlcore.layers.base import clear_session
    clear_session()
    names = [layers.Conv2D(1, 1).name, layers.Conv2D(1, 1).name, layers.MaxPooling2D().name,
             layers.GlobalAveragePooling2D().name, layers.ZeroPadding2D().name]
    assert names == ["conv2d", "conv2d_1", "max_pooling2d", "global_average_pooling2d", "zero_padding2d"]


def test_configs_have_keras_keys():
    keras = pytest.importorskip("keras")
    pairs = [(layers.Conv2D(4, 3), keras.layers.Conv2D(4, 3)),
             (layers.MaxPooling2D(), keras.layers.MaxPooling2D()),
             (layers.AveragePooling2D(2), keras.layers.AveragePooling2D(2)),
             (layers.GlobalMaxPooling2D(), keras.layers.GlobalMaxPooling2D()),
             (layers.ZeroPadding2D(2), keras.layers.ZeroPadding2D(2))]
    for ours, theirs in pairs:
        mine, ref = ours.get_config(), theirs.get_config()
        assert set(mine) == set(ref), type(ours).__name__
        for key in set(ref) - {"name", "dtype", "kernel_initializer", "bias_initializer"}:
            value = ref[key]
            assert mine[key] == (tuple(value) if isinstance(value, list) else value), key


def test_signatures_match_keras():
    """Argument names, order and defaults are Keras's (name= included), except AveragePooling2D's
    pool_size, which keeps Keras 1/2's (2, 2) default where Keras 3 requires it."""
    import inspect
    keras = pytest.importorskip("keras")
    for name in ["Conv2D", "ZeroPadding2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
                 "GlobalMaxPooling2D"]:
        ours = dict(inspect.signature(getattr(layers, name)).parameters)
        theirs = dict(inspect.signature(getattr(keras.layers, name)).parameters)
        if name == "AveragePooling2D":
            assert ours.pop("pool_size").default == (2, 2)
            theirs.pop("pool_size")
        assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in theirs.values()], name
    assert layers.MaxPooling2D(2, 2, "same", "channels_last", "pool").name == "pool"


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Conv2D(0, 3), "filters"),
    (lambda: layers.Conv2D(4, (3, 3, 3)), "kernel_size"),
    (lambda: layers.Conv2D(4, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: layers.Conv2D(4, 3, padding="full"), "padding"),
    (lambda: layers.Conv2D(4, 3, data_format="channels_middle"), "data_format"),
    (lambda: layers.Conv2D(4, 3, groups=3), "groups"),
    (lambda: layers.MaxPooling2D(0), "pool_size"),
    (lambda: layers.ZeroPadding2D((1, 2, 3)), "padding"),
    (lambda: layers.ZeroPadding2D(-1), "padding"),
])
def test_argument_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_input_errors_name_the_layer():
    x = TensorType("float32", (None, 8, 8, 3))("x")
    with pytest.raises(ValueError, match="groups"):
        layers.Conv2D(4, 3, groups=2)(x)
    conv = layers.Conv2D(4, 3, name="c")
    conv(x)
    with pytest.raises(ValueError, match="'c'.*3 channels"):
        conv(TensorType("float32", (None, 8, 8, 5))("y"))
    with pytest.raises(ValueError, match="ndim=4"):
        layers.MaxPooling2D()(TensorType("float32", (None, 8, 3))("z"))


def test_eager_call_and_output_shapes():
    x = np.ones((1, 10, 10, 3), "float32")
    assert layers.Conv2D(4, 3, strides=2, padding="same")(x).shape == (1, 5, 5, 4)
    assert layers.MaxPooling2D(3, padding="same")(x).shape == (1, 4, 4, 3)
    assert layers.Conv2D(4, 3).compute_output_shape((None, 10, 12, 3)) == (None, 8, 10, 4)
    assert layers.GlobalMaxPooling2D(keepdims=True).compute_output_shape((None, 3, 5, 6)) == (None, 1, 1, 6)
