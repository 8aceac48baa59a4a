"""The Keras 3.15 names mlcore added last: keras.ops.rearrange, keras.ops.view (and keras.ops.numpy.view),
keras.ops.image.ssim and elastic_transform, keras.layers.HashedCrossing and keras.utils.Config, each against
Keras 3.15 on jax run beside it (HashedCrossing, which needs TensorFlow there, against the values Keras's and
TensorFlow's own tests publish), the graph ops on every mlcore backend."""
import json
import pickle

import numpy as np
import pytest
import scipy.signal

import mlcore
from mlcore import ops
from mlcore.graph.basic import TensorType
from mlcore.ops.core import as_tensor
from mlcore.ops.image import elastic_warp


def run(inputs, outputs, values, backend):
    return mlcore.function(inputs, outputs, backend=backend)(*values)


def keras_value(x):
    return np.asarray(x)


# --- rearrange ----------------------------------------------------------------------------------
REARRANGEMENTS = [
    ("b h w c -> b c h w", {}),
    ("b h w c -> (b h) w c", {}),
    ("b h w c -> h (b w) c", {}),
    ("b h w c -> b (c h w)", {}),
    ("b (h1 h) (w1 w) c -> (b h1 w1) h w c", {"h1": 2, "w1": 2}),
    ("b (h h1) (w w1) c -> b h w (c h1 w1)", {"h1": 2, "w1": 3}),
    ("b (h h1) w c -> b h w c h1", {"h": 3}),
    ("b h w c->c b w h", {}),
]


@pytest.mark.parametrize("pattern, lengths", REARRANGEMENTS)
def test_rearrange_matches_keras_on_values(keras, rng, pattern, lengths):
    x = rng.normal(size=(4, 6, 12, 3)).astype("float32")
    got = ops.rearrange(x, pattern, **lengths)
    expected = keras_value(keras.ops.rearrange(x, pattern, **lengths))
    assert isinstance(got, np.ndarray) and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("pattern, lengths", REARRANGEMENTS)
def test_rearrange_in_a_graph_of_unknown_batch(keras, rng, backend, pattern, lengths):
    x = rng.normal(size=(2, 6, 12, 3)).astype("float32")
    symbol = TensorType("float32", (None, 6, 12, 3))("x")
    out = ops.rearrange(symbol, pattern, **lengths)
    expected = keras_value(keras.ops.rearrange(x, pattern, **lengths))
    assert len(out.type.shape) == expected.ndim
    np.testing.assert_array_equal(run([symbol], out, [x], backend), expected)


def test_rearrange_symbolic_shape_matches_keras(keras):
    """Keras 3.15 infers the shape only when every length is known (an unknown batch makes it fail)."""
    pattern = "b (h h1) w c -> b h (w h1 c)"
    got = ops.rearrange(TensorType("float32", (2, 8, 5, 3))(), pattern, h1=2)
    expected = keras.ops.rearrange(keras.KerasTensor((2, 8, 5, 3)), pattern, h1=2)
    assert got.type.shape == expected.shape == (2, 4, 30)
    assert ops.rearrange(mlcore.layers.Input((8, 5, 3)), pattern, h1=2).type.shape == (None, 4, 30)


def test_rearrange_has_a_gradient(backend):
    """d sum(rearrange(x) * w) / dx is w put back in x's layout."""
    x = mlcore.tensor.tensor4("x")
    weights = np.arange(72.0, dtype="float32").reshape(3, 24)
    cost = (ops.rearrange(x, "b (h h1) w c -> b h (w c h1)", h1=2) * weights).sum()
    (g,) = run([x], mlcore.tensor.grad(cost, [x]), [np.zeros((1, 6, 4, 3), "float32")], backend)
    np.testing.assert_array_equal(g, weights.reshape(1, 3, 4, 3, 2).transpose(0, 1, 4, 2, 3).reshape(1, 6, 4, 3))


@pytest.mark.parametrize("pattern, lengths, message", [
    ("b h w c", {}, "input axes -> output axes"),
    ("b h w -> b h w", {}, "names 3 axes, but the tensor has 4"),
    ("b h w c -> b h w", {}, "same axes on both sides; only on one side: c"),
    ("b h w c -> b h w c d", {}, "only on one side: d"),
    ("b (h1 h) w c -> b h1 h w c", {}, "cannot infer the lengths of h1, h"),
    ("b (h1 h) w c -> b h1 h w c", {"h1": 2, "h": 2}, r"has length 4, but the tensor's axis has 6"),
    ("b h w c -> b h w c", {"q": 2}, "does not have"),
    ("b h h c -> b h c", {}, "appears twice"),
])
def test_rearrange_refuses_bad_patterns(pattern, lengths, message):
    with pytest.raises(ValueError, match=message):
        ops.rearrange(np.zeros((2, 6, 4, 3)), pattern, **lengths)


