"""Every op's forward value against a plain numpy expression, on the numpy reference backend in
float64, on random shapes with broadcasting and size-1 dims; convolutions against scipy.signal and
pooling against a loop over windows, over their parameters."""
import numpy as np
import pytest
from scipy import signal

import mlcore
import mlcore.tensor as T
from mlcore.graph import ops
from op_cases import CASES, conv_nhwc_ref, conv_theano_ref, make_inputs, pool_ref

PARAMS = [pytest.param(case, patterns, id="%s-%s" % (case.name, "-".join(p or "0" for p in patterns)))
          for case in CASES for patterns in (case.patterns or [tuple(p for _, p in case.inputs)])]


def run(inputs, output, values, **kwargs):
    return mlcore.function(inputs, output, backend="numpy", on_unused_input="ignore", **kwargs)(*values)


@pytest.mark.parametrize("case, patterns", PARAMS)
def test_forward_matches_numpy(case, patterns, rng):
    inputs, values = make_inputs(case, rng, "float64", patterns)
    output = case.build(*inputs)
    expected = np.asarray(case.ref(*values))
    got = run(inputs, output, values)
    assert got.shape == expected.shape
    assert got.dtype == output.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert output.type.filter(got, "output") is not None      # the static shape was right


@pytest.mark.parametrize("border_mode", ["valid", "full", "half"])
@pytest.mark.parametrize("subsample", [(1, 1), (2, 1), (2, 3)])
def test_theano_conv2d_is_scipy_convolve2d(border_mode, subsample, rng):
    x, w = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2))
    X, W = T.dtensor4("X"), T.dtensor4("W")
    y = T.nnet.conv2d(X, W, filter_shape=w.shape, border_mode=border_mode, subsample=subsample)
    np.testing.assert_allclose(run([X, W], y, [x, w]), conv_theano_ref(x, w, border_mode, subsample), atol=1e-12)


def test_theano_conv2d_without_flip_is_correlation(rng):
    x, w = rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(3, 2, 2, 3))
    X, W = T.dtensor4(), T.dtensor4()
    got = run([X, W], T.nnet.conv2d(X, W, filter_flip=False), [x, w])
    np.testing.assert_allclose(got, conv_theano_ref(x, w[:, :, ::-1, ::-1]), atol=1e-12)


@pytest.mark.parametrize("border_mode, scipy_mode", [("full", "full"), ("half", "same")])
def test_theano_conv2d_full_and_half_with_filters_of_unknown_size(border_mode, scipy_mode, rng):
    """The padding is read from the filters' size when the call runs, where the graph does not know it."""
    x, w = rng.normal(size=(1, 1, 5, 6)), rng.normal(size=(1, 1, 3, 3))
    X, W = T.dtensor4(), T.dtensor4()
    got = mlcore.function([X, W], T.nnet.conv2d(X, W, border_mode=border_mode), backend="numpy")(x, w)
    np.testing.assert_allclose(got[0, 0], signal.convolve2d(x[0, 0], w[0, 0], scipy_mode), rtol=1e-12)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [(1, 1), (2, 2), (1, 3)])
@pytest.mark.parametrize("dilation", [(1, 1), (2, 1)])
def test_conv2d_nhwc_is_scipy_correlate2d(padding, strides, dilation, rng):
    x, w = rng.normal(size=(2, 7, 8, 3)), rng.normal(size=(3, 2, 3, 4))
    X, W = T.dtensor4(), T.dtensor4()
    y = ops.conv2d(X, W, strides=strides, padding=padding, dilation=dilation)
    expected = conv_nhwc_ref(x, w, strides, padding, dilation)
    got = run([X, W], y, [x, w])
    np.testing.assert_allclose(got, expected, atol=1e-12)
    static = ops.conv2d(T.dtensor4(shape=x.shape), T.dtensor4(shape=w.shape), strides, padding, dilation)
    assert static.type.shape == expected.shape


POOL_SETTINGS = [((2, 2), None), ((3, 2), (2, 1)), ((2, 3), (3, 3)), ((3, 3), (1, 2))]


@pytest.mark.parametrize("mode", ["max", "sum", "average_inc_pad", "average_exc_pad"])
@pytest.mark.parametrize("ws, stride", POOL_SETTINGS)
@pytest.mark.parametrize("ignore_border, pad", [(True, (0, 0)), (True, (1, 1)), (True, (1, 0)),
                                                (False, (0, 0))])
def test_pool_2d_matches_a_loop_over_windows(mode, ws, stride, ignore_border, pad, rng):
    if pad[0] >= ws[0] or pad[1] >= ws[1]:
        pytest.skip("Theano requires padding smaller than the window")
    x = rng.normal(size=(2, 3, 7, 6))
    X = T.dtensor4(shape=x.shape)
    y = T.signal.pool.pool_2d(X, ws, ignore_border, stride, pad, mode)
    expected = pool_ref(x, ws, ignore_border, stride, pad, mode)
    assert y.type.shape == expected.shape
    np.testing.assert_allclose(run([X], y, [x]), expected, atol=1e-12)


def test_pool_2d_on_3d_and_5d_inputs(rng):
    for shape in [(3, 6, 5), (2, 2, 2, 4, 4)]:
        x = rng.normal(size=shape)
        X = T.tensor("float64", shape=(None,) * len(shape))
        got = run([X], T.signal.pool.pool_2d(X, (2, 2), ignore_border=True), [x])
        np.testing.assert_allclose(got, pool_ref(x, (2, 2)), atol=1e-12)


def test_symbolic_index_shapes_and_values(rng):
    x = rng.normal(size=(5, 4))
    X, i, j = T.dmatrix(), T.lscalar(), T.lscalar()
    got = run([X, i, j], [X[i], X[i:j], X[:, j], X[i, j], X[-i]], [x, 1, 3])
    for g, e in zip(got, [x[1], x[1:3], x[:, 3], x[1, 3], x[-1]]):
        np.testing.assert_array_equal(g, e)
