"""The 3-d spatial layers (MaxPooling3D, AveragePooling3D, their global forms, UpSampling3D, ZeroPadding3D,
Cropping3D, SpatialDropout3D, Conv3DTranspose) and T.signal.pool.pool_3d: outputs against Keras 3's own
layers on volumes of odd sizes in both data formats on every backend, pooling gradients against finite
differences, pool_3d against a numpy loop, configs, signatures, errors, and a small model that trains and
saves in formats Keras 3 reads.

All the layers of one data format are compiled into one function per backend (theano's C compilation
is the slow part)."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore import function, grad, layers
from mlcore.graph.basic import TensorType
from mlcore.models import load_model
from op_cases import pool_ref
from test_conv_layers_more import (ATOL, BACKENDS, FORMATS, assert_config_is_keras,
                                   assert_keras_archives_load_both_ways, assert_signature_is_keras, to_format)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # jax arrays' __array__ in Keras

VOLUME_NDHWC = (2, 5, 7, 3, 4)
CASES = [
    ("MaxPooling3D", dict()),
    ("MaxPooling3D", dict(pool_size=(2, 3, 2), strides=(2, 2, 1), padding="same")),
    ("MaxPooling3D", dict(pool_size=3, strides=(1, 2, 1))),
    ("AveragePooling3D", dict(pool_size=(3, 2, 2))),
    ("AveragePooling3D", dict(pool_size=3, strides=2, padding="same")),
    ("AveragePooling3D", dict(pool_size=(2, 4, 3), strides=1, padding="same")),
    ("GlobalMaxPooling3D", dict()),
    ("GlobalMaxPooling3D", dict(keepdims=True)),
    ("GlobalAveragePooling3D", dict()),
    ("GlobalAveragePooling3D", dict(keepdims=True)),
    ("UpSampling3D", dict()),
    ("UpSampling3D", dict(size=(1, 3, 2))),
    ("ZeroPadding3D", dict()),
    ("ZeroPadding3D", dict(padding=(2, 0, 1))),
    ("ZeroPadding3D", dict(padding=((0, 1), 2, (3, 0)))),
    ("Cropping3D", dict()),
    ("Cropping3D", dict(cropping=((2, 0), (1, 3), 0))),
    ("SpatialDropout3D", dict(rate=0.5)),
    ("Conv3DTranspose", dict(filters=3, kernel_size=3)),
    ("Conv3DTranspose", dict(filters=2, kernel_size=(3, 2, 2), strides=(2, 1, 2), padding="same", activation="relu")),
    ("Conv3DTranspose", dict(filters=2, kernel_size=(4, 3, 2), strides=(3, 2, 1), output_padding=(2, 1, 0))),
    ("Conv3DTranspose", dict(filters=2, kernel_size=(2, 3, 3), dilation_rate=(2, 1, 2), padding="same",
                             use_bias=False)),
]
NAMES = sorted({name for name, _ in CASES})


@pytest.fixture(scope="module")
def volume():
    return np.random.default_rng(1).standard_normal(VOLUME_NDHWC).astype("float32")


@pytest.fixture(scope="module")
def built(volume):
    """Per data format: the symbolic input, its layers (random weights) and their outputs."""
    rng = np.random.default_rng(42)
    result = {}
    for data_format in FORMATS:
        x = TensorType("float32", (None,) + to_format(volume, data_format).shape[1:])("x")
        made = [getattr(layers, name)(**dict(kw, data_format=data_format)) for name, kw in CASES]
        outputs = [layer(x) for layer in made]
        for layer in made:
            layer.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.5 for w in layer.weights])
        result[data_format] = (x, made, outputs)
    return result


@pytest.fixture(scope="module", params=BACKENDS)
def results(request, built, volume, require_backend):
    """Every layer's output on one backend, per data format."""
    backend = require_backend(request.param)
    return {data_format: function([x], outputs, backend=backend)(to_format(volume, data_format))
            for data_format, (x, _, outputs) in built.items()}