# --- view ---------------------------------------------------------------------------------------
VIEWS = [("int32", "float32", (3, 4)), ("float32", "uint8", (2, 3)), ("uint8", "int32", (2, 8)),
         ("float16", "int8", (5,)), ("int16", "float16", (2, 2, 3)), ("float32", "int32", ()),
         ("int8", "bool", (6,)), ("float32", None, (3,))]


def _bits(rng, dtype, shape):
    if dtype == "int8":
        return rng.integers(0, 2, size=shape).astype(dtype)       # 0 and 1: the bytes a bool may have
    return rng.normal(size=shape).astype(dtype) if dtype.startswith("float") else \
        rng.integers(-100, 100, size=shape).astype(dtype)


@pytest.mark.parametrize("old, new, shape", VIEWS)
def test_view_matches_keras_on_values(keras, rng, old, new, shape):
    x = _bits(rng, old, shape)
    got, expected = ops.view(x, new), keras_value(keras.ops.view(x, new))
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got.reshape(-1).view("uint8"), expected.reshape(-1).view("uint8"))  # bit for bit
    assert mlcore.ops.numpy.view is ops.view


@pytest.mark.parametrize("old, new, shape", VIEWS[:5])
def test_view_in_a_graph(keras, rng, backend, old, new, shape):
    x = _bits(rng, old, shape)
    symbol = TensorType(old, (None,) + shape[1:])("x")
    out = ops.view(symbol, new)
    expected = keras_value(keras.ops.view(x, new))
    assert out.dtype == new and out.type.shape[1:] == expected.shape[1:]
    got = run([symbol], out, [x], backend)
    np.testing.assert_array_equal(got.view("uint8"), expected.view("uint8"))


def test_view_of_a_transposed_array(keras):
    x = np.arange(12, dtype="uint8").reshape(4, 3).T
    np.testing.assert_array_equal(ops.view(x, "int16"), keras_value(keras.ops.view(x, "int16")))


def test_view_symbolic_shape_matches_keras(keras):
    for old, new in (("float32", "uint8"), ("int8", "int32"), ("int32", "float32")):
        expected = keras.ops.view(keras.KerasTensor((None, 8), dtype=old), new)
        got = ops.view(TensorType(old, (None, 8))(), new)
        assert got.type.shape == expected.shape and got.dtype == expected.dtype
    assert ops.view(TensorType("int8", (2, None))(), "int32").type.shape == (2, None)


def test_view_refuses_what_cannot_be_viewed():
    with pytest.raises(ValueError, match="Cannot view a scalar as a different dtype"):
        ops.view(np.float32(1.0), "float64")
    with pytest.raises(ValueError, match=r"shape \(2, 3\) and dtype uint8 as dtype int32 .* not divisible"):
        ops.view(np.zeros((2, 3), "uint8"), "int32")


# --- ssim ---------------------------------------------------------------------------------------
SSIM_ARGUMENTS = [({}, (2, 24, 20, 3), None), ({"max_val": 255.0, "filter_size": 7, "filter_sigma": 1.0}, (18, 16, 2),
                  None), ({"k1": 0.02, "k2": 0.05, "filter_size": 5}, (2, 3, 16, 12), "channels_first")]


@pytest.mark.parametrize("arguments, shape, data_format", SSIM_ARGUMENTS)
def test_ssim_matches_keras(keras, rng, arguments, shape, data_format):
    scale = arguments.get("max_val", 1.0)
    first = rng.uniform(0, scale, size=shape).astype("float32")
    second = np.clip(first + rng.normal(0, 0.2 * scale, size=shape), 0, scale).astype("float32")
    got = ops.image.ssim(first, second, data_format=data_format, **arguments)
    expected = keras_value(keras.ops.image.ssim(first, second, data_format=data_format, **arguments))
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ops.image.ssim(first, first, data_format=data_format, **arguments), 1.0, rtol=1e-6)


