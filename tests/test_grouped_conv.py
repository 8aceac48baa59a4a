"""Grouped convolution as one graph op (Conv2D's groups, lax's feature_group_count): the op on every
backend against a per-group scipy cross-correlation, its gradients against finite differences, the
numpy backend's products per group (each layout, in blocks, from lent patches) against lax, the
layers built on it against Keras 3's, and the errors for channels that do not split into groups."""
import re

import numpy as np
import pytest

import mlcore
from backends.numpy import grouped
from backends.numpy import nn as numpy_nn
from mlcore import layers
from mlcore.graph import ops
from mlcore.graph.basic import TensorType, toposort
from mlcore.graph.ops import nn as nn_ops
from op_cases import conv_nhwc_ref

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # jax arrays' __array__ in Keras

# (x shape, kernel shape, groups, strides, padding, dilation)
OP_CASES = [
    ((2, 7, 8, 4), (3, 2, 4, 6), 1, (2, 1), "same", (1, 1)),        # one group: a plain convolution
    ((2, 7, 6, 4), (2, 3, 2, 6), 2, (1, 1), "valid", (2, 1)),       # two groups of 2 channels, 3 filters each
    ((2, 5, 6, 6), (2, 2, 2, 9), 3, (2, 2), "same", (1, 2)),        # three groups, strided and dilated
    ((2, 6, 7, 5), (3, 3, 1, 5), 5, (1, 2), "same", (1, 1)),        # depthwise
    ((1, 8, 6, 4), (3, 2, 1, 12), 4, (2, 2), "valid", (1, 1)),      # depthwise, 3 filters per channel
    ((2, 6, 5, 2), (3, 3, 1, 10), 2, (1, 1), "same", (2, 2)),       # depthwise, 5 filters per channel
]
OP_IDS = ["one-group", "two-groups", "three-groups-strided", "depthwise", "depthwise-x3", "depthwise-x5"]


def symbols(x_shape, w_shape, dtype="float64"):
    return TensorType(dtype, (None,) + x_shape[1:])("x"), TensorType(dtype, w_shape)("w")


@pytest.mark.parametrize("case", OP_CASES, ids=OP_IDS)
def test_op_is_a_cross_correlation_per_group(backend, case, rng):
    x_shape, w_shape, groups, strides, padding, dilation = case
    x, w = symbols(x_shape, w_shape)
    y = ops.conv2d(x, w, strides, padding, dilation, groups=groups)
    xv, wv = rng.normal(size=x_shape), rng.normal(size=w_shape)
    got = mlcore.function([x, w], y, backend=backend)(xv, wv)
    expected = conv_nhwc_ref(xv, wv, strides, padding, dilation, groups)
    assert got.shape == expected.shape and y.type.shape[1:] == expected.shape[1:]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", OP_CASES, ids=OP_IDS)
def test_gradients_match_finite_differences(backend, case, rng, numeric_grad, monkeypatch):
    """Both gradients, computed beside the forward; on numpy the forward lends its patches to the
    filter gradient (theano runs numpy's kernels node by node: there the gradient unfolds x again)."""
    x_shape, w_shape, groups, strides, padding, dilation = case
    x, w = symbols(x_shape, w_shape)
    y = ops.conv2d(x, w, strides, padding, dilation, groups=groups)
    cost = (y * rng.normal(size=(x_shape[0],) + y.type.shape[1:])).sum()
    values = [rng.normal(size=x_shape), rng.normal(size=w_shape)]
    cost_fn = mlcore.function([x, w], cost, backend=backend)
    expected = [numeric_grad(cost_fn, values, k) for k in (0, 1)]
    lent = []
    from_patches = numpy_nn.conv2d_grad_filter_from_patches
    monkeypatch.setattr(numpy_nn, "conv2d_grad_filter_from_patches", lambda *a: lent.append(1) or from_patches(*a))
    grads = mlcore.grad(cost, [x, w])
    assert all(node.op.groups == groups for node in toposort(grads)
               if isinstance(node.op, nn_ops.Conv2D))
    for g, e in zip(mlcore.function([x, w], [y] + grads, backend=backend)(*values)[1:], expected):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-8)
    assert len(lent) == (1 if backend == "numpy" else 0)


