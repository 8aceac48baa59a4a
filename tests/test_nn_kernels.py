"""Convolution and pooling kernels: numpy against independent references, jax and PyTensor against numpy."""
import itertools
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.signal

from backends.numpy import nn

ATOL = {"float32": 1e-4, "float64": 1e-10}


def _int_pair(rng, low, high):
    """Two random ints in [low, high]."""
    return tuple(int(v) for v in rng.integers(low, high, size=2, endpoint=True))


def _conv_cases(count, seed=0):
    """Random conv2d parameter sets with a non-empty output: strides, dilations, negative padding."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        n, h, w, c, o = (int(v) for v in rng.integers(1, [3, 10, 10, 4, 4], endpoint=True))
        kh, kw = _int_pair(rng, 1, 4)
        strides, lhs, rhs = (_int_pair(rng, 1, 2) for _ in range(3))
        padding = (_int_pair(rng, -2, 2), _int_pair(rng, -2, 2))
        axes = zip((h, w), (kh, kw), strides, padding, lhs, rhs)
        sizes = [nn.conv_output_size(*axis) for axis in axes]
        if min(sizes) > 0:
            cases.append(((n, h, w, c), (kh, kw, c, o), strides, padding, lhs, rhs))
    return cases


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv2d_matches_lax(dtype):
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(1)
    with jax.enable_x64(True):
        for x_shape, w_shape, strides, padding, lhs, rhs in _conv_cases(30):
            x = rng.standard_normal(x_shape).astype(dtype)
            w = rng.standard_normal(w_shape).astype(dtype)
            expected = jax.lax.conv_general_dilated(
                x, w, strides, padding, lhs, rhs, dimension_numbers=("NHWC", "HWIO", "NHWC")
            )
            y = nn.conv2d(x, w, strides, padding, lhs, rhs)
            assert y.dtype == dtype
            np.testing.assert_allclose(y, np.asarray(expected), atol=ATOL[dtype], rtol=1e-4)


def test_conv2d_single_channel_matches_scipy():
    rng = np.random.default_rng(2)
    image, kernel = rng.standard_normal((11, 9)), rng.standard_normal((4, 3))
    x, w = image[None, :, :, None], kernel[:, :, None, None]
    valid = nn.conv2d(x, w)[0, :, :, 0]
    full = nn.conv2d(x, w, padding=((3, 3), (2, 2)))[0, :, :, 0]
    np.testing.assert_allclose(valid, scipy.signal.correlate2d(image, kernel, mode="valid"))
    np.testing.assert_allclose(full, scipy.signal.correlate2d(image, kernel, mode="full"))


def test_conv2d_handles_blocks_and_strided_inputs():
    """Outputs larger than one im2col block, and non-contiguous inputs, give the plain im2col result."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 70, 90, 16)).astype("float32")[:, ::-1, :, ::2]
    w = rng.standard_normal((3, 3, 8, 5)).astype("float32")
    patches = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))  # (n, h, w, c, kh, kw)
    expected = np.einsum("nhwcij,ijco->nhwo", patches, w)
    np.testing.assert_allclose(nn.conv2d(x, w), expected, atol=1e-4)


def test_filter_gradient_from_lent_patches_matches_lax():
    """conv2d lends its patch matrix P to a memo; P^T @ dy is the filter gradient of lax's conv."""
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(4)
    with jax.enable_x64(True):
        for x_shape, w_shape, strides, padding, lhs, rhs in _conv_cases(20, seed=5):
            x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
            memo = nn.PatchMemo()
            y = nn.conv2d(x, w, strides, padding, lhs, rhs, memo=memo)
            g = rng.standard_normal(y.shape)
            conv = lambda w_: jax.lax.conv_general_dilated(x, w_, strides, padding, lhs, rhs,
                                                          dimension_numbers=("NHWC", "HWIO", "NHWC"))
            expected = jax.vjp(conv, w)[1](g)[0]
            np.testing.assert_allclose(y, np.asarray(conv(w)), atol=1e-10)
            np.testing.assert_allclose(nn.conv2d_grad_filter_from_patches(memo.take(x), w.shape, g),
                                       np.asarray(expected), atol=1e-10)
            assert memo.take(x) is None     # taken once