def _ssim_by_scipy(first, second, size=11, sigma=1.5, c1=0.01 ** 2, c2=0.03 ** 2):
    """SSIM of two (H, W, C) float64 images, each channel's statistics from scipy's valid correlations."""
    taps = np.exp(-0.5 * ((np.arange(size) - (size - 1) / 2) / sigma) ** 2)
    window = np.outer(taps, taps) / taps.sum() ** 2
    values = []
    for k in range(first.shape[-1]):
        x, y = first[..., k], second[..., k]
        mean = lambda image: scipy.signal.correlate2d(image, window, mode="valid")      # noqa: E731
        mx, my = mean(x), mean(y)
        vx, vy, cov = mean(x * x) - mx ** 2, mean(y * y) - my ** 2, mean(x * y) - mx * my
        values.append(np.mean((2 * mx * my + c1) * (2 * cov + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))))
    return np.mean(values)


def test_ssim_of_float64_images_matches_scipy(rng):
    """Keras on jax computes in float32 (no x64); in float64 mlcore matches the formula to 1e-12."""
    first, second = rng.uniform(size=(2, 2, 16, 15, 2))
    got = ops.image.ssim(first, second)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, [_ssim_by_scipy(a, b) for a, b in zip(first, second)], rtol=1e-12)


def test_ssim_in_a_graph(keras, rng, backend):
    first, second = rng.uniform(size=(2, 3, 14, 13, 3)).astype("float32")
    a, b = (TensorType("float32", (None, 14, 13, None))(name) for name in "ab")
    out = ops.image.ssim(a, b, filter_size=5)
    assert out.type.shape == (None,)
    np.testing.assert_allclose(run([a, b], out, [first, second], backend),
                               keras_value(keras.ops.image.ssim(first, second, filter_size=5)), rtol=1e-5,
                               atol=1e-6)


def test_ssim_refuses_bad_images():
    with pytest.raises(ValueError, match="Invalid image2 rank"):
        ops.image.ssim(np.zeros((8, 8, 1)), np.zeros((8, 8)))
    with pytest.raises(ValueError, match="same shape"):
        ops.image.ssim(np.zeros((12, 12, 1)), np.zeros((12, 12, 3)))
    with pytest.raises(ValueError, match="smaller than the filter"):
        ops.image.ssim(np.zeros((8, 8, 1)), np.zeros((8, 8, 1)))


# --- elastic_transform --------------------------------------------------------------------------
@pytest.mark.parametrize("fill_mode", ["reflect", "constant", "nearest", "wrap", "mirror"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_elastic_warp_of_keras_noise_matches_keras(keras, rng, fill_mode, interpolation):
    """Keras on jax draws its field as keras.random.normal does with the same seed: given that field,
    the warp is Keras's to rounding."""
    images = rng.uniform(size=(2, 16, 12, 3)).astype("float32")
    expected = keras.ops.image.elastic_transform(images, alpha=6.0, sigma=2.0, interpolation=interpolation,
                                                 fill_mode=fill_mode, fill_value=0.5, seed=11)
    noise = keras_value(keras.random.normal((2, 16, 12), seed=11))[..., None]
    got = elastic_warp(as_tensor(images), as_tensor(noise), 6.0, 2.0, interpolation, fill_mode, 0.5).eval()
    np.testing.assert_allclose(got, keras_value(expected), atol=2e-6)


def test_elastic_warp_in_a_graph(keras, rng, backend):
    images = rng.uniform(size=(3, 10, 9, 2)).astype("float32")
    noise = keras_value(keras.random.normal((3, 10, 9), seed=5))[..., None]
    x, n = TensorType("float32", (None, 10, 9, 2))("x"), TensorType("float32", (None, 10, 9, 1))("n")
    out = elastic_warp(x, n, 4.0, 1.5, "bilinear", "reflect", 0.0)
    expected = keras.ops.image.elastic_transform(images, alpha=4.0, sigma=1.5, seed=5)
    np.testing.assert_allclose(run([x, n], out, [images, noise], backend), keras_value(expected), atol=2e-6)


def test_elastic_transform_draws_a_seeded_smooth_field(rng):
    images = rng.uniform(size=(2, 20, 16, 3)).astype("float32")
    once, again = (ops.image.elastic_transform(images, seed=3) for _ in range(2))
    assert once.shape == images.shape and once.dtype == images.dtype
    np.testing.assert_array_equal(once, again)
    assert not np.allclose(once, ops.image.elastic_transform(images, seed=4))
    np.testing.assert_allclose(ops.image.elastic_transform(images, alpha=0.0, seed=3), images, atol=1e-6)
    single = ops.image.elastic_transform(images[0], seed=3)
    assert single.shape == images.shape[1:]


def test_elastic_transform_channels_first_in_a_graph(rng, backend):
    images = rng.uniform(size=(2, 12, 10, 3)).astype("float32")
    x = TensorType("float32", (2, 12, 10, 3))("x")
    last = ops.image.elastic_transform(x, alpha=5.0, sigma=2.0, seed=9)
    first = ops.image.elastic_transform(ops.transpose(x, (0, 3, 1, 2)), alpha=5.0, sigma=2.0, seed=9,
                                        data_format="channels_first")
    got_last, got_first = run([x], [last, first], [images], backend)
    np.testing.assert_allclose(got_first, got_last.transpose(0, 3, 1, 2), atol=1e-6)
    assert not np.allclose(got_last, images)


def test_elastic_transform_of_integer_images_rounds_back(rng):
    images = rng.integers(0, 256, size=(1, 12, 12, 1)).astype("uint8")
    out = ops.image.elastic_transform(images, alpha=0.0, seed=1)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, images)


def test_elastic_transform_refuses_bad_arguments():
    with pytest.raises(ValueError, match="interpolation"):
        ops.image.elastic_transform(np.zeros((8, 8, 1)), interpolation="bicubic")
    with pytest.raises(ValueError, match="fill_mode"):
        ops.image.elastic_transform(np.zeros((8, 8, 1)), fill_mode="edge")
    with pytest.raises(ValueError, match="rank"):
        ops.image.elastic_transform(np.zeros((8, 8)))


# --- HashedCrossing -----------------------------------------------------------------------------
FEATURE1, FEATURE2 = np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102])