def test_op_props_hash_and_print_the_groups():
    assert nn_ops.Conv2D(groups=2) == nn_ops.Conv2D((1, 1), "valid", (1, 1), (1, 1), 2)
    assert nn_ops.Conv2D(groups=2) != nn_ops.Conv2D() and hash(nn_ops.Conv2D(groups=2)) != hash(nn_ops.Conv2D())
    assert str(nn_ops.Conv2D(groups=3)).endswith(", 3}")


# --- the numpy backend's products per group --------------------------------------------------------
@pytest.mark.parametrize("w_shape, groups, layout", [
    ((3, 2, 6, 4), 1, grouped.OneGroup),
    ((3, 2, 2, 6), 3, grouped.ByGroups),
    ((2, 3, 1, 12), 6, grouped.Channelwise),
    ((3, 3, 1, 30), 6, grouped.ByGroups),          # more filters per channel than a channelwise sum pays
], ids=["one-group", "by-groups", "channelwise", "by-groups-depthwise"])
def test_numpy_kernels_match_lax_block_by_block(w_shape, groups, layout, monkeypatch):
    """conv2d, the input gradient (a grouped convolution of g) and the filter gradient, unfolded from x
    and from the forward's lent patches, against lax and jax.vjp, in blocks of one output row."""
    jax = pytest.importorskip("jax")
    from backends import array_api as xk
    monkeypatch.setattr(numpy_nn, "_PATCH_BLOCK_BYTES", 1)
    monkeypatch.setattr(numpy_nn, "_MIN_BLOCK_PIXELS", 5)
    assert type(grouped.layout(w_shape, groups)) is layout
    rng = np.random.default_rng(5)
    x, w = rng.normal(size=(3, 9, 5, w_shape[2] * groups)), rng.normal(size=w_shape)
    params = (2, 1), ((1, 2), (0, -1)), (1, 2), (2, 1)       # strides, padding, lhs and rhs dilation

    def conv(x, w):
        return jax.lax.conv_general_dilated(x, w, *params, dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                            feature_group_count=groups)
    with jax.enable_x64(True):
        expected, pullback = jax.vjp(conv, x, w)
        g = rng.normal(size=expected.shape)
        dx, dw = (np.asarray(v) for v in pullback(g))
    memo = numpy_nn.PatchMemo()
    np.testing.assert_allclose(numpy_nn.conv2d(x, w, *params, groups=groups, memo=memo), expected, atol=1e-10)
    np.testing.assert_allclose(numpy_nn.conv2d_grad_filter_from_patches(memo.take(x), w.shape, g, groups), dw,
                               atol=1e-10)
    np.testing.assert_allclose(numpy_nn.grouped_conv2d_grad_filter(x, w.shape, g, *params, groups), dw, atol=1e-10)
    op = nn_ops.Conv2D(params[0], params[1], params[2], params[3], groups)
    np.testing.assert_allclose(xk.conv_grad_input(numpy_nn.conv2d_in_layouts, op, x, w, g), dx, atol=1e-10)