@pytest.fixture(scope="module")
def keras_results(keras, built, volume):
    """Every layer's output from Keras 3's own layer holding the same weights."""
    out = {}
    for data_format, (_, made, _) in built.items():
        value = to_format(volume, data_format)
        given = keras.Input(value.shape[1:])
        theirs = [getattr(keras.layers, name)(**dict(kw, data_format=data_format)) for name, kw in CASES]
        model = keras.Model(given, [layer(given) for layer in theirs])
        for layer, ours in zip(theirs, made):
            layer.set_weights(ours.get_weights())
        out[data_format] = [np.asarray(y) for y in model.predict(value, verbose=0)]
    return out


@pytest.mark.parametrize("data_format", FORMATS)
def test_layers_match_keras(results, keras_results, built, data_format):
    _, made, outputs = built[data_format]
    for (name, kwargs), out, got, expected in zip(CASES, outputs, results[data_format], keras_results[data_format]):
        assert got.dtype == np.float32 and got.shape == expected.shape, (name, kwargs)
        assert out.type.shape == (None,) + expected.shape[1:], (name, kwargs)
        np.testing.assert_allclose(got, expected, atol=ATOL, rtol=1e-5, err_msg="%s %s" % (name, kwargs))


def test_output_shapes_of_unknown_sizes_match_keras(keras, built):
    for data_format, (_, made, _) in built.items():
        for (name, kwargs), layer in zip(CASES, made):
            theirs = getattr(keras.layers, name)(**dict(kwargs, data_format=data_format))
            unknown = (None, 4, None, None, None) if data_format == "channels_first" else (None, None, None, None, 4)
            assert layer.compute_output_shape(unknown) == tuple(theirs.compute_output_shape(unknown)), (name, kwargs)


@pytest.mark.parametrize("name, kwargs", [
    ("MaxPooling3D", dict(pool_size=(3, 2, 2), strides=(2, 1, 2), padding="same")),
    ("AveragePooling3D", dict(pool_size=(2, 3, 2), strides=(1, 2, 2), padding="same")),
    ("Conv3DTranspose", dict(filters=2, kernel_size=(3, 2, 2), strides=(2, 1, 3), padding="same")),
])
def test_one_function_serves_every_volume_size(backend, keras, name, kwargs):
    """Unknown depth, rows and cols: "same" padding, which depends on them, is worked out when it runs."""
    rng = np.random.default_rng(5)
    ours = getattr(layers, name)(**kwargs)
    x = TensorType("float32", (None, None, None, None, 2))("x")
    fn = function([x], ours(x), backend=backend)
    for shape in [(4, 5, 3), (5, 4, 6), (7, 3, 2)]:
        value = rng.standard_normal((2,) + shape + (2,)).astype("float32")
        theirs = getattr(keras.layers, name)(**kwargs)
        theirs(value)
        theirs.set_weights(ours.get_weights())
        np.testing.assert_allclose(fn(value), np.asarray(theirs(value)), atol=ATOL, rtol=1e-5, err_msg=str(shape))


# --- gradients ------------------------------------------------------------------------------------
POOLING_GRADIENT_CASES = [
    ("MaxPooling3D", dict(pool_size=(2, 3, 2), strides=(1, 2, 1), padding="same")),
    ("MaxPooling3D", dict(pool_size=2, data_format="channels_first")),
    ("AveragePooling3D", dict(pool_size=(3, 2, 2), strides=2, padding="same")),
    ("AveragePooling3D", dict(pool_size=(2, 3, 2), strides=(2, 1, 1), data_format="channels_first")),
    ("GlobalMaxPooling3D", dict()),
    ("GlobalAveragePooling3D", dict(data_format="channels_first")),
]