def test_few_channel_inputs_unfolded_tap_by_tap_match_lax_and_lend_their_patches(monkeypatch):
    """Inputs of one or two channels are unfolded tap by tap (nn._conv2d_tap_major): the same
    convolution as lax's for every stride, dilation and padding, and the same lent patches."""
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(8)
    cases = [c for c in _conv_cases(200, seed=9) if c[0][3] <= nn._FEW_CHANNELS][:25]
    assert len(cases) == 25 and {c[0][3] for c in cases} == {1, 2}
    monkeypatch.setattr(nn, "_MIN_TAP_NUMBERS", 0)   # these images are small: unfold them tap by tap too
    calls = []
    tap_major = nn._conv2d_tap_major
    monkeypatch.setattr(nn, "_conv2d_tap_major", lambda *args: calls.append(1) or tap_major(*args))
    with jax.enable_x64(True):
        for x_shape, w_shape, strides, padding, lhs, rhs in cases:
            x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
            conv = lambda w_: jax.lax.conv_general_dilated(x, w_, strides, padding, lhs, rhs,
                                                          dimension_numbers=("NHWC", "HWIO", "NHWC"))
            memo = nn.PatchMemo()
            y = nn.conv2d(x, w, strides, padding, lhs, rhs, memo=memo)
            np.testing.assert_allclose(y, np.asarray(conv(w)), atol=1e-10)
            g = rng.standard_normal(y.shape)
            np.testing.assert_allclose(nn.conv2d_grad_filter_from_patches(memo.take(x), w.shape, g),
                                       np.asarray(jax.vjp(conv, w)[1](g)[0]), atol=1e-10)
    assert len(calls) == len(cases)


def test_kernels_of_many_taps_are_not_unfolded_tap_by_tap(monkeypatch):
    """A filter gradient computed as a convolution has a kernel the size of the image: one copy
    per tap would be thousands of numpy calls, so such kernels take the patch-block path."""
    def refuse(*args):
        raise AssertionError("unfolded tap by tap")
    x, w = np.ones((1, 40, 40, 1), "float32"), np.ones((30, 30, 1, 2), "float32")
    expected = nn.conv2d(x, w)          # one channel, 900 taps
    monkeypatch.setattr(nn, "_conv2d_tap_major", refuse)
    np.testing.assert_array_equal(nn.conv2d(x, w), expected)
    np.testing.assert_allclose(expected, np.full((1, 11, 11, 2), 900.0))


def test_small_images_are_gathered_patch_by_patch(monkeypatch):
    """Below _MIN_TAP_NUMBERS numbers a tap (LeNet's 28x28 first layer at batch 1) each tap's copy
    costs more than it saves: the patches are gathered in one copy."""
    def refuse(*args):
        raise AssertionError("unfolded tap by tap")
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 32, 32, 1)), rng.standard_normal((5, 5, 1, 6))
    expected = nn.conv2d(np.concatenate([x, x]), w)[:1]   # two images: 1568 numbers a tap, tap by tap
    monkeypatch.setattr(nn, "_conv2d_tap_major", refuse)
    np.testing.assert_allclose(nn.conv2d(x, w), expected, atol=1e-12)


