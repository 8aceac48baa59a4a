"""What Keras's own keras/src/ops/nn_test.py found in mlcore.ops.nn, compared with Keras 3 (jax):
convolution and pooling of 1-d and 3-d inputs, softmax over None or a tuple of axes, half-precision
moments and normalizations, attention's dtypes, and Keras's errors and warnings."""
import warnings

import numpy as np
import pytest

import mlcore
from mlcore import ops
from mlcore.graph.basic import TensorType

RNG = np.random.default_rng(0)


def _channels(shape, data_format):
    """An (N, *spatial, C) shape in data_format's order."""
    return shape if data_format == "channels_last" else (shape[0], shape[-1]) + shape[1:-1]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank, strides, padding, dilation", [
    (1, 1, "valid", 2), (1, 3, "same", 1), (2, (2, 1), "same", 1), (3, 1, "valid", 1), (3, 2, "same", 1),
    (3, (1, 2, 1), "valid", 1)])
def test_conv_of_every_rank_as_keras(keras, rank, strides, padding, dilation, data_format):
    inputs = RNG.normal(size=_channels((2,) + (7,) * rank + (4,), data_format)).astype("float32")
    kernel = RNG.normal(size=(3,) * rank + (4, 5)).astype("float32")
    args = (inputs, kernel, strides, padding, data_format, dilation)
    got = ops.nn.conv(*args)
    np.testing.assert_allclose(got, keras.ops.conv(*args), rtol=1e-5, atol=1e-5)
    symbolic = ops.nn.conv(mlcore.KerasTensor((None,) + inputs.shape[1:]), kernel, strides, padding, data_format,
                           dilation)
    assert symbolic.shape[1:] == got.shape[1:]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("pool", ["max_pool", "average_pool"])
@pytest.mark.parametrize("rank, size, strides, padding", [
    (1, 2, 1, "valid"), (1, 3, 2, "same"), (2, (2, 3), (3, 3), "same"), (3, 2, (1, 2, 1), "valid"), (3, 3, 2, "same")])
def test_pooling_of_every_rank_as_keras(keras, pool, rank, size, strides, padding, data_format):
    inputs = RNG.normal(size=_channels((2,) + (7,) * rank + (3,), data_format)).astype("float32")
    got = getattr(ops.nn, pool)(inputs, size, strides, padding, data_format)
    np.testing.assert_allclose(got, getattr(keras.ops, pool)(inputs, size, strides, padding, data_format),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), (2, 1)])