def test_pooling_gradients_match_finite_differences(backend, numeric_grad, floatx):
    """d(sum over layers of sum(layer(x) * r)) / dx on each backend, against central differences of the
    same cost computed in float64."""
    rng = np.random.default_rng(3)
    value = rng.standard_normal((2, 4, 5, 3, 2))
    r = {}

    def cost_of(x):
        total = 0
        for name, kwargs in POOLING_GRADIENT_CASES:
            out = getattr(layers, name)(**kwargs)(x)
            weights = r.setdefault((name, str(kwargs)), rng.standard_normal((2,) + out.type.shape[1:]))
            total = total + (out * weights.astype(x.dtype)).sum()
        return total
    floatx("float64")
    x64 = TensorType("float64", value.shape)("x")
    expected = numeric_grad(function([x64], cost_of(x64), backend="numpy"), [value], 0)
    dtype = "float64" if backend == "numpy" else "float32"
    floatx(dtype)
    x = TensorType(dtype, value.shape)("x")
    got = function([x], grad(cost_of(x), x), backend=backend)(value.astype(dtype))
    tolerance = 1e-7 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


def test_spatial_dropout_drops_whole_channels(backend):
    """In training each (sample, channel) volume is all zeros or all scaled by 1 / (1 - rate)."""
    value = np.random.default_rng(4).uniform(1, 2, (4, 6, 3, 2, 6)).astype("float32")   # 24 maps either way
    for data_format, channel_axis in (("channels_last", 4), ("channels_first", 1)):
        x = TensorType("float32", (None, 6, 3, 2, 6))("x")
        out = function([x], layers.SpatialDropout3D(0.5, data_format=data_format, seed=7)(x, training=True),
                       backend=backend)(value)
        kept = np.moveaxis(out != 0, channel_axis, 1).reshape(value.shape[0], value.shape[channel_axis], -1)
        assert (kept.all(axis=2) | ~kept.any(axis=2)).all() and 0 < kept.mean() < 1, data_format
        np.testing.assert_allclose(out[out != 0], 2 * value[out != 0], rtol=1e-6)


# --- pool_3d -------------------------------------------------------------------------------------
POOL_3D_CASES = [
    dict(ws=(2, 2, 2), ignore_border=True),
    dict(ws=(2, 3, 2), ignore_border=False, stride=(2, 2, 1)),
    dict(ws=(3, 2, 2), ignore_border=True, stride=(1, 2, 3), pad=(1, 1, 0), mode="sum"),
    dict(ws=(2, 2, 3), ignore_border=True, stride=(2, 1, 2), pad=(1, 0, 1), mode="average_inc_pad"),
    dict(ws=(3, 3, 2), ignore_border=True, stride=(2, 2, 1), pad=(1, 1, 1), mode="average_exc_pad"),
    dict(ws=(2, 3, 3), ignore_border=False, stride=(1, 2, 2), mode="average_inc_pad"),
    dict(ws=(3, 2, 2), ignore_border=False, stride=(3, 1, 3), mode="average_exc_pad"),
]