@pytest.mark.parametrize("separable_numbers", [0, 1 << 30], ids=["tap_by_tap", "separable"])
def test_input_gradient_by_taps_matches_lax(separable_numbers, monkeypatch):
    """dy @ W^T per tap, added back onto the padded input (the hand-written col2im) tap by tap or
    separably (columns onto bands, bands onto rows), is lax's input gradient for every stride,
    kernel dilation and non-negative padding; taps_pay picks it only where it holds and costs less."""
    jax = pytest.importorskip("jax")
    monkeypatch.setattr(nn, "_SEPARABLE_NUMBERS", separable_numbers)
    rng = np.random.default_rng(6)
    cases = [c for c in _conv_cases(400, seed=7) if c[4] == (1, 1) and min(min(p) for p in c[3]) >= 0]
    assert len(cases) >= 10
    with jax.enable_x64(True):
        for x_shape, w_shape, strides, padding, lhs, rhs in cases:
            x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
            conv = lambda x_: jax.lax.conv_general_dilated(x_, w, strides, padding, lhs, rhs,
                                                          dimension_numbers=("NHWC", "HWIO", "NHWC"))
            y, vjp = jax.vjp(conv, x)
            g = rng.standard_normal(y.shape)
            got = nn.conv2d_grad_input_by_taps(w, g, x.shape, strides, padding, rhs)
            assert got.flags.c_contiguous
            np.testing.assert_allclose(got, np.asarray(vjp(g)[0]), atol=1e-10)
    w, g = np.ones((5, 5, 6, 16), "float32"), np.ones((1, 10, 10, 16), "float32")
    assert nn.taps_pay((1, 14, 14, 6), w, g, ((0, 0), (0, 0)), (1, 1))
    assert not nn.taps_pay((1, 14, 14, 6), w, g, ((-1, 0), (0, 0)), (1, 1))       # negative padding crops
    assert not nn.taps_pay((1, 14, 14, 6), w, g, ((0, 0), (0, 0)), (2, 2))        # input dilation
    assert not nn.taps_pay((1, 14, 14, 32), np.ones((5, 5, 32, 16), "float32"), g, ((0, 0), (0, 0)), (1, 1))


def test_patch_memo_lends_only_to_the_array_it_was_made_from():
    x, w = np.ones((1, 5, 5, 1)), np.ones((2, 2, 1, 1))
    memo = nn.PatchMemo()
    nn.conv2d(x, w, memo=memo)
    assert memo.take(x.copy()) is None and memo.take(x) is None
    nn.conv2d(x, w, memo=memo)
    assert memo.take(x).shape == (16, 4)
    big = np.ones((1, 128, 128, 4), "float32")      # 6 MB of patches: more than is worth holding
    nn.conv2d(big, np.ones((5, 5, 4, 2), "float32"), memo=memo)
    assert memo.take(big) is None


def _naive_pool(x, ws, strides, padding, mode, count_include_pad):
    """Pooling by an explicit loop over windows, reading only real (unpadded) pixels."""
    (pt, pb), (pl, pr) = padding
    n, h, w, c = x.shape
    ho, wo = (h + pt + pb - ws[0]) // strides[0] + 1, (w + pl + pr - ws[1]) // strides[1] + 1
    y = np.empty((n, ho, wo, c), x.dtype)
    for i, j in itertools.product(range(ho), range(wo)):
        top, left = i * strides[0] - pt, j * strides[1] - pl
        window = x[:, max(top, 0):max(top + ws[0], 0), max(left, 0):max(left + ws[1], 0)]
        if mode == "max":
            y[:, i, j] = window.max(axis=(1, 2)) if window.size else -np.inf
        else:
            total = window.sum(axis=(1, 2))
            count = ws[0] * ws[1] if count_include_pad else window.shape[1] * window.shape[2]
            y[:, i, j] = total if mode == "sum" else total / count
    return y


POOL_CASES = [
    ((2, 2), (2, 2), ((0, 0), (0, 0))),
    ((3, 3), (2, 2), ((1, 1), (1, 1))),
    ((3, 2), (1, 2), ((2, 0), (1, 1))),
    ((2, 3), (3, 1), ((0, 1), (2, 0))),
]
POOL_MODES = [("max", True), ("sum", True), ("average", True), ("average", False)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode, count_include_pad", POOL_MODES)
def test_pool2d_matches_naive_loop(dtype, mode, count_include_pad):
    x = np.random.default_rng(4).standard_normal((2, 7, 8, 3)).astype(dtype)
    for ws, strides, padding in POOL_CASES:
        y = nn.pool2d(x, ws, strides, padding, mode, count_include_pad)
        assert y.dtype == dtype
        expected = _naive_pool(x, ws, strides, padding, mode, count_include_pad)
        np.testing.assert_allclose(y, expected, atol=ATOL[dtype])


@pytest.mark.parametrize("mode, count_include_pad", POOL_MODES)
def test_pool2d_grad_matches_finite_differences(mode, count_include_pad):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 5, 6, 2))
    eps = 1e-6
    for ws, strides, padding in POOL_CASES:
        y = nn.pool2d(x, ws, strides, padding, mode, count_include_pad)
        gy = rng.standard_normal(y.shape)
        gx = nn.pool2d_grad(x, y, gy, ws, strides, padding, mode, count_include_pad)
        numeric = np.empty_like(x)
        for index in np.ndindex(x.shape):
            step = np.zeros_like(x)
            step[index] = eps
            up = nn.pool2d(x + step, ws, strides, padding, mode, count_include_pad)
            down = nn.pool2d(x - step, ws, strides, padding, mode, count_include_pad)
            numeric[index] = np.sum(gy * (up - down)) / (2 * eps)
        np.testing.assert_allclose(gx, numeric, atol=1e-6)