@pytest.mark.parametrize("kernel_layout", ["HWIO", "HWOI"])
def test_jax_depthwise_on_the_cpu_is_a_sum_over_taps_equal_to_laxs(kernel_layout):
    """backends/jax/nn.py's conv2d of one input channel per group, in the forward's kernel layout and in
    the input gradient's, with strides, padding (negative too), input and kernel dilation: no XLA
    convolution on the CPU, the numbers of lax's grouped one."""
    jax = pytest.importorskip("jax")
    from backends.jax import nn as jax_nn
    rng = np.random.default_rng(7)
    cases = [((1, 1), ((1, 1), (1, 1)), (1, 1), (1, 1), 1), ((2, 1), ((0, 2), (1, -1)), (1, 2), (1, 1), 3),
             ((1, 1), ((2, 1), (0, 0)), (2, 1), (2, 2), 2)]
    for strides, padding, lhs, rhs, multiplier in cases:
        layouts = ("NHWC", kernel_layout, "NHWC")
        x = rng.normal(size=(2, 7, 6, 4)).astype("float32")
        w = rng.normal(size=(3, 2, 1, 4 * multiplier) if kernel_layout == "HWIO" else (3, 2, 4 * multiplier, 1))
        w = w.astype("float32")

        def conv(x, w):
            return jax_nn.conv2d(x, w, strides, padding, lhs, rhs, layouts, groups=4)
        assert "convolution" not in jax.jit(conv).lower(x, w).compile().as_text()
        expected = jax.lax.conv_general_dilated(x, w, strides, padding, lhs, rhs, layouts, feature_group_count=4,
                                                precision=jax.lax.Precision.HIGHEST)
        np.testing.assert_allclose(jax.jit(conv)(x, w), expected, rtol=1e-5, atol=1e-5)


def test_pytensor_kernel_op_passes_the_groups_to_the_numpy_kernel():
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    from pytensor.compile.mode import Mode

    from backends.theano import nn as theano_nn
    from backends.theano.blas import configure_blas
    configure_blas()
    x, w = pt.tensor4("x", dtype="float64"), pt.tensor4("w", dtype="float64")
    y = theano_nn.conv2d(x, w, (1, 2), ((1, 1), (0, 0)), groups=3)
    rng = np.random.default_rng(6)
    xv, wv = rng.normal(size=(2, 5, 7, 6)), rng.normal(size=(3, 2, 2, 9))
    got = pytensor.function([x, w], y, mode=Mode(linker="cvm"))(xv, wv)
    np.testing.assert_allclose(got, numpy_nn.conv2d(xv, wv, (1, 2), ((1, 1), (0, 0)), groups=3), atol=1e-12)
    assert theano_nn.Conv2D(groups=3) != theano_nn.Conv2D()


# --- the layers --------------------------------------------------------------------------------------
LAYER_CASES = [
    ("Conv1D", dict(filters=6, kernel_size=3, groups=3, strides=2, padding="same"), (2, 9, 6)),
    ("Conv2D", dict(filters=8, kernel_size=7, groups=8, padding="same"), (2, 9, 8, 8)),      # ConvNeXt's
    ("Conv2D", dict(filters=6, kernel_size=(3, 2), groups=2, dilation_rate=(2, 1), data_format="channels_first"),
     (2, 4, 9, 8)),
    ("Conv3D", dict(filters=8, kernel_size=(3, 2, 2), groups=4, padding="same"), (2, 5, 4, 6, 4)),
    ("Conv3D", dict(filters=4, kernel_size=3, groups=2, strides=(2, 1, 1), data_format="channels_first"),
     (2, 4, 6, 5, 5)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=5, strides=2, padding="same"), (2, 9, 8, 3)),
    ("SeparableConv2D", dict(filters=5, kernel_size=3, depth_multiplier=2, padding="same"), (2, 9, 8, 3)),
    ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2, dilation_rate=2), (2, 9, 4)),
]
LAYER_IDS = ["%s-%d" % (name, i) for i, (name, _, _) in enumerate(LAYER_CASES)]


@pytest.mark.parametrize("name, kwargs, shape", LAYER_CASES, ids=LAYER_IDS)
def test_layers_match_keras(backend, keras, name, kwargs, shape, rng):
    ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    x = TensorType("float32", (None,) + shape[1:])("x")
    fn = mlcore.function([x], ours(x), backend=backend)
    ours.set_weights([rng.normal(size=w.shape).astype("float32") * 0.5 for w in ours.weights])
    value = rng.normal(size=shape).astype("float32")
    theirs(value)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(fn(value), np.asarray(theirs(value)), atol=2e-5, rtol=1e-5)


