"""keras.ops' depthwise, separable and transposed convolutions, attention, normalizations,
depth_to_space and extract_sequences (compared with Keras in test_keras_ops.py) on every backend
against Keras, their gradients against finite differences, and their errors."""
import numpy as np
import pytest

import mlcore
from mlcore import ops
from mlcore.graph.basic import TensorType
from keras_op_cases import (ATTENTION_BIAS, ATTENTION_MASK, CUBE, DEPTHWISE, IMAGES, KERNEL, KEYS, PIXELS,
                            POINTWISE, POS, QUERY, SEQUENCES, VALUES, VEC, X)

CASES = [
    ("depthwise_conv", (IMAGES, DEPTHWISE), {"strides": 2, "padding": "same"}),
    ("separable_conv", (IMAGES, DEPTHWISE, POINTWISE), {"dilation_rate": (2, 1)}),
    ("conv_transpose", (IMAGES, KERNEL.transpose(0, 1, 3, 2)), {"strides": (2, 3), "output_padding": 1}),
    ("dot_product_attention", (QUERY, KEYS, VALUES), {"mask": ATTENTION_MASK, "bias": ATTENTION_BIAS,
                                                      "is_causal": True}),
    ("layer_normalization", (CUBE,), {"gamma": POS[0], "beta": VEC}),
    ("rms_normalization", (CUBE,), {"scale": POS[0]}),
    ("normalize", (CUBE,), {"axis": 1, "order": 3}),
    ("depth_to_space", (PIXELS, 2), {"data_format": "channels_first"}),
    ("extract_sequences", (SEQUENCES, 3, 2), {}),
    ("psnr", (X, X * 0.9), {"max_val": 3.0}),
]


@pytest.mark.parametrize("name, args, kwargs", CASES, ids=[c[0] for c in CASES])
def test_on_every_backend_as_keras(name, args, kwargs, backend, keras):
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    stand_ins = [TensorType(a.dtype, a.shape)() for a in arrays]
    out = getattr(ops, name)(*stand_ins, *args[len(arrays):], **kwargs)
    got = mlcore.function(stand_ins, out, backend=backend)(*arrays)
    expected = keras.ops.convert_to_numpy(getattr(keras.ops, name)(*args, **kwargs))
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("name, args, kwargs", CASES[:-2], ids=[c[0] for c in CASES[:-2]])
def test_gradients_match_finite_differences(name, args, kwargs, numeric_grad):
    """d sum(op(x, ...) * r) / dx, for the first two arguments, in float64."""
    as_float64 = [np.ascontiguousarray(a, "float64") if isinstance(a, np.ndarray) else a for a in args]
    values = [a for a in as_float64[:2] if isinstance(a, np.ndarray)]
    stand_ins = [TensorType("float64", v.shape)() for v in values]
    out = getattr(ops, name)(*stand_ins, *as_float64[len(values):], **kwargs)
    r = np.random.default_rng(0).normal(size=mlcore.function(stand_ins, out)(*values).shape)
    cost = ops.sum(out * r)
    f = mlcore.function(stand_ins, cost)
    for k, grad in enumerate(mlcore.function(stand_ins, mlcore.grad(cost, stand_ins))(*values)):
        np.testing.assert_allclose(grad, numeric_grad(f, values, k), rtol=1e-5, atol=1e-6)


def test_on_values_they_run_at_once():
    np.testing.assert_array_equal(ops.space_to_depth(ops.depth_to_space(PIXELS, 2), 2), PIXELS)
    np.testing.assert_array_equal(ops.extract_sequences(np.arange(5.0), 3, 2), [[0, 1, 2], [2, 3, 4]])


def test_errors_name_the_function_and_the_shape():
    with pytest.raises(ValueError, match=r"depthwise_conv takes 3-d or 4-d inputs.*\(3, 4\)"):
        ops.depthwise_conv(POS, DEPTHWISE)
    with pytest.raises(ValueError, match=r"only supports 4D inputs.*\(2, 3, 4\)"):
        ops.dot_product_attention(CUBE, CUBE, CUBE)
    with pytest.raises(ValueError, match=r"dot_product_attention: query's 4 heads.*key's 3"):
        ops.dot_product_attention(QUERY, QUERY[:, :, :3], QUERY[:, :, :3])
    with pytest.raises(ValueError, match=r"depth_to_space: the channels of x \(shape \(2, 4, 6, 8\)\)"):
        ops.depth_to_space(PIXELS, 3)
    with pytest.raises(ValueError, match=r"space_to_depth: the height and width of x"):
        ops.space_to_depth(PIXELS, 4)
    with pytest.raises(ValueError, match="block_size must be at least 2"):
        ops.depth_to_space(PIXELS, 1)
    with pytest.raises(ValueError, match="must match for PSNR"):
        ops.psnr(X, X[:2], 1.0)
    with pytest.raises(ValueError, match="`order` must be an int >= 1"):
        ops.normalize(X, order=0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        ops.layer_normalization(X, gamma_=1)