def test_max_pool_grad_goes_to_first_maximum_on_ties():
    x = np.ones((1, 3, 3, 1))
    y = nn.pool2d(x, (2, 2), (1, 1), ((0, 0), (0, 0)), "max")
    gx = nn.pool2d_grad(x, y, np.ones_like(y), (2, 2), (1, 1), ((0, 0), (0, 0)), "max")
    np.testing.assert_array_equal(gx[0, :, :, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


@pytest.mark.parametrize("mode, count_include_pad", POOL_MODES)
def test_jax_pool_kernels_match_numpy(mode, count_include_pad):
    jax = pytest.importorskip("jax")
    from backends.jax import nn as jax_nn

    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 7, 8, 3))
    with jax.enable_x64(True):
        for ws, strides, padding in POOL_CASES[1::2]:  # overlapping windows, uneven padding
            args = (ws, strides, padding, mode, count_include_pad)
            y = nn.pool2d(x, *args)
            gy = rng.standard_normal(y.shape)
            np.testing.assert_allclose(jax_nn.pool2d(x, *args), y, atol=1e-12)
            gx = nn.pool2d_grad(x, y, gy, *args)
            np.testing.assert_allclose(jax_nn.pool2d_grad(x, y, gy, *args), gx, atol=1e-12)


def test_jax_kernels_trace_under_jit():
    jax = pytest.importorskip("jax")
    from backends.jax import nn as jax_nn

    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 9, 9, 3)).astype("float32")
    w = rng.standard_normal((3, 3, 3, 4)).astype("float32")
    conv = jax.jit(jax_nn.conv2d, static_argnums=(2, 3, 4, 5))
    pool_grad = jax.jit(jax_nn.pool2d_grad, static_argnums=(3, 4, 5, 6, 7))
    args = ((2, 2), (2, 2), ((0, 1), (1, 0)), "max", True)
    y = nn.conv2d(x, w, (2, 1), ((1, -1), (0, 2)), (1, 2), (2, 1))
    np.testing.assert_allclose(conv(x, w, (2, 1), ((1, -1), (0, 2)), (1, 2), (2, 1)), y, atol=1e-4)
    p = nn.pool2d(y, *args)
    np.testing.assert_allclose(pool_grad(y, p, p, *args), nn.pool2d_grad(y, p, p, *args), atol=1e-5)


def _pytensor_graph(dtype):
    """A conv -> max pool -> pool gradient graph through the PyTensor Ops, and the numpy result for it."""
    pt = pytest.importorskip("pytensor.tensor")
    from backends.theano import nn as theano_nn
    from backends.theano.blas import configure_blas

    configure_blas()  # as the theano backend does; spares PyTensor its own (failing) search for a BLAS
    conv_args = ((2, 1), ((1, -1), (2, 0)), (1, 2), (2, 1))
    pool_args = ((2, 2), (2, 2), ((0, 1), (1, 0)), "average", False)
    x, w = pt.tensor4("x", dtype=dtype), pt.tensor4("w", dtype=dtype)
    y = theano_nn.conv2d(x, w, *conv_args)
    p = theano_nn.pool2d(y, *pool_args)
    g = theano_nn.pool2d_grad(y, p, p, *pool_args)
    rng = np.random.default_rng(8)
    xv, wv = rng.standard_normal((2, 9, 8, 3)).astype(dtype), rng.standard_normal((3, 2, 3, 4)).astype(dtype)
    yv = nn.conv2d(xv, wv, *conv_args)
    pv = nn.pool2d(yv, *pool_args)
    expected = [yv, pv, nn.pool2d_grad(yv, pv, pv, *pool_args)]
    return [x, w], [y, p, g, y.shape, p.shape], [xv, wv], expected


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pytensor_ops_run_numpy_kernels_under_c_linker(dtype):
    pytensor = pytest.importorskip("pytensor")
    from pytensor.compile.mode import Mode

    inputs, outputs, values, expected = _pytensor_graph(dtype)
    y, p, g, y_shape, p_shape = pytensor.function(inputs, outputs, mode=Mode(linker="cvm"))(*values)
    for got, want in zip((y, p, g), expected):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
    assert tuple(y_shape) == expected[0].shape and tuple(p_shape) == expected[1].shape


