"""Theano 1.0's rarer T.nnet and T pieces: unshared conv2d (and its gradients), grouped gradients,
causal_conv1d, separable_conv2d, bilinear_upsampling, T.sort's top-k, T.nnet.ctc.ctc,
T.signal.conv.conv2d, T.nnet.blocksparse and T.inplace.  Values on every backend against numpy
references written here (loops, scipy.signal, numpy sorting, the CTC forward recursion, hand-worked
cases), gradients by T.verify_grad (central finite differences) on every backend."""
import numpy as np
import pytest
from scipy import signal

import mlcore
import mlcore.tensor as T
from mlcore.tensor.nnet import abstract_conv, blocksparse
from mlcore.tensor.nnet.ctc import ctc
from mlcore.tensor.sort import argtopk, topk, topk_and_argtopk


def run(backend, inputs, outputs, *values):
    return mlcore.function(inputs, outputs, backend=backend, on_unused_input="ignore")(*values)


def tensor(ndim, dtype="float64"):
    return T.TensorType(dtype, (None,) * ndim)()


# --- unshared conv2d --------------------------------------------------------------------------------
def windows(x, w, pads, subsample, dilation, flip, groups):
    """For each output (n, o, r, c) of an unshared conv2d: the padded input's window it reads and
    its filters as applied (flipped for a true convolution)."""
    x = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    out_channels, rows, cols, per_group, kh, kw = w.shape
    for n, o, r, c in np.ndindex(x.shape[0], out_channels, rows, cols):
        first = o // (out_channels // groups) * per_group
        key = (n, slice(first, first + per_group),
               slice(r * subsample[0], r * subsample[0] + (kh - 1) * dilation[0] + 1, dilation[0]),
               slice(c * subsample[1], c * subsample[1] + (kw - 1) * dilation[1] + 1, dilation[1]))
        yield (n, o, r, c), x, key, (w[o, r, c, :, ::-1, ::-1] if flip else w[o, r, c])


def unshared_ref(x, w, pads, subsample, dilation, flip, groups):
    out = np.zeros((x.shape[0], w.shape[0]) + w.shape[1:3])
    for position, padded, key, kernel in windows(x, w, pads, subsample, dilation, flip, groups):
        out[position] = np.sum(padded[key] * kernel)
    return out


def unshared_grads_ref(x, w, g, pads, subsample, dilation, flip, groups):
    """d sum(unshared_ref * g) / d x and / d w: each output's g goes back to its window times its
    filters, and to its filters times its window."""
    gx, gw = np.zeros((x.shape[0], x.shape[1]) + tuple(n + a + b for n, (a, b) in zip(x.shape[2:], pads))), 0 * w
    for (n, o, r, c), padded, key, kernel in windows(x, w, pads, subsample, dilation, flip, groups):
        gx[key] += g[n, o, r, c] * kernel
        taps = g[n, o, r, c] * padded[key]
        gw[o, r, c] += taps[:, ::-1, ::-1] if flip else taps
    return gx[:, :, pads[0][0]:pads[0][0] + x.shape[2], pads[1][0]:pads[1][0] + x.shape[3]], gw