def test_hashed_crossing_gives_keras_published_bins():
    """Keras's docstring and test_correctness (which run TensorFlow's tf.sparse.cross_hashed)."""
    np.testing.assert_array_equal(mlcore.layers.HashedCrossing(num_bins=5)((FEATURE1, FEATURE2)), [1, 4, 1, 1, 3])
    hot = mlcore.layers.HashedCrossing(num_bins=5, output_mode="one_hot")((FEATURE1, FEATURE2))
    np.testing.assert_array_equal(hot, np.eye(5, dtype="float32")[[1, 4, 1, 1, 3]])
    assert hot.dtype == np.float32


def test_hashed_crossing_of_three_features_gives_tensorflows_published_bin():
    """sparse_cross_op_test.test_hashed_no_hash_key: the cross of three strings, 100 buckets, is 83."""
    features = [np.array(["batch1-FC%d-F1" % k]) for k in (1, 2, 3)]
    np.testing.assert_array_equal(mlcore.layers.HashedCrossing(num_bins=100)(features), [83])


def test_hashed_crossing_shapes_dtypes_and_input_kinds():
    layer = mlcore.layers.HashedCrossing(num_bins=5)
    column = layer((FEATURE1[:, None], FEATURE2[:, None]))
    assert column.shape == (5, 1) and column.dtype == np.int64
    np.testing.assert_array_equal(column[:, 0], [1, 4, 1, 1, 3])
    assert layer(("A", 101)) == 1 and layer(("A", 101)).shape == ()
    as_bytes = layer((np.char.encode(FEATURE1), FEATURE2.astype("int32")))          # bytes, int32
    np.testing.assert_array_equal(as_bytes, [1, 4, 1, 1, 3])
    np.testing.assert_array_equal(layer((list(FEATURE1), list(FEATURE2))), [1, 4, 1, 1, 3])
    assert mlcore.layers.HashedCrossing(num_bins=5, dtype="int32")((FEATURE1, FEATURE2)).dtype == np.int32
    hot = mlcore.layers.HashedCrossing(num_bins=4, output_mode="one_hot")
    assert hot((FEATURE1[:, None], FEATURE2[:, None])).shape == (5, 4)
    assert hot(("A", 101)).shape == (4,)
    assert hot.compute_output_shape(((5, 1), (5, 1))) == (5, 4)
    assert layer.compute_output_shape(((5,), (5,))) == (5,)
    swapped = layer((FEATURE2, FEATURE1))
    assert not np.array_equal(swapped, [1, 4, 1, 1, 3])      # the cross is ordered