def test_pytensor_ops_run_jax_kernels_under_jax_linker():
    pytensor = pytest.importorskip("pytensor")
    pytest.importorskip("jax")
    inputs, outputs, values, expected = _pytensor_graph("float32")
    for got, want in zip(pytensor.function(inputs, outputs[:3], mode="JAX")(*values), expected):
        np.testing.assert_allclose(got, want, atol=1e-4)


def test_pytensor_ops_static_shapes_props_and_grad():
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    from backends.theano import nn as theano_nn

    x = pt.tensor("x", dtype="float32", shape=(None, 9, 8, 3))
    w = pt.tensor("w", dtype="float32", shape=(3, 2, 3, 4))
    y = theano_nn.conv2d(x, w, (2, 1), ((1, -1), (2, 0)), (1, 2), (2, 1))
    assert y.type.shape == (None, 3, 16, 4)
    assert theano_nn.pool2d(y, (2, 2), (2, 2), ((0, 1), (1, 0)), "max").type.shape == (None, 2, 8, 4)
    assert theano_nn.Conv2D() == theano_nn.Conv2D([1, 1])
    assert hash(theano_nn.Conv2D()) == hash(theano_nn.Conv2D([1, 1]))
    with pytest.raises(TypeError):
        theano_nn.conv2d(x, pt.tensor4(dtype="float64"))
    with pytest.raises(ValueError):
        theano_nn.Pool2D((2, 2), (2, 2), ((0, 0), (0, 0)), "median")
    with pytest.raises(NotImplementedError, match="mlcore differentiates"):
        pytensor.grad(y.sum(), x)


def test_configure_blas_gives_pytensor_a_c_gemm():
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    pytest.importorskip("scipy_openblas32")
    from pytensor.compile.mode import Mode

    from backends.theano.blas import configure_blas

    if "-Dsgemm_=scipy_sgemm_" not in configure_blas():
        pytest.skip("blas__ldflags was fixed before configure_blas (PYTENSOR_FLAGS or an earlier compile)")
    a, b = pt.matrix(dtype="float32"), pt.matrix(dtype="float32")
    f = pytensor.function([a, b], a @ b, mode=Mode(linker="cvm"))
    (node,) = f.maker.fgraph.toposort()
    assert type(node.op).__name__ == "Dot22" and hasattr(f.vm.thunks[0], "cthunk")
    rng = np.random.default_rng(9)
    av, bv = rng.standard_normal((30, 20)).astype("float32"), rng.standard_normal((20, 10)).astype("float32")
    np.testing.assert_allclose(f(av, bv), av @ bv, rtol=1e-5, atol=1e-5)


def test_configure_cache_puts_compiledir_under_mlcore_home(tmp_path):
    """In a new interpreter: compiledir is fixed at PyTensor's first compilation, long done in this one."""
    pytest.importorskip("pytensor")
    code = "from backends.theano.blas import configure_cache; print(configure_cache())"
    env = {key: value for key, value in os.environ.items() if key != "PYTENSOR_FLAGS"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["MLCORE_HOME"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    compiledir = done.stdout.strip()
    assert compiledir.startswith(os.path.join(os.path.realpath(tmp_path), "pytensor", "compiledir_"))
    assert os.path.isdir(compiledir)