def unshared_filters(rng, x_shape, window, pads, subsample, dilation, out_channels, groups):
    rows, cols = ((n + a + b - (k - 1) * d - 1) // s + 1
                  for n, k, (a, b), s, d in zip(x_shape[2:], window, pads, subsample, dilation))
    return rng.normal(size=(out_channels, rows, cols, x_shape[1] // groups) + window)


# x shape, window, border_mode, its padding, subsample, filter_dilation, filter_flip, out channels, num_groups
UNSHARED_CASES = [((2, 3, 5, 6), (2, 3), "valid", ((0, 0), (0, 0)), (1, 1), (1, 1), True, 2, 1),
                  ((2, 4, 6, 7), (3, 3), "half", ((1, 1), (2, 2)), (2, 1), (1, 2), False, 4, 2),
                  ((1, 2, 5, 4), (2, 2), ((2, 0), 1), ((2, 0), (1, 1)), (1, 2), (2, 1), True, 3, 1)]


@pytest.mark.parametrize("shape, window, border_mode, pads, subsample, dilation, flip, out_channels, groups",
                         UNSHARED_CASES)
def test_unshared_conv2d_against_loops_and_finite_differences(on_backend, rng, shape, window, border_mode, pads,
                                                              subsample, dilation, flip, out_channels, groups):
    xv = rng.normal(size=shape)
    wv = unshared_filters(rng, shape, window, pads, subsample, dilation, out_channels, groups)
    options = dict(border_mode=border_mode, subsample=subsample, filter_flip=flip, filter_dilation=dilation,
                   num_groups=groups, unshared=True, filter_shape=wv.shape)
    x, w = T.dtensor4("x"), T.tensor(dtype="float64", shape=wv.shape)
    out = T.nnet.conv2d(x, w, **options)
    assert out.type.shape[1:] == (out_channels,) + wv.shape[1:3]
    (got,) = run(on_backend, [x, w], [out], xv, wv)
    np.testing.assert_allclose(got, unshared_ref(xv, wv, pads, subsample, dilation, flip, groups), atol=1e-12)
    T.verify_grad(lambda a, b: T.nnet.conv2d(a, b, **options), [xv, wv], n_tests=1, rng=rng)


def test_unshared_conv2d_with_the_same_filters_everywhere_is_conv2d(backend, rng):
    """Theano's convolution, a true one (scipy.signal.convolve2d), by one filter per output position."""
    xv, shared = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(2, 3, 3, 2))
    wv = np.broadcast_to(shared[:, None, None], (2, 4, 4, 3, 3, 2)).copy()
    x, w = T.dtensor4(), T.tensor(dtype="float64", shape=(None,) * 6)
    (got,) = run(backend, [x, w], [T.nnet.conv2d(x, w, unshared=True)], xv, wv)
    expected = [[sum(signal.convolve2d(xv[n, c], shared[o, c], "valid") for c in range(3)) for o in range(2)]
                for n in range(2)]
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_unshared_and_grouped_gradient_functions_against_loops(backend, rng):
    """conv2d_grad_wrt_inputs/weights with unshared=True, and with num_groups for shared filters
    (the unshared references with the filters repeated at every position, summed back)."""
    shape, window, border_mode, pads, subsample, dilation, flip, out_channels, groups = UNSHARED_CASES[1]
    xv = rng.normal(size=shape)
    wv = unshared_filters(rng, shape, window, pads, subsample, dilation, out_channels, groups)
    gv = rng.normal(size=(shape[0], out_channels) + wv.shape[1:3])
    shared = rng.normal(size=(out_channels, shape[1] // groups) + window)
    tiled = np.broadcast_to(shared[:, None, None], wv.shape).copy()
    options = dict(border_mode=border_mode, subsample=subsample, filter_flip=flip, filter_dilation=dilation,
                   num_groups=groups)
    x, w, g, s = T.dtensor4(), tensor(6), T.dtensor4(), T.dtensor4()
    image_shape = (None, None) + shape[2:]
    outputs = [abstract_conv.conv2d_grad_wrt_inputs(g, w, image_shape, wv.shape, unshared=True, **options),
               abstract_conv.conv2d_grad_wrt_weights(x, g, (None,) * 4 + window, unshared=True, **options),
               T.nnet.conv2d_transpose(g, s, image_shape, shared.shape, border_mode, subsample, flip, dilation,
                                       groups),
               abstract_conv.conv2d_grad_wrt_weights(x, g, (None, None) + window, **options)]
    gx, gw, shared_gx, shared_gw = run(backend, [x, w, g, s], outputs, xv, wv, gv, shared)
    expected_gx, expected_gw = unshared_grads_ref(xv, wv, gv, pads, subsample, dilation, flip, groups)
    np.testing.assert_allclose(gx, expected_gx, atol=1e-12)
    np.testing.assert_allclose(gw, expected_gw, atol=1e-12)
    expected_gx, expected_gw = unshared_grads_ref(xv, tiled, gv, pads, subsample, dilation, flip, groups)
    np.testing.assert_allclose(shared_gx, expected_gx, atol=1e-12)
    np.testing.assert_allclose(shared_gw, expected_gw.sum(axis=(1, 2)), atol=1e-12)


def test_unshared_conv2d_checks_its_filters():
    x = T.tensor4(dtype="float64", shape=(1, 2, 5, 5))
    with pytest.raises(ValueError, match=r"conv2d\(unshared=True\) needs 6-d filters"):
        T.nnet.conv2d(x, T.dtensor4(), unshared=True)
    with pytest.raises(ValueError, match=r"filters .* have 3 output rows, but the input .* gives 4"):
        T.nnet.conv2d(x, T.tensor(dtype="float64", shape=(1, 3, 4, 2, 2, 2)), unshared=True)
    with pytest.raises(ValueError, match=r"input .* has 2 channels but filters .* read 2 x 2 groups"):
        T.nnet.conv2d(x, T.tensor(dtype="float64", shape=(2, 4, 4, 2, 2, 2)), unshared=True, num_groups=2)
    assert abstract_conv.get_conv_output_shape((2, 3, 9, 8), (4, 4, 3, 3, 3, 2), "half", (2, 3)) == (2, 4, 5, 3)


# --- causal and separable convolutions ---------------------------------------------------------------
def causal_ref(x, w, subsample, dilation, flip, groups):
    """out[n, o, t] = sum over o's group's channels c and taps i of x[n, c, t * subsample - span + i *
    dilation] * w[o, c, i] (the filter reversed when flip), zero before the start."""
    length = w.shape[2]
    x = np.pad(x, ((0, 0), (0, 0), (dilation * (length - 1), 0)))
    w = w[:, :, ::-1] if flip else w
    out = np.zeros((x.shape[0], w.shape[0], (x.shape[2] - dilation * (length - 1) - 1) // subsample + 1))
    for n, o, t in np.ndindex(out.shape):
        first = o // (w.shape[0] // groups) * w.shape[1]
        taps = x[n, first:first + w.shape[1], t * subsample:t * subsample + dilation * (length - 1) + 1:dilation]
        out[n, o, t] = np.sum(taps * w[o])
    return out


def test_causal_conv1d_against_numpy_is_causal_and_has_gradients(on_backend, rng):
    xv, wv, wide = rng.normal(size=(2, 4, 9)), rng.normal(size=(6, 2, 3)), rng.normal(size=(3, 4, 3))
    options = dict(subsample=1, filter_dilation=2, num_groups=2)
    x, w, v = T.dtensor3(), T.dtensor3(), T.dtensor3()
    out = abstract_conv.causal_conv1d(x, w, wv.shape, **options)
    strided = abstract_conv.causal_conv1d(x, v, wide.shape, subsample=2, filter_flip=False)
    later = xv.copy()
    later[:, :, 5:] += 1.0
    f = mlcore.function([x, w, v], [out, strided], backend=on_backend)
    (got, got_strided), (changed, _) = f(xv, wv, wide), f(later, wv, wide)
    np.testing.assert_allclose(got, causal_ref(xv, wv, 1, 2, True, 2), atol=1e-12)
    np.testing.assert_allclose(got_strided, causal_ref(xv, wide, 2, 1, False, 1), atol=1e-12)
    assert got.shape == (2, 6, 9) and got_strided.shape == (2, 3, 5)
    np.testing.assert_array_equal(changed[:, :, :5], got[:, :, :5])     # output t reads inputs up to t only
    assert not np.allclose(changed[:, :, 5:], got[:, :, 5:])
    T.verify_grad(lambda a, b: abstract_conv.causal_conv1d(a, b, wv.shape, **options), [xv, wv], n_tests=1, rng=rng)


def test_separable_conv2d_against_scipy_and_finite_differences(on_backend, rng):
    xv, depthwise = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(6, 1, 3, 3))
    pointwise = rng.normal(size=(4, 6, 1, 1))
    x, d, p = T.dtensor4(), T.dtensor4(), T.dtensor4()
    options = dict(border_mode="half", subsample=(2, 1), depthwise_filter_shape=depthwise.shape)
    (got,) = run(on_backend, [x, d, p], [T.nnet.separable_conv2d(x, d, p, 3, **options)], xv, depthwise, pointwise)
    padded = np.pad(xv, ((0, 0), (0, 0), (1, 1), (1, 1)))
    per_channel = np.array([[signal.convolve2d(padded[n, o // 2], depthwise[o, 0], "valid")[::2]
                             for o in range(6)] for n in range(2)])
    np.testing.assert_allclose(got, np.einsum("po,nohw->nphw", pointwise[:, :, 0, 0], per_channel), atol=1e-12)
    T.verify_grad(lambda a, b, c: T.nnet.separable_conv2d(a, b, c, 3, **options), [xv, depthwise, pointwise],
                  n_tests=1, rng=rng)


# --- bilinear upsampling -----------------------------------------------------------------------------
def two_by_two_ref(a, ratio):
    """Theano's hand-worked case for 2 x 2 images: between the two pixels a linear ramp of ratio + 1
    values, its ends repeated (ratio - 1) // 2 times, once more at the end for an even ratio;
    along the rows, then along the columns."""
    def along_last(v):
        t = np.arange(ratio + 1) / ratio
        ramp = v[..., :1] * (1 - t) + v[..., 1:] * t
        before = (ratio - 1) // 2
        return np.concatenate([ramp[..., :1]] * before + [ramp] + [ramp[..., -1:]] * (before + 1 - ratio % 2), -1)
    return along_last(along_last(a).swapaxes(-1, -2)).swapaxes(-1, -2)


def triangle(ratio):
    return np.concatenate([np.arange(1, ratio + 1), np.arange(ratio - 1, 0, -1)]) / ratio


def upsample_ref(v, ratio):
    """One axis (the last): each pixel of v, its first and last repeated, spread ratio apart and
    smeared by the triangle kernel; then cut to ratio * len(v) as Theano cuts it."""
    v = np.concatenate([v[..., :1], v, v[..., -1:]], -1)
    out = np.zeros(v.shape[:-1] + ((v.shape[-1] - 1) * ratio + 2 * ratio - 1,))
    for i in range(v.shape[-1]):
        out[..., i * ratio:i * ratio + 2 * ratio - 1] += v[..., i:i + 1] * triangle(ratio)
    start = 2 * ratio - (ratio - 1) // 2 - 1
    return out[..., start:start + (v.shape[-1] - 2) * ratio]


def frac_upsample_ref(v, p, q):
    """One axis of Theano's frac_bilinear_upsampling as it computes it: the triangle, zero-padded by
    about the image's upsampled size on both sides, convolved with the border-repeated image spread
    p apart, read every q-th value."""
    size = v.shape[-1]
    v = np.concatenate([v[..., :1], v, v[..., -1:]], -1)
    double_pad = (2 * size - 1) * p + 1
    kern = np.concatenate([np.zeros(double_pad // 2), triangle(p), np.zeros(double_pad - double_pad // 2)])
    spread = np.zeros(v.shape[:-1] + ((v.shape[-1] - 1) * p + 1,))
    spread[..., ::p] = v
    full = np.stack([np.sum(kern[y:y + spread.shape[-1]] * spread[..., ::-1], -1)
                     for y in range(len(kern) - spread.shape[-1] + 1)], -1)
    return full[..., ::q]


def test_bilinear_upsampling_of_two_by_two_images_as_worked_by_hand(backend):
    a = np.array([[[[1.0, 2.0], [3.0, 4.0]]], [[[-1.0, 0.5], [2.0, 0.0]]]])
    x = T.dtensor4()
    cases = [(ratio, one_d) for ratio in (2, 3, 4, 5) for one_d in (True, False)]
    got = run(backend, [x], [abstract_conv.bilinear_upsampling(x, r, use_1D_kernel=d) for r, d in cases], a)
    for (ratio, _), value in zip(cases, got):
        np.testing.assert_allclose(value, two_by_two_ref(a, ratio), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(two_by_two_ref(a, 3)[0, 0, 0], [1, 1, 4 / 3, 5 / 3, 2, 2])    # the ramp, by hand


def test_bilinear_upsampling_against_numpy_and_finite_differences(on_backend, rng):
    xv = rng.normal(size=(2, 3, 4, 5))
    x = T.dtensor4()
    outputs = [abstract_conv.bilinear_upsampling(x, 3), abstract_conv.bilinear_upsampling(x, 2, use_1D_kernel=False),
               abstract_conv.bilinear_upsampling(x, frac_ratio=((3, 2), (4, 6)), use_1D_kernel=False),
               abstract_conv.bilinear_upsampling(x, frac_ratio=(5, 2), use_1D_kernel=False)]
    up3, up2, frac, frac_square = run(on_backend, [x], outputs, xv)

    def both_axes(f, rows, cols):
        """f along the rows with arguments rows, then along the columns with arguments cols."""
        return f(f(xv.swapaxes(-1, -2), *rows).swapaxes(-1, -2), *cols)
    np.testing.assert_allclose(up3, both_axes(upsample_ref, [3], [3]), atol=1e-12)
    np.testing.assert_allclose(up2, both_axes(upsample_ref, [2], [2]), atol=1e-12)
    assert frac.shape == (2, 3, 6, 4) and frac_square.shape == (2, 3, 10, 13)
    np.testing.assert_allclose(frac, both_axes(frac_upsample_ref, [3, 2], [2, 3]), atol=1e-12)
    np.testing.assert_allclose(frac_square, both_axes(frac_upsample_ref, [5, 2], [5, 2]), atol=1e-12)
    T.verify_grad(lambda v: abstract_conv.bilinear_upsampling(v, 2), [xv], n_tests=1, rng=rng)


def test_bilinear_upsampling_arguments_and_kernels():
    x = T.dtensor4()
    with pytest.raises(ValueError, match="can't use ratio and frac_ratio together"):
        abstract_conv.bilinear_upsampling(x, 2, frac_ratio=(1, 2))
    with pytest.raises(ValueError, match="No ratio"):
        abstract_conv.bilinear_upsampling(x)
    with pytest.raises(ValueError, match="use_1D_kernel as False"):
        abstract_conv.bilinear_upsampling(x, frac_ratio=(3, 2))
    with pytest.raises(NotImplementedError, match="ratio must be known"):
        abstract_conv.bilinear_upsampling(x, T.iscalar())
    np.testing.assert_allclose(abstract_conv.bilinear_kernel_1D(3, normalize=False).eval(), [1, 2, 3, 2, 1])
    np.testing.assert_allclose(abstract_conv.bilinear_kernel_2D(2).eval(), np.outer([.5, 1, .5], [.5, 1, .5]))


# --- top-k -------------------------------------------------------------------------------------------
def top_ref(x, k, axis):
    """numpy: the positions of the k largest (k > 0) or -k smallest along axis, most extreme first."""
    order = np.argsort(-x if k > 0 else x, axis=axis, kind="stable")
    return np.take(order, np.arange(abs(k)), axis=axis)


def test_topk_against_numpy_sorting_and_finite_differences(on_backend, rng):
    xv = rng.permutation(24).reshape(4, 6) + rng.uniform(0, 0.5, size=(4, 6))
    x, k = T.dmatrix(), T.iscalar()
    values, indices = topk_and_argtopk(x, 6, idx_dtype="int32")
    outputs = [topk(x, 2), argtopk(x, 2), topk(x, -3, axis=0), argtopk(x, -3, axis=0), argtopk(x, 5, axis=None),
               values, indices, T.topk(x, k), T.argtopk(x, k, axis=0)]
    f = mlcore.function([x, k], outputs, backend=on_backend)
    got = f(xv, 2)
    for (value, index), (kth, axis) in zip([got[0:2], got[2:4]], [(2, -1), (-3, 0)]):
        np.testing.assert_array_equal(index, top_ref(xv, kth, axis))
        np.testing.assert_array_equal(value, np.take_along_axis(xv, top_ref(xv, kth, axis), axis))
    np.testing.assert_array_equal(got[4], top_ref(xv.ravel(), 5, 0))
    np.testing.assert_array_equal(got[5], np.sort(xv)[:, ::-1])
    assert got[6].dtype == np.int32 and got[4].dtype == np.int64
    for kth in (2, -2):                                   # a symbolic kth, either sign
        value, index = f(xv, kth)[7:]
        np.testing.assert_array_equal(value, np.take_along_axis(xv, top_ref(xv, kth, -1), -1))
        np.testing.assert_array_equal(index, top_ref(xv, kth, 0))
    T.verify_grad(lambda a: T.topk(a, 2, axis=0) ** 2, [xv], n_tests=1, rng=rng)


def test_topk_ties_unsigned_ints_and_errors(backend):
    v, u = T.dvector(), T.vector(dtype="uint8")
    ties, smallest, largest, values = run(backend, [v, u], [argtopk(v, 2), argtopk(v, -1), topk(u, 1), topk(v, 3)],
                                          np.array([3.0, 5.0, 5.0, 1.0]), np.array([3, 250, 7], "uint8"))
    np.testing.assert_array_equal(ties, [1, 2])
    np.testing.assert_array_equal(smallest, [3])
    np.testing.assert_array_equal(largest, np.array([250], "uint8"))
    np.testing.assert_array_equal(values, [5.0, 5.0, 3.0])
    with pytest.raises(ValueError, match="kth cannot be zero"):
        topk(v, 0)
    with pytest.raises(ValueError, match="kth cannot be larger"):
        topk(T.tensor(dtype="float64", shape=(3,)), -4)
    with pytest.raises(TypeError, match='"axis" parameter must be integer'):
        topk(v, 1, axis=0.5)
    with pytest.raises(IndexError, match='"axis" parameter out of range'):
        topk(T.dmatrix(), 1, axis=2)
    with pytest.raises(TypeError, match='"idx_dtype" parameter must be an integer dtype'):
        argtopk(v, 1, idx_dtype="float32")


# --- CTC ---------------------------------------------------------------------------------------------
def ctc_ref(activations, labels, input_lengths):
    """-log p(labels | activations), the forward recursion of Graves et al. (2006) in probabilities:
    the states are the label with blanks (class 0) around its symbols; a state is reached from
    itself, the one before, or two before when that skips a blank between different symbols."""
    costs = []
    for b, steps in enumerate(input_lengths):
        z = activations[:steps, b]
        probs = np.exp(z - z.max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        states = [0]
        for symbol in labels[b][labels[b] >= 0]:
            states += [symbol, 0]
        alpha = np.zeros(len(states))
        alpha[:2] = probs[0, states[:2]]
        for t in range(1, steps):
            reached = alpha.copy()
            reached[1:] += alpha[:-1]
            for s in range(2, len(states)):
                if states[s] != 0 and states[s] != states[s - 2]:
                    reached[s] += alpha[s - 2]
            alpha = reached * probs[t, states]
        costs.append(-np.log(alpha[-1] + (alpha[-2] if len(states) > 1 else 0)))
    return np.array(costs)


def test_ctc_against_the_forward_recursion_and_finite_differences(on_backend, rng):
    acts = rng.normal(size=(6, 3, 5))
    labels = np.array([[1, 2, 2], [3, -1, 1], [4, -1, -1]], "int32")       # padding, even between labels
    lengths = np.array([6, 4, 5], "int32")
    a, l, n = T.dtensor3(), T.imatrix(), T.ivector()
    (got,) = run(on_backend, [a, l, n], [ctc(a, l, n)], acts, labels, lengths)
    np.testing.assert_allclose(got, ctc_ref(acts, labels, lengths), rtol=1e-10)
    np.testing.assert_allclose(got[1], ctc_ref(acts[:, 1:2], np.array([[3, 1]]), [4]), rtol=1e-10)
    T.verify_grad(lambda z: T.nnet.ctc.ctc(z, labels, lengths), [acts], n_tests=1, rng=rng)


def test_ctc_of_a_tiny_case_worked_by_hand(backend):
    """Two steps, classes {blank, 1}, label (1): the paths 1 1, blank 1 and 1 blank."""
    acts = np.log(np.array([[[1.0, 3.0]], [[2.0, 2.0]]]))                  # softmax: (.25, .75), (.5, .5)
    a = T.dtensor3()
    (got,) = run(backend, [a], [T.nnet.ctc.ctc(a, np.array([[1]], "int32"), np.array([2], "int32"))], acts)
    np.testing.assert_allclose(got, [-np.log(.75 * .5 + .25 * .5 + .75 * .5)], rtol=1e-12)
    with pytest.raises(ValueError, match="labels must have 2 dimensions"):
        ctc(a, T.ivector(), T.ivector())
    with pytest.raises(TypeError, match="input_lengths must be integers"):
        ctc(a, T.imatrix(), T.dvector())


# --- T.signal.conv.conv2d ----------------------------------------------------------------------------
def test_signal_conv2d_against_scipy_and_finite_differences(on_backend, rng):
    images, filters = rng.normal(size=(3, 6, 7)), rng.normal(size=(2, 3, 2))
    i3, f3, i2, f2 = T.dtensor3(), T.dtensor3(), T.dmatrix(), T.dmatrix()
    conv = T.signal.conv.conv2d
    outputs = [conv(i3, f3), conv(i2, f2, border_mode="full"), conv(i2, f3, subsample=(2, 1)), conv(i3, f2)]
    both, full, strided, one_filter = run(on_backend, [i3, f3, i2, f2], outputs, images, filters, images[0],
                                          filters[1])
    np.testing.assert_allclose(both, [[signal.convolve2d(i, f, "valid") for f in filters] for i in images], atol=1e-12)
    np.testing.assert_allclose(full, signal.convolve2d(images[0], filters[1], "full"), atol=1e-12)
    np.testing.assert_allclose(strided, [signal.convolve2d(images[0], f, "valid")[::2] for f in filters], atol=1e-12)
    np.testing.assert_allclose(one_filter, [signal.convolve2d(i, filters[1], "valid") for i in images], atol=1e-12)
    T.verify_grad(lambda a, b: conv(a, b, border_mode="full"), [images, filters], n_tests=1, rng=rng)  # sizes unknown


# --- T.nnet.blocksparse ------------------------------------------------------------------------------
def block_dot_ref(W, h, inputIdx, b, outputIdx):
    out = b[outputIdx].copy()
    for n, j, i in np.ndindex(outputIdx.shape[0], outputIdx.shape[1], inputIdx.shape[1]):
        out[n, j] += h[n, i] @ W[inputIdx[n, i], outputIdx[n, j]]
    return out


def test_sparse_block_dot_against_loops_and_finite_differences(on_backend, rng):
    Wv, hv, bv = rng.normal(size=(3, 4, 2, 5)), rng.normal(size=(2, 2, 2)), rng.normal(size=(4, 5))
    inputIdx, outputIdx = np.array([[0, 2], [1, 1]]), np.array([[3, 0, 3], [2, 1, 0]])   # blocks read twice
    W, h, b, ii, oi = T.dtensor4(), T.dtensor3(), T.dmatrix(), T.lmatrix(), T.lmatrix()
    xv, yv = rng.normal(size=(2, 2, 2)), rng.normal(size=(2, 3, 5))
    outputs = [blocksparse.sparse_block_dot(W, h, ii, b, oi), blocksparse.sparse_block_dot(W, h[0], ii[0], b, oi[0]),
               blocksparse.sparse_block_outer(W, h, T.constant(yv), ii, oi, 0.5)]
    batched, single, outer = run(on_backend, [W, h, b, ii, oi], outputs, Wv, hv, bv, inputIdx, outputIdx)
    np.testing.assert_allclose(batched, block_dot_ref(Wv, hv, inputIdx, bv, outputIdx), atol=1e-12)
    np.testing.assert_allclose(single, block_dot_ref(Wv, hv[:1], inputIdx[:1], bv, outputIdx[:1]), atol=1e-12)
    expected = Wv.copy()
    for n, i, j in np.ndindex(2, 2, 3):
        expected[inputIdx[n, i], outputIdx[n, j]] += 0.5 * np.outer(hv[n, i], yv[n, j])
    np.testing.assert_allclose(outer, expected, atol=1e-12)
    T.verify_grad(lambda w, v, c: blocksparse.sparse_block_dot(w, v, inputIdx, c, outputIdx), [Wv, xv, bv],
                  n_tests=1, rng=rng)


# --- T.inplace -----------------------------------------------------------------------------------------
THEANO_INPLACE = ("lt gt le ge eq neq and_ or_ xor invert abs_ exp exp2 expm1 neg inv log log1p log2 log10 sgn "
                  "ceil floor trunc round_half_to_even round_half_away_from_zero sqr sqrt deg2rad rad2deg cos "
                  "arccos sin arcsin tan arctan arctan2 cosh arccosh sinh arcsinh tanh arctanh erf erfc erfcx gamma "
                  "gammaln psi chi2sf j0 j1 second maximum minimum add sub mul true_div int_div mod pow conj").split()


def test_inplace_names_are_the_functional_ones(backend):
    for name in THEANO_INPLACE:
        assert getattr(T.inplace, name + "_inplace") is getattr(T, name), name
    assert T.inplace.fill_inplace is T.second and T.inplace.transpose_inplace is T.transpose
    xv, yv = np.array([[0.5, 2.0, -1.0]]), np.array([[1.5, 3.0, 2.0]])
    x, y = T.dmatrix(), T.dmatrix()
    got = run(backend, [x, y], [T.inplace.add_inplace(x, y), T.inplace.exp_inplace(x), T.inplace.pow_inplace(y, x),
                                T.inplace.transpose_inplace(x)], xv, yv)
    for value, expected in zip(got, [xv + yv, np.exp(xv), yv ** xv, xv.T]):
        np.testing.assert_allclose(value, expected, rtol=1e-12)