def test_pool_3d_matches_a_numpy_loop(backend):
    """Theano's pool_3d on the last three dims of 5-d and 3-d inputs, of known and unknown shapes."""
    rng = np.random.default_rng(6)
    five, three = rng.standard_normal((2, 3, 5, 6, 7)), rng.standard_normal((4, 5, 6))
    dynamic, static, small = T.dtensor5(), T.tensor("float64", five.shape), T.dtensor3()
    outputs, expected = [], []
    for kwargs in POOL_3D_CASES:
        outputs += [T.signal.pool.pool_3d(v, **kwargs) for v in (dynamic, static, small)]
        expected += [pool_ref(five, **kwargs), pool_ref(five, **kwargs), pool_ref(three, **kwargs)]
    got = function([dynamic, static, small], outputs, backend=backend)(five, five, three)
    for k, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12, err_msg=str(POOL_3D_CASES[k // 3]))


def test_pool_3d_defaults_and_errors():
    x = T.dtensor5()
    value = np.random.default_rng(8).standard_normal((1, 1, 3, 5, 4))
    # Theano's default ignore_border=None keeps partial windows; ds=/st= are its old names for ws=/stride=
    np.testing.assert_array_equal(T.signal.pool.pool_3d(x, (2, 2, 2)).eval({x: value}),
                                  pool_ref(value, (2, 2, 2), ignore_border=False))
    np.testing.assert_array_equal(T.signal.pool.pool_3d(x, ds=(2, 2, 2), st=(1, 1, 1), ignore_border=True)
                                  .eval({x: value}), pool_ref(value, (2, 2, 2), stride=(1, 1, 1)))
    with pytest.raises(ValueError, match="pool_3d: mode"):
        T.signal.pool.pool_3d(x, (2, 2, 2), mode="median")
    with pytest.raises(NotImplementedError, match="pool_3d: padding"):
        T.signal.pool.pool_3d(x, (2, 2, 2), pad=(1, 1, 1))
    with pytest.raises(ValueError, match=r"pool_3d: .*3 entries.*\(\?, \?\)"):
        T.signal.pool.pool_3d(T.dmatrix(), (2, 2, 2))
    with pytest.raises(ValueError, match="pool_3d: .*stride=\\(1, 1\\)"):
        T.signal.pool.pool_3d(x, (2, 2, 2), ignore_border=True, stride=(1, 1))


# --- configs, signatures, errors --------------------------------------------------------------------
@pytest.mark.parametrize("data_format", FORMATS)
def test_configs_have_keras_keys_and_round_trip(keras, built, data_format):
    _, made, _ = built[data_format]
    for (name, kwargs), layer in zip(CASES, made):
        assert_config_is_keras(keras, name, dict(kwargs, data_format=data_format), layer)


def test_signatures_match_keras(keras):
    """Argument names, order and defaults are Keras's, except AveragePooling3D's pool_size, which keeps
    Keras 2's default of (2, 2, 2) where Keras 3 requires it (as the 1-d and 2-d forms do), and
    SpatialDropout3D's **kwargs, which takes Keras 1's dim_ordering= (as SpatialDropout2D's does)."""
    for name in NAMES:
        assert_signature_is_keras(keras, name, (2, 2, 2) if name == "AveragePooling3D" else None,
                                  keras1_kwargs=name == "SpatialDropout3D")


def test_aliases_names_and_keras1_spellings():
    assert layers.MaxPool3D is layers.MaxPooling3D and layers.AvgPool3D is layers.AveragePooling3D
    assert layers.GlobalMaxPool3D is layers.GlobalMaxPooling3D
    assert layers.GlobalAvgPool3D is layers.GlobalAveragePooling3D
    assert layers.Convolution3DTranspose is layers.Conv3DTranspose
    from mlcore.layers.base import clear_session
    clear_session()
    names = [layers.MaxPooling3D().name, layers.GlobalAveragePooling3D().name, layers.UpSampling3D().name,
             layers.ZeroPadding3D().name, layers.Cropping3D().name, layers.SpatialDropout3D(0.1).name,
             layers.Conv3DTranspose(1, 1).name]
    assert names == ["max_pooling3d", "global_average_pooling3d", "up_sampling3d", "zero_padding3d",
                     "cropping3d", "spatial_dropout3d", "conv3d_transpose"]
    pool = layers.AveragePooling3D((3, 3, 3), border_mode="same", dim_ordering="th")
    assert (pool.pool_size, pool.strides, pool.padding, pool.data_format) == \
        ((3, 3, 3), (3, 3, 3), "same", "channels_first")
    assert layers.GlobalMaxPooling3D(dim_ordering="tf").data_format == "channels_last"
    for make in (layers.UpSampling3D, layers.ZeroPadding3D, layers.Cropping3D,
                 lambda **kw: layers.SpatialDropout3D(0.1, **kw)):
        assert make(dim_ordering="th").data_format == "channels_first"
    assert layers.ZeroPadding3D(2).padding == ((2, 2),) * 3
    assert layers.Cropping3D((1, 2, (0, 3))).cropping == ((1, 1), (2, 2), (0, 3))


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.MaxPooling3D((2, 2)), ValueError, "pool_size"),
    (lambda: layers.AveragePooling3D(2, strides=0), ValueError, "strides"),
    (lambda: layers.MaxPooling3D(padding="full"), ValueError, "padding"),
    (lambda: layers.GlobalMaxPooling3D(data_format="channels_middle"), ValueError, "data_format"),
    (lambda: layers.UpSampling3D((2, 2)), ValueError, "size"),
    (lambda: layers.ZeroPadding3D((1, 1)), ValueError, "`padding` should have 3 elements"),
    (lambda: layers.ZeroPadding3D(-1), ValueError, "1st entry of padding"),
    (lambda: layers.ZeroPadding3D(1.5), ValueError, "`padding` should be either an int"),
    (lambda: layers.Cropping3D(((1, 1), (1, 2, 3), 0)), ValueError, "2nd entry of cropping"),
    (lambda: layers.SpatialDropout3D(1.5), ValueError, "rate"),
    (lambda: layers.Conv3DTranspose(2, 3, strides=2, output_padding=2), ValueError, "output_padding"),
])
def test_argument_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_input_errors_name_the_layer():
    image = TensorType("float32", (None, 8, 8, 4))("image")
    volume = TensorType("float32", (None, 3, 8, 8, 4))("volume")
    for make in (layers.MaxPooling3D, layers.AveragePooling3D, layers.GlobalMaxPooling3D, layers.UpSampling3D,
                 layers.ZeroPadding3D, layers.Cropping3D, lambda name: layers.SpatialDropout3D(0.5, name=name),
                 lambda name: layers.Conv3DTranspose(2, 3, name=name)):
        with pytest.raises(ValueError, match=r"'v3'.*ndim=5.*ndim=4.*\(None, 8, 8, 4\)"):
            make(name="v3")(image)
    with pytest.raises(ValueError, match=r"Cropping3D 'c'.*smaller.*\(None, 3, 8, 8, 4\)"):
        layers.Cropping3D(((1, 2), 0, 0), name="c")(volume)
    with pytest.raises(ValueError, match="pool3d: window"):
        layers.MaxPooling3D((4, 2, 2))(volume)