GRADIENT_CASES = [
    ("Conv2D", dict(filters=4, kernel_size=5, groups=4, padding="same"), (2, 5, 6, 4)),
    ("Conv3D", dict(filters=4, kernel_size=3, groups=2, strides=(2, 1, 1), data_format="channels_first"),
     (2, 4, 6, 5, 5)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=5, strides=2, padding="same"), (2, 9, 8, 3)),
]


@pytest.mark.parametrize("name, kwargs, shape", GRADIENT_CASES, ids=[name for name, _, _ in GRADIENT_CASES])
def test_layer_gradients_match_finite_differences(on_backend, floatx, layer_gradient_check, name, kwargs, shape, rng):
    floatx("float64")
    layer = getattr(layers, name)(**kwargs)
    x = TensorType("float64", (None,) + shape[1:])("x")
    output = layer(x)
    cost = (output * rng.normal(size=(shape[0],) + output.type.shape[1:])).sum()
    layer_gradient_check(layer, x, cost, rng.normal(size=shape))


# --- errors ------------------------------------------------------------------------------------------
def test_op_errors_name_the_shapes():
    x = TensorType("float32", (None, 6, 6, 5))("x")
    with pytest.raises(ValueError, match=re.escape("conv2d: input Tensor(float32, (?, 6, 6, 5)) has 5 channels but "
                                                   "kernel Tensor(float32, (3, 3, 2, 4)) expects 2 groups of 2")):
        ops.conv2d(x, TensorType("float32", (3, 3, 2, 4))("w"), groups=2)
    with pytest.raises(ValueError, match=re.escape("conv2d: kernel Tensor(float32, (3, 3, 1, 7)) has 7 filters, "
                                                   "which do not split into 5 groups")):
        ops.conv2d(x, TensorType("float32", (3, 3, 1, 7))("w"), groups=5)
    with pytest.raises(ValueError, match="conv2d: groups must be a positive int, got 0"):
        nn_ops.Conv2D(groups=0)


@pytest.mark.parametrize("name, shape", [("Conv1D", (None, 9, 3)), ("Conv2D", (None, 9, 8, 3)),
                                         ("Conv3D", (None, 4, 5, 6, 3))])
def test_layer_errors_are_kerass(keras, name, shape):
    with pytest.raises(ValueError) as theirs:
        getattr(keras.layers, name)(4, 3, groups=2).build(shape)
    with pytest.raises(ValueError) as ours:
        getattr(layers, name)(4, 3, groups=2)(TensorType("float32", shape)("x"))
    assert str(ours.value) == str(theirs.value)
    assert "evenly divisible by the number of groups" in str(ours.value)


def test_ops_conv_infers_the_groups_from_the_kernel_as_keras(keras, rng):
    """keras.ops.conv: channels // the kernel's in_channels groups, and Keras's error where they do not divide."""
    x, kernel = rng.normal(size=(2, 7, 6, 6)).astype("float32"), rng.normal(size=(3, 3, 2, 9)).astype("float32")
    X = TensorType("float32", (None, 7, 6, 6))("x")
    got = mlcore.function([X], mlcore.ops.conv(X, kernel, strides=(1, 2), padding="same"), backend="numpy")(x)
    np.testing.assert_allclose(got, np.asarray(keras.ops.conv(x, kernel, strides=(1, 2), padding="same")),
                               atol=2e-5, rtol=1e-5)
    odd = rng.normal(size=(3, 3, 4, 4)).astype("float32")
    with pytest.raises(ValueError) as theirs:
        keras.ops.conv(x, odd)
    with pytest.raises(ValueError) as ours:
        mlcore.ops.conv(X, odd)
    assert str(ours.value) == str(theirs.value)