def test_hashed_crossing_negative_integers_cross_as_their_bits():
    """TensorFlow crosses an int64 as its 64 bits: -1 as 2**64 - 1."""
    from mlcore.utils.string_hashing import CROSS_HASH_KEY, fingerprint64, fingerprint_cat64
    first = fingerprint_cat64(np.array([CROSS_HASH_KEY], np.uint64), fingerprint64(["x"]))
    expected = fingerprint_cat64(first, np.array([2 ** 64 - 1], np.uint64)) % np.uint64(7)
    np.testing.assert_array_equal(mlcore.layers.HashedCrossing(num_bins=7)((["x"], [-1])), expected)


def test_hashed_crossing_config_round_trip():
    layer = mlcore.layers.HashedCrossing(num_bins=6, output_mode="one_hot", name="cross")
    config = layer.get_config()
    assert {k: config[k] for k in ("num_bins", "output_mode", "sparse", "name")} == \
        {"num_bins": 6, "output_mode": "one_hot", "sparse": False, "name": "cross"}
    again = mlcore.layers.HashedCrossing.from_config(config)
    np.testing.assert_array_equal(again((FEATURE1, FEATURE2)), layer((FEATURE1, FEATURE2)))


@pytest.mark.parametrize("inputs, message", [
    (FEATURE1, "list or tuple of inputs"),
    ((FEATURE1,), "at least two inputs"),
    ((np.array([[[1]]]), np.array([[[1]]])), "inputs should have shape"),
    ((np.zeros((2, 2), "int64"), np.zeros((2, 2), "int64")), "inputs should have shape"),
    ((FEATURE1, FEATURE2[:3]), "equal shape"),
    ((FEATURE1, FEATURE2.astype("float32")), "integer or string dtype"),
])
def test_hashed_crossing_refuses_bad_inputs(inputs, message):
    with pytest.raises(ValueError, match=message):
        mlcore.layers.HashedCrossing(num_bins=5)(inputs)


def test_hashed_crossing_refuses_bad_arguments_and_symbolic_inputs():
    with pytest.raises(ValueError, match="output_mode"):
        mlcore.layers.HashedCrossing(num_bins=5, output_mode="multi_hot")
    with pytest.raises(ValueError, match="num_bins"):
        mlcore.layers.HashedCrossing(num_bins=0)
    with pytest.raises(ValueError, match="sparse"):
        mlcore.layers.HashedCrossing(num_bins=5, output_mode="one_hot", sparse=True)
    with pytest.raises(ValueError, match="runs on the host"):
        mlcore.layers.HashedCrossing(num_bins=5)((mlcore.layers.Input(()), mlcore.layers.Input(())))


# --- Config -------------------------------------------------------------------------------------
def _outcome(action):
    try:
        return ("value", action())
    except (ValueError, AttributeError, KeyError) as err:
        return (type(err).__name__, str(err))


def _config_session(Config):
    """The same uses of a Config, each one's value or error, for Keras's class and mlcore's."""
    config = Config(learning_rate=0.1, momentum=0.9)
    config.use_ema = True
    config["seed"] = 123
    record = [config.learning_rate, config["use_ema"], config.get("missing", 7), "seed" in config, len(config),
              list(config), sorted(config.keys()), sorted(config.values(), key=str), sorted(config.items()),
              config.as_dict(), json.loads(config.to_json()), repr(config), config.frozen]
    record.append(_outcome(lambda: config.lerning_rate))
    record.append(_outcome(lambda: config.nothing_like_it))
    config.freeze()
    record += [config.frozen, _outcome(lambda: setattr(config, "x", 1)), _outcome(lambda: config.update(x=1)),
               _outcome(lambda: config.pop("seed")), _outcome(lambda: config.__setitem__("x", 1)),
               _outcome(lambda: config.__delitem__("seed")), config.as_dict()]
    config.unfreeze()
    record += [config.pop("seed"), config.pop("seed", None), config.update({"a": 1}, b=2), config.as_dict()]
    del config["a"]
    record += [config.as_dict(), _outcome(lambda: config["a"])]
    copied = config.as_dict()
    copied["new"] = 1
    record.append("new" in config)
    return record


def test_config_behaves_as_keras(keras):
    assert _config_session(mlcore.utils.Config) == _config_session(keras.utils.Config)


def test_config_pickles():
    config = mlcore.utils.Config(a=1, b=[2, 3])
    config.freeze()
    again = pickle.loads(pickle.dumps(config))
    assert again.as_dict() == {"a": 1, "b": [2, 3]} and again.frozen