# --- a model that trains and saves -------------------------------------------------------------------
def volume_model(lib):
    L = lib.layers
    return lib.Sequential([lib.Input((5, 6, 6, 2)),
                           L.Conv3D(4, 3, padding="same", activation="relu", name="conv"),
                           L.MaxPooling3D((2, 2, 2), padding="same"), L.ZeroPadding3D((0, 1, 1)),
                           L.SpatialDropout3D(0.2), L.Conv3DTranspose(3, 2, strides=(1, 2, 2), name="up"),
                           L.Cropping3D(((0, 1), 1, (2, 0))), L.AveragePooling3D(2, strides=1), L.UpSampling3D(1),
                           L.GlobalAveragePooling3D(), L.Dense(1, name="out")], name="volume")


def test_model_trains_and_saves_in_formats_keras_reads(tmp_path, keras, numpy_backend):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((32, 5, 6, 6, 2)).astype("float32")
    y = (x[:, :, :, :, 0].mean(axis=(1, 2, 3)) > 0).astype("float32")[:, None] + x[:, :3, :3, :3, 1].mean((1, 2, 3))[:, None]
    mlcore.utils.set_random_seed(0)     # the initial weights and dropout masks: not whatever earlier tests left
    model = volume_model(mlcore)
    model.compile(optimizer=mlcore.optimizers.Adam(0.01), loss="mse")
    losses = model.fit(x, y, epochs=15, batch_size=8, verbose=0, shuffle=False).history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    expected = model.predict(x, verbose=0)

    theirs = volume_model(keras)
    for suffix in (".weights.h5", ".h5"):
        path = str(tmp_path / ("m" + suffix))
        (model.save_weights if suffix == ".weights.h5" else model.save)(path)
        fresh = volume_model(mlcore)
        fresh.load_weights(path)
        np.testing.assert_allclose(fresh.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
        theirs.set_weights([w * 0 for w in theirs.get_weights()])
        theirs.load_weights(path)
        np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(load_model(str(tmp_path / "m.h5")).predict(x, verbose=0), expected,
                               rtol=1e-5, atol=1e-6)
    assert_keras_archives_load_both_ways(tmp_path, keras, model, theirs, x, expected)