def test_softmax_over_any_axes_as_keras(keras, name, axis):
    x = RNG.normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_allclose(getattr(ops.nn, name)(x, axis), getattr(keras.ops, name)(x, axis), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("name, shapes, rest", [
    ("log_softmax", [(2, 3, 2)], ((1, 2),)), ("softmax", [(2, 3, 2)], (None,)),
    ("conv", [(1, 5, 2), (3, 2, 2)], (2, "same")), ("conv", [(1, 4, 4, 3, 2), (2, 3, 2, 2, 2)], (1, "valid")),
    ("average_pool", [(1, 5, 2)], (2, 1, "same")), ("max_pool", [(1, 3, 4, 3, 2)], (2, 1, "same"))],
    ids=["log_softmax_axes", "softmax_all", "conv_1d", "conv_3d", "average_pool_1d", "max_pool_3d"])
def test_gradients_match_finite_differences(name, shapes, rest, numeric_grad):
    """d sum(op(*arrays, *rest) * r) / d each array, in float64."""
    values = [RNG.normal(size=shape) for shape in shapes]
    stand_ins = [TensorType("float64", shape)() for shape in shapes]
    out = getattr(ops.nn, name)(*stand_ins, *rest)
    r = RNG.normal(size=mlcore.function(stand_ins, out)(*values).shape)
    cost = ops.sum(out * r)
    f = mlcore.function(stand_ins, cost)
    for k, grad in enumerate(mlcore.function(stand_ins, mlcore.grad(cost, stand_ins))(*values)):
        np.testing.assert_allclose(grad, numeric_grad(f, values, k), rtol=1e-5, atol=1e-6)


def test_axes_out_of_bounds_are_keras_errors():
    x = mlcore.KerasTensor((3, 4))
    for fn in (ops.nn.softmax, ops.nn.log_softmax, ops.nn.normalize, ops.nn.sparsemax):
        with pytest.raises(ValueError, match="axis 10 is out of bounds"):
            fn(x, axis=10)
    with pytest.raises(ValueError, match="axis 3 is out of bounds"):
        ops.nn.sparse_categorical_crossentropy(mlcore.KerasTensor((2, 4), "int32"), mlcore.KerasTensor((2, 3, 4)),
                                               axis=3)


def test_softmax_over_an_axis_of_size_one_warns_as_keras():
    with pytest.warns(UserWarning, match=r"softmax over axis 1 of a tensor of shape \(1, 1\)\. This axis has size 1"):
        np.testing.assert_array_equal(ops.nn.softmax(np.array([[1.0]]), 1), [[1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ops.nn.softmax(np.ones((2, 1)), 0)
        ops.nn.dot_product_attention(*[np.ones((1, 2, 1, 4), "float32")] * 3)     # one key: no warning


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_moments_of_half_precision_in_float32_as_keras(keras, dtype):
    x = np.array([-741.0, 353.2, 1099.0, -1807.0, 502.8, -83.4, 333.5, -130.9])     # Keras's test's
    x = keras.ops.convert_to_numpy(keras.ops.cast(np.stack([x, x * 0.01]), dtype))
    for got, expected in zip(ops.nn.moments(x, [1]), keras.ops.moments(x, [1])):
        assert str(got.dtype) == dtype
        np.testing.assert_allclose(got.astype("float32"), np.asarray(expected, "float32"), rtol=1e-6)


@pytest.mark.parametrize("x_dtype, weight_dtype", [("bfloat16", "float16"), ("float16", "float32"),
                                                   ("bfloat16", "float32"), ("float32", "float16")])
def test_normalizations_give_the_input_dtype_as_keras(keras, x_dtype, weight_dtype):
    x = keras.ops.convert_to_numpy(keras.ops.cast(RNG.normal(size=(2, 8)) * 3, x_dtype))
    weight = keras.ops.convert_to_numpy(keras.ops.cast(RNG.uniform(0.5, 2, size=8), weight_dtype))
    for ours, theirs in [(ops.nn.layer_normalization(x, weight, weight), keras.ops.layer_normalization(x, weight,
                                                                                                        weight)),
                         (ops.nn.rms_normalization(x, weight), keras.ops.rms_normalization(x, weight))]:
        assert str(ours.dtype) == x_dtype
        np.testing.assert_allclose(ours.astype("float32"), np.asarray(theirs, "float32"), rtol=1e-6,
                                   atol=1e-6)   # float32 rounding of x * inv - mean * inv near 0


@pytest.mark.parametrize("query_dtype, kv_dtype", [("bfloat16", "bfloat16"), ("float16", "float16"),
                                                   ("float16", "float32"), ("bfloat16", "float16")])
def test_dot_product_attention_dtypes_as_keras(keras, query_dtype, kv_dtype):
    def arrays(dtype, shape):
        return keras.ops.convert_to_numpy(keras.ops.cast(RNG.normal(size=shape), dtype))
    query, key, value = arrays(query_dtype, (2, 3, 2, 8)), *(arrays(kv_dtype, (2, 4, 2, 8)) for _ in "kv")
    got = ops.nn.dot_product_attention(query, key, value, is_causal=True)
    expected = keras.ops.dot_product_attention(query, key, value, is_causal=True)
    assert str(got.dtype) == keras.ops.dtype(expected)
    np.testing.assert_allclose(got.astype("float32"), np.asarray(expected, "float32"), rtol=1e-2, atol=1e-2)


def test_keras_errors_and_warnings():
    with pytest.raises(ValueError, match="`offset` must be a vector of length"):
        ops.nn.batch_normalization(mlcore.KerasTensor((None, 3, 4, 5)), np.zeros(5), np.ones(5), -1,
                                   offset=np.zeros(3))
    for fn in (ops.nn.depth_to_space, ops.nn.space_to_depth):
        with pytest.raises(ValueError, match="`block_size` must be at least 2"):
            fn(np.ones((1, 4, 4, 4)), 1)
    inputs, bad = mlcore.KerasTensor((2, 10, 3)), mlcore.KerasTensor((3, 5, 1))
    for call in (lambda: ops.nn.depthwise_conv(inputs, bad),
                 lambda: ops.nn.separable_conv(inputs, bad, np.ones((1, 5, 4))),
                 lambda: ops.nn.conv_transpose(inputs, mlcore.KerasTensor((2, 4, 5)), 2)):
        with pytest.raises(ValueError, match="input channels must match the kernel"):
            call()
    ops.nn.depthwise_conv(mlcore.KerasTensor((2, 10, None)), bad)      # unknown channels: no error
    with pytest.raises(ValueError, match="3D"):
        ops.nn.fold(np.ones((1, 2, 3, 4)), (2, 2), 2)
    with pytest.raises(ValueError, match=r"Input should have rank >= 1\. Received: input\.shape = \(\)"):
        ops.extract_sequences(np.float32(1.0), 2, 1)
    with pytest.warns(UserWarning, match="`rms_scaling=True`, which is deprecated"):
        ops.nn.layer_normalization(np.ones((2, 3)), rms_scaling=True)
