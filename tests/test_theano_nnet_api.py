"""Theano 1.0's T.nnet beyond conv2d: conv3d, conv2d_transpose and conv2d's two gradients,
images2neibs/neibs2images, T.nnet.bn, selu, ultra_fast_sigmoid, softmax_graph,
crossentropy_softmax_1hot and sigmoid_binary_crossentropy.  Values against scipy.signal (true
convolutions), loops (neighbours) and numpy (bn) on every backend, a few against Keras 3, and
gradients against central finite differences on every backend."""
import numpy as np
import pytest
import scipy.special
from scipy import signal

import mlcore
import mlcore.tensor as T
from mlcore.tensor.nnet import abstract_conv, bn


def run(backend, inputs, outputs, *values):
    return mlcore.function(inputs, outputs, backend=backend, on_unused_input="ignore")(*values)


def assert_gradients_are_finite_differences(backend, inputs, output, values, rng, numeric_grad):
    """grad of sum(output * fixed random weights) with respect to every input, against central differences."""
    weights = rng.normal(size=run(backend, inputs, output, *values).shape)
    cost = (output * weights).sum()
    cost_at = mlcore.function(inputs, cost, backend=backend)
    for k, got in enumerate(run(backend, inputs, T.grad(cost, inputs), *values)):
        np.testing.assert_allclose(got, numeric_grad(cost_at, values, k), rtol=1e-6, atol=1e-7)


# --- convolutions ----------------------------------------------------------------------------------
def dilate(w, dilation):
    """Filters (out, in, *window) with dilation - 1 zeros between their taps."""
    out = np.zeros(w.shape[:2] + tuple((k - 1) * d + 1 for k, d in zip(w.shape[2:], dilation)))
    out[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)] = w
    return out


def spread(g, subsample):
    """Output maps with subsample - 1 zeros between their pixels."""
    out = np.zeros(g.shape[:2] + tuple((n - 1) * s + 1 for n, s in zip(g.shape[2:], subsample)))
    out[(Ellipsis,) + tuple(slice(None, None, s) for s in subsample)] = g
    return out


def flipped(w):
    return w[(Ellipsis,) + (slice(None, None, -1),) * (w.ndim - 2)]


def conv_ref(x, w, pads, subsample, dilation, flip=True):
    """Theano's conv2d/conv3d: a true convolution (scipy.signal.convolve) of the padded input."""
    x = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in pads))
    w = dilate(w if flip else flipped(w), dilation)
    out = np.array([[sum(signal.convolve(x[n, c], w[o, c], mode="valid") for c in range(x.shape[1]))
                     for o in range(w.shape[0])] for n in range(x.shape[0])])
    return out[(Ellipsis,) + tuple(slice(None, None, s) for s in subsample)]


def grad_inputs_ref(g, w, image, pads, subsample, dilation, flip=True):
    """The adjoint of conv_ref (2-d): each spread output map fully correlated with its filter (convolved,
    when the forward pass correlates), summed over the filters, cropped by the padding."""
    full_mode = signal.correlate if flip else signal.convolve
    g, w = spread(g, subsample), dilate(w, dilation)
    out = np.zeros(g.shape[:1] + w.shape[1:2] + tuple(n + 2 * p for n, p in zip(image, pads)))
    for n in range(g.shape[0]):
        for c in range(w.shape[1]):
            full = sum(full_mode(g[n, o], w[o, c], mode="full") for o in range(w.shape[0]))
            out[n, c, :full.shape[0], :full.shape[1]] = full
    return out[:, :, pads[0]:pads[0] + image[0], pads[1]:pads[1] + image[1]]


def grad_weights_ref(x, g, window, pads, subsample, dilation, flip=True):
    """d conv_ref / d filters (2-d): the padded input correlated with each spread output map,
    read at the filter's (dilated) taps."""
    x, g = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in pads)), spread(g, subsample)
    taps = tuple(slice(0, (k - 1) * d + 1, d) for k, d in zip(window, dilation))
    dw = np.array([[sum(signal.correlate(x[n, c], g[n, o], mode="valid")[taps] for n in range(x.shape[0]))
                    for c in range(x.shape[1])] for o in range(g.shape[1])])
    return flipped(dw) if flip else dw


# border_mode, subsample, filter_dilation, filter_flip, and the padding that border_mode means
# for (2, 3, 2) filters with that dilation
CONV3D_CASES = [("valid", (1, 1, 1), (1, 1, 1), True, (0, 0, 0)),
                ("full", (2, 1, 2), (1, 2, 1), True, (1, 4, 1)),
                ("half", (1, 2, 1), (2, 1, 1), False, (1, 1, 1)),
                (1, (1, 1, 1), (1, 1, 1), True, (1, 1, 1)),
                ((2, 0, 1), (2, 2, 1), (1, 1, 2), False, (2, 0, 1))]


def test_conv3d_is_scipy_convolve(backend, rng):
    x, w = rng.normal(size=(2, 3, 6, 5, 7)), rng.normal(size=(4, 3, 2, 3, 2))
    X, W = T.tensor5(dtype="float64", shape=x.shape), T.tensor5(dtype="float64", shape=w.shape)
    Xu, Wu = T.dtensor5(), T.dtensor5()     # filters of unknown shape: their depth taps are one gather
    outputs = [T.nnet.conv3d(X, W, border_mode=b, subsample=s, filter_flip=f, filter_dilation=d)
               for b, s, d, f, _ in CONV3D_CASES]
    outputs += [T.nnet.conv3d(Xu, Wu), T.nnet.conv3d(Xu, Wu, border_mode=(2, 0, 1), subsample=(2, 2, 1),
                                                     filter_flip=False, filter_dilation=(1, 1, 2))]
    got = run(backend, [X, W, Xu, Wu], outputs, x, w, x, w)
    for (border_mode, subsample, dilation, flip, pads), out, value in zip(CONV3D_CASES, outputs, got):
        expected = conv_ref(x, w, pads, subsample, dilation, flip)
        assert out.type.shape == expected.shape, border_mode
        np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[-2], got[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[-1], got[4], rtol=1e-12, atol=1e-12)


def test_conv3d_without_flip_is_keras_conv(keras, rng):
    x, w = rng.normal(size=(2, 3, 5, 6, 4)).astype("float32"), rng.normal(size=(4, 3, 2, 3, 2)).astype("float32")
    X, W = T.ftensor5(), T.ftensor5()
    got = run("numpy", [X, W], T.nnet.conv3d(X, W, subsample=(1, 2, 1), filter_flip=False), x, w)
    expected = keras.ops.conv(x, w.transpose(2, 3, 4, 1, 0), strides=(1, 2, 1), data_format="channels_first")
    np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-5, atol=1e-5)


def test_conv3d_gradients_are_finite_differences(backend, rng, numeric_grad):
    x, w = rng.normal(size=(1, 2, 4, 4, 3)), rng.normal(size=(2, 2, 2, 2, 2))
    X, W = T.dtensor5(), T.dtensor5()
    out = T.nnet.conv3d(X, W, filter_shape=w.shape, border_mode="half", subsample=(2, 1, 1), filter_dilation=(1, 1, 2))
    assert_gradients_are_finite_differences(backend, [X, W], out, [x, w], rng, numeric_grad)
    gathered = T.nnet.conv3d(X, W, border_mode=(1, 0, 0), filter_flip=False)
    assert_gradients_are_finite_differences(backend, [X, W], gathered, [x, w], rng, numeric_grad)


# border_mode, subsample, filter_dilation, filter_flip, and the padding border_mode means for
# (3, 2) filters with that dilation
CONV2D_CASES = [("valid", (2, 3), (1, 1), True, (0, 0)),
                ("full", (1, 2), (2, 1), False, (4, 1)),
                ("half", (3, 2), (1, 2), True, (1, 1)),
                (2, (2, 2), (1, 1), False, (2, 2)),
                ((3, 1), (1, 1), (1, 1), True, (3, 1))]


@pytest.mark.parametrize("border_mode, subsample, dilation, flip, pads", CONV2D_CASES,
                         ids=[str(case[0]) for case in CONV2D_CASES])
def test_conv2d_gradient_helpers_are_conv2d_gradients_and_scipy(border_mode, subsample, dilation, flip, pads,
                                                                backend, rng):
    x, w = rng.normal(size=(2, 3, 9, 8)), rng.normal(size=(4, 3, 3, 2))
    X, W, G = T.dtensor4(), T.dtensor4(), T.dtensor4()
    kwargs = dict(border_mode=border_mode, subsample=subsample, filter_flip=flip, filter_dilation=dilation)
    y = T.nnet.conv2d(X, W, filter_shape=w.shape, **kwargs)
    g = rng.normal(size=conv_ref(x, w, pads, subsample, dilation, flip).shape)
    wrt_inputs = abstract_conv.conv2d_grad_wrt_inputs(G, W, x.shape, w.shape, **kwargs)
    wrt_weights = abstract_conv.conv2d_grad_wrt_weights(X, G, w.shape, x.shape, **kwargs)
    transpose = T.nnet.conv2d_transpose(G, W, x.shape, w.shape, border_mode, subsample, flip, dilation)
    got = run(backend, [X, W, G], [wrt_inputs, wrt_weights, transpose] + T.grad((y * G).sum(), [X, W]), x, w, g)
    gx, gw = got[3:]
    np.testing.assert_allclose(got[0], gx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[1], gw, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got[2], got[0])
    np.testing.assert_allclose(gx, grad_inputs_ref(g, w, x.shape[2:], pads, subsample, dilation, flip), atol=1e-12)
    np.testing.assert_allclose(gw, grad_weights_ref(x, g, w.shape[2:], pads, subsample, dilation, flip), atol=1e-12)


def test_conv2d_transpose_static_shape_and_gradients(backend, rng, numeric_grad):
    """A DCGAN-style upsampling: (N, 3, 4, 5) to (N, 2, 9, 11) with stride 2; trained through both inputs."""
    g, w = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(3, 2, 3, 3))
    G, W = T.tensor4(dtype="float64", shape=g.shape), T.tensor4(dtype="float64", shape=w.shape)
    out = T.nnet.conv2d_transpose(G, W, output_shape=(None, 2, 9, 11), input_dilation=(2, 2))
    assert out.type.shape == (2, 2, 9, 11)
    assert_gradients_are_finite_differences(backend, [G, W], out, [g, w], rng, numeric_grad)


def test_conv_helpers_name_themselves_and_the_shapes():
    with pytest.raises(ValueError, match=r"conv3d needs 5-d input"):
        T.nnet.conv3d(T.dtensor4(), T.dtensor5())
    with pytest.raises(ValueError, match=r"conv3d: input .* has 3 channels but filters .* expect 2"):
        T.nnet.conv3d(T.tensor5(dtype="float64", shape=(1, 3, 4, 4, 4)), T.tensor5(dtype="float64",
                                                                                   shape=(2, 2, 1, 1, 1)))
    with pytest.raises(ValueError, match=r"conv3d: border_mode must be .* 3 ints, got \(1, 1\)"):
        T.nnet.conv3d(T.dtensor5(), T.dtensor5(), border_mode=(1, 1))
    with pytest.raises(ValueError, match=r"conv2d_grad_wrt_inputs: with subsample > 1 the image size must be known"):
        abstract_conv.conv2d_grad_wrt_inputs(T.dtensor4(), T.dtensor4(), (2, 3, None, 8), (4, 3, 3, 3),
                                             subsample=(2, 2))
    with pytest.raises(ValueError, match=r"conv2d_grad_wrt_weights: with subsample > 1 the image size"):
        abstract_conv.conv2d_grad_wrt_weights(T.dtensor4(), T.dtensor4(), (4, 3, 3, 3), subsample=(2, 1))
    with pytest.raises(ValueError, match=r"conv2d_grad_wrt_inputs needs 4-d filters"):
        abstract_conv.conv2d_grad_wrt_inputs(T.dtensor4(), T.dmatrix(), (2, 3, 8, 8))
    assert abstract_conv.get_conv_output_shape((2, 3, 6, 5, 7), (4, 3, 2, 3, 2), "full", (2, 1, 2),
                                               (1, 2, 1)) == (2, 4, 4, 9, 4)


# --- neighbours -------------------------------------------------------------------------------------
def neibs_ref(x, neib_shape, neib_step, mode):
    """Theano's Images2Neibs, one pixel at a time: row (n, c, a, b) holds window (a, b), zeros
    outside the image for 'half' and 'full', wrapped around for 'wrap_centered'."""
    (rows, cols), (sr, sc) = neib_shape, neib_step
    height, width = x.shape[2:]
    if mode == "wrap_centered":
        grid, offset = (-(-height // sr), -(-width // sc)), (-(rows // 2), -(cols // 2))
    else:
        offset = {"valid": (0, 0), "ignore_borders": (0, 0), "half": (-(rows // 2), -(cols // 2)),
                  "full": (1 - rows, 1 - cols)}[mode]
        grid = ((height - 2 * offset[0] - rows) // sr + 1, (width - 2 * offset[1] - cols) // sc + 1)

    def pixel(n, c, i, j):
        if mode == "wrap_centered":
            return x[n, c, i % height, j % width]
        return x[n, c, i, j] if 0 <= i < height and 0 <= j < width else 0.0
    return np.array([[pixel(n, c, a * sr + i + offset[0], b * sc + j + offset[1])
                      for i in range(rows) for j in range(cols)]
                     for n in range(x.shape[0]) for c in range(x.shape[1])
                     for a in range(grid[0]) for b in range(grid[1])])


NEIBS_CASES = [((2, 3, 6, 4), (2, 2), None, "valid"),
               ((2, 3, 6, 4), (3, 2), (1, 2), "valid"),
               ((2, 3, 7, 6), (4, 3), (2, 2), "ignore_borders"),
               ((1, 2, 5, 5), (3, 3), (1, 2), "half"),
               ((1, 2, 5, 5), (2, 3), (1, 2), "full"),
               ((1, 2, 5, 6), (3, 3), (2, 2), "wrap_centered")]


def test_images2neibs_matches_a_loop_over_windows(backend, rng):
    values, inputs, outputs, expected = [], [], [], []
    for shape, neib_shape, neib_step, mode in NEIBS_CASES:
        x = rng.normal(size=shape)
        for X in (T.tensor4(dtype="float64", shape=shape), T.dtensor4()):    # static and run-time shapes
            inputs.append(X)
            values.append(x)
            outputs.append(T.nnet.images2neibs(X, neib_shape, neib_step, mode))
            expected.append(neibs_ref(x, neib_shape, neib_step or neib_shape, mode))
    for X, out, value, ref in zip(inputs, outputs, run(backend, inputs, outputs, *values), expected):
        np.testing.assert_array_equal(value, ref)
        assert out.type.shape == (ref.shape if X.type.shape[0] else (None, ref.shape[1]))


def test_neibs2images_puts_disjoint_windows_back(backend, rng):
    x = rng.normal(size=(2, 3, 7, 8))
    X = T.dtensor4()
    valid = T.nnet.neighbours.neibs2images(T.nnet.images2neibs(X[:, :, :6], (3, 2)), (3, 2), (2, 3, 6, 8))
    neibs = T.nnet.images2neibs(X, (2, 3), mode="ignore_borders")
    back = T.nnet.neibs2images(neibs, (2, 3), X.shape, mode="ignore_borders")
    got_valid, got_back = run(backend, [X], [valid, back], x)
    np.testing.assert_array_equal(got_valid, x[:, :, :6])
    expected = np.zeros_like(x)
    expected[:, :, :6, :6] = x[:, :, :6, :6]
    np.testing.assert_array_equal(got_back, expected)


def test_neighbours_gradients_are_finite_differences(backend, rng, numeric_grad):
    X, N = T.dtensor4(), T.dmatrix()
    overlapping = T.nnet.images2neibs(X, (3, 2), (1, 2), mode="half")
    assert_gradients_are_finite_differences(backend, [X], overlapping, [rng.normal(size=(1, 2, 5, 4))], rng,
                                            numeric_grad)
    wrapped = T.nnet.images2neibs(X, (3, 1), (2, 1), mode="wrap_centered")
    assert_gradients_are_finite_differences(backend, [X], wrapped, [rng.normal(size=(1, 1, 5, 3))], rng,
                                            numeric_grad)
    images = T.nnet.neibs2images(N, (2, 2), (1, 2, 5, 4), mode="ignore_borders")
    assert_gradients_are_finite_differences(backend, [N], images, [rng.normal(size=(8, 4))], rng, numeric_grad)


def test_neighbours_refuse_bad_arguments():
    with pytest.raises(ValueError, match=r"images2neibs\(mode='valid'\): neib_shape\[0\]=3, neib_step\[0\]=3 and "
                                         r"ten4.shape\[2\]=7 are not consistent"):
        T.nnet.images2neibs(T.tensor4(dtype="float64", shape=(1, 1, 7, 6)), (3, 3))
    with pytest.raises(ValueError, match=r"images2neibs\(mode='wrap_centered'\) needs odd neib_shape"):
        T.nnet.images2neibs(T.dtensor4(), (2, 3), mode="wrap_centered")
    with pytest.raises(ValueError, match=r"neib_shape\[1\]=5 is larger than ten4.shape\[3\]=4"):
        T.nnet.images2neibs(T.tensor4(dtype="float64", shape=(1, 1, 6, 4)), (2, 5), mode="ignore_borders")
    with pytest.raises(ValueError, match=r"images2neibs needs a 4-d ten4"):
        T.nnet.images2neibs(T.dmatrix(), (2, 2))
    with pytest.raises(ValueError, match=r"images2neibs: mode must be one of"):
        T.nnet.images2neibs(T.dtensor4(), (2, 2), mode="same")
    with pytest.raises(NotImplementedError, match=r"neibs2images does not support mode='half'"):
        T.nnet.neibs2images(T.dmatrix(), (2, 2), (1, 1, 4, 4), mode="half")
    with pytest.raises(ValueError, match=r"neibs2images\(mode='valid'\): original_shape \(1, 1, 5, 4\) has 5 rows"):
        T.nnet.neibs2images(T.dmatrix(), (2, 2), (1, 1, 5, 4))


# --- batch normalization -----------------------------------------------------------------------------
def test_batch_normalization_modes_are_numpy(backend, rng):
    x, gamma, beta, mean = rng.normal(size=(4, 5)), rng.normal(size=5), rng.normal(size=5), rng.normal(size=5)
    std = rng.uniform(0.5, 2, size=5)
    X, G, B, M, S = T.dmatrix(), T.dvector(), T.dvector(), T.dvector(), T.dvector()
    got = run(backend, [X, G, B, M, S], [bn.batch_normalization(X, G, B, M, S, mode=mode)
                                         for mode in ("low_mem", "high_mem")], x, gamma, beta, mean, std)
    for value in got:
        np.testing.assert_allclose(value, (x - mean) / std * gamma + beta, rtol=1e-12)
    with pytest.raises(ValueError, match=r'batch_normalization: mode must be either "low_mem", "high_mem"'):
        bn.batch_normalization(X, G, B, M, S, mode="fast")


# input shape, axes, gamma's shape (its layout), and the numpy axes they mean
BN_CASES = [((6, 5), "per-activation", (5,), (0,)),
            ((4, 3, 2, 5), "spatial", (3,), (0, 2, 3)),
            ((4, 3, 5), (0, 2), (1, 3, 1), (0, 2)),
            ((3, 4, 2), [1, 0], (2,), (0, 1))]


@pytest.mark.parametrize("shape, axes, param_shape, np_axes", BN_CASES, ids=[str(c[1]) for c in BN_CASES])
def test_batch_normalization_train_and_test_are_numpy(shape, axes, param_shape, np_axes, backend, rng):
    x = rng.normal(2, 3, size=shape)
    gamma, beta, running_mean = (rng.normal(size=param_shape) for _ in range(3))
    running_var = rng.uniform(0.5, 2, size=param_shape)
    X, G, B, RM, RV = (T.TensorType("float64", (None,) * v.ndim)() for v in (x, gamma, beta, running_mean,
                                                                           running_var))
    train = bn.batch_normalization_train(X, G, B, axes, 1e-3, 0.3, RM, RV)
    test = bn.batch_normalization_test(X, G, B, RM, RV, axes, 1e-3)
    out, mean, invstd, new_mean, new_var, tested = run(backend, [X, G, B, RM, RV], list(train) + [test], x, gamma,
                                                       beta, running_mean, running_var)
    x_mean, x_var = x.mean(np_axes, keepdims=True), x.var(np_axes, keepdims=True)
    kept = [d for d in range(x.ndim) if d not in np_axes]
    layout = (lambda s: s) if len(param_shape) == x.ndim else (lambda s: s.reshape([x.shape[d] for d in kept]))
    spread = (lambda p: p) if len(param_shape) == x.ndim else (lambda p: p.reshape(x_mean.shape))
    np.testing.assert_allclose(out, (x - x_mean) * spread(gamma) / np.sqrt(x_var + 1e-3) + spread(beta), rtol=1e-10)
    np.testing.assert_allclose(mean, layout(x_mean), rtol=1e-12)
    np.testing.assert_allclose(invstd, layout(1 / np.sqrt(x_var + 1e-3)), rtol=1e-12)
    m = x.size // x_mean.size
    np.testing.assert_allclose(new_mean, running_mean * 0.7 + layout(x_mean) * 0.3, rtol=1e-12)
    np.testing.assert_allclose(new_var, running_var * 0.7 + layout(x_var) * m / (m - 1) * 0.3, rtol=1e-12)
    np.testing.assert_allclose(tested, (x - spread(running_mean)) * spread(gamma) / np.sqrt(spread(running_var)
                                                                                            + 1e-3) + spread(beta),
                               rtol=1e-10)


def test_batch_normalization_test_is_keras_batch_normalization(keras, rng):
    x, gamma, beta, mean = (rng.normal(size=s).astype("float32") for s in ((4, 3, 5, 2), 3, 3, 3))
    var = rng.uniform(0.5, 2, size=3).astype("float32")
    X, G, B, M, V = T.ftensor4(), T.fvector(), T.fvector(), T.fvector(), T.fvector()
    got = run("numpy", [X, G, B, M, V], bn.batch_normalization_test(X, G, B, M, V, "spatial", 1e-3),
              x, gamma, beta, mean, var)
    expected = keras.ops.batch_normalization(x, mean, var, axis=1, offset=beta, scale=gamma, epsilon=1e-3)
    np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-5, atol=1e-5)


def test_batch_normalization_train_gradients_are_finite_differences(backend, rng, numeric_grad):
    X, G, B = T.dtensor4(), T.dvector(), T.dvector()
    out, mean, invstd = bn.batch_normalization_train(X, G, B, "spatial")
    values = [rng.normal(size=(3, 2, 2, 2)), rng.normal(size=2), rng.normal(size=2)]
    assert_gradients_are_finite_differences(backend, [X, G, B], out + mean.sum() + invstd.sum(), values, rng,
                                            numeric_grad)


def test_batch_normalization_refuses_bad_layouts():
    X, v, m = T.dtensor4(), T.dvector(), T.dmatrix()
    with pytest.raises(ValueError, match=r"batch_normalization_train: beta .* must have 1 dims, as gamma"):
        bn.batch_normalization_train(X, v, m, "spatial")
    with pytest.raises(ValueError, match=r"batch_normalization_test: mean .* must have 4 dims"):
        bn.batch_normalization_test(X, T.dtensor4(), T.dtensor4(), v, T.dtensor4())
    with pytest.raises(ValueError, match=r"running_mean and running_var must either both be given"):
        bn.batch_normalization_train(X, v, v, "spatial", running_mean=v)
    with pytest.raises(ValueError, match=r"axes \(0, 4\) must be at least one of the 4-d inputs' axes"):
        bn.batch_normalization_train(X, v, v, (0, 4))
    with pytest.raises(ValueError, match=r"axes must be 'per-activation', 'spatial' or a tuple"):
        bn.batch_normalization_test(X, v, v, v, v, "channel")
    with pytest.raises(ValueError, match=r"epsilon must be at least 1e-5"):
        bn.batch_normalization_test(X, v, v, v, v, "spatial", epsilon=1e-6)


# --- the small ones ----------------------------------------------------------------------------------
def ultra_fast_sigmoid_ref(x):
    """Theano's UltraFastScalarSigmoid, one number at a time."""
    def one(v):
        u = abs(0.5 * v)
        t = 1.5 * u / (1 + u) if u < 1.7 else 0.935409070603099 + 0.0458812946797165 * (u - 1.7) if u < 3 \
            else 0.99505475368673
        return 0.5 * (np.copysign(t, v) + 1)
    return np.vectorize(one)(x)


def test_activations_and_crossentropies_are_numpy(backend, rng):
    x = np.concatenate([np.linspace(-9, 9, 37), [-3.4, 3.4, -6.0, 6.0, 0.0]]).reshape(6, 7)
    labels = rng.integers(0, 7, size=6)
    b = rng.normal(size=7)
    X, Y, B = T.dmatrix(), T.lvector(), T.dvector()
    nll, sm = T.nnet.crossentropy_softmax_1hot(X, Y)
    nll_b, sm_b = T.nnet.nnet.crossentropy_softmax_1hot_with_bias(X, B, Y)
    outputs = [T.nnet.selu(X), T.nnet.ultra_fast_sigmoid(X), T.nnet.softmax_graph(X), nll, sm, nll_b, sm_b,
               T.nnet.sigmoid_binary_crossentropy(X * 100, T.nnet.sigmoid(X))]
    got = run(backend, [X, Y, B], outputs, x, labels, b)
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    np.testing.assert_allclose(got[0], scale * np.where(x > 0, x, alpha * np.expm1(x)), rtol=1e-14)
    np.testing.assert_allclose(got[1], ultra_fast_sigmoid_ref(x), rtol=1e-14)
    assert np.abs(got[1] - scipy.special.expit(x)).max() < 0.028
    softmax = scipy.special.softmax(x, axis=-1)
    np.testing.assert_allclose(got[2], softmax, rtol=1e-14)
    np.testing.assert_allclose(got[3], -np.log(softmax[np.arange(6), labels]), rtol=1e-12)
    np.testing.assert_allclose(got[4], softmax, rtol=1e-14)
    np.testing.assert_allclose(got[5], -scipy.special.log_softmax(x + b, axis=-1)[np.arange(6), labels], rtol=1e-12)
    np.testing.assert_allclose(got[6], scipy.special.softmax(x + b, axis=-1), rtol=1e-14)
    t = scipy.special.expit(x)     # logits of +-900: still finite, as Theano's formula is
    np.testing.assert_allclose(got[7], np.logaddexp(0, 100 * x) - 100 * x * t, rtol=1e-12)


def test_small_functions_gradients_are_finite_differences(backend, rng, numeric_grad):
    X, Y = T.dmatrix(), T.dmatrix()
    x = rng.uniform(-8, 8, size=(4, 6))
    x = np.where(np.min([abs(abs(x) - k) for k in (3.4, 6.0)], axis=0) < 0.1, 1.0, x)   # off the kinks
    y = rng.uniform(0, 1, size=(4, 6))
    for output in (T.nnet.selu(X) + 0 * Y, T.nnet.ultra_fast_sigmoid(X) + 0 * Y, T.nnet.softmax_graph(X) + 0 * Y,
                   T.nnet.sigmoid_binary_crossentropy(X, Y)):
        assert_gradients_are_finite_differences(backend, [X, Y], output, [x, y], rng, numeric_grad)
    big = np.array([[-800.0, 800.0]])
    gx, gy = run(backend, [X, Y], T.grad(T.nnet.sigmoid_binary_crossentropy(X, Y).sum(), [X, Y]), big,
                 np.array([[0.25, 0.75]]))
    np.testing.assert_allclose(gx, [[-0.25, 0.25]])       # sigmoid(output) - target, as Theano's override
    np.testing.assert_allclose(gy, -big)


def test_selu_and_logit_crossentropy_are_keras(keras, rng):
    x, t = rng.normal(0, 4, size=(5, 3)).astype("float32"), rng.uniform(size=(5, 3)).astype("float32")
    X, Y = T.fmatrix(), T.fmatrix()
    selu, bce = run("numpy", [X, Y], [T.nnet.selu(X), T.nnet.sigmoid_binary_crossentropy(X, Y)], x, t)
    np.testing.assert_allclose(selu, np.asarray(keras.activations.selu(x)), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(bce, np.asarray(keras.ops.binary_crossentropy(t, x, from_logits=True)), rtol=1e-5,
                               atol=1e-6)


def test_theano_module_paths():
    assert T.nnet.nnet.softmax is T.nnet.softmax and T.nnet.nnet.selu is T.nnet.selu
    assert T.nnet.sigm.ultra_fast_sigmoid is T.nnet.ultra_fast_sigmoid and T.nnet.sigm.sigmoid is T.nnet.sigmoid
    assert T.nnet.neighbours.images2neibs is T.nnet.images2neibs
    assert T.nnet.abstract_conv.conv3d is T.nnet.conv3d and T.nnet.abstract_conv.conv2d is T.nnet.conv2d
    assert T.nnet.bn.batch_normalization_train is bn.batch_normalization_train


def test_conv2d_num_groups_against_scipy_and_finite_differences(backend, rng, numeric_grad):
    x, w = T.dtensor4("x"), T.dtensor4("w")
    xv, wv = rng.normal(size=(2, 4, 5, 6)), rng.normal(size=(6, 2, 3, 2))
    half = T.nnet.conv2d(x, w, num_groups=2, border_mode="half", filter_shape=(6, 2, 3, 2))
    (got,) = run(backend, [x, w], [half], xv, wv)
    padded = np.pad(xv, [(0, 0), (0, 0), (1, 1), (1, 1)])
    expected = [[sum(signal.convolve2d(padded[n, (o // 3) * 2 + c], wv[o, c], "valid") for c in range(2))
                 for o in range(6)] for n in range(2)]
    np.testing.assert_allclose(got, np.array(expected)[:, :, :, :got.shape[3]], rtol=1e-10, atol=1e-10)
    assert_gradients_are_finite_differences(backend, [x, w], T.nnet.conv2d(x, w, num_groups=2), [xv, wv], rng,
                                            numeric_grad)
    with pytest.raises(ValueError, match="unshared=True.*6-d filters"):      # unshared filters are 6-d
        T.nnet.conv2d(x, w, unshared=True)


def test_conv2d_of_float64_images_and_float32_filters(backend):
    """Conv2D's result has the wider dtype; the jax backend casts both operands to it (lax takes one)."""
    x, w = T.tensor4("x", dtype="float64"), T.tensor4("w", dtype="float32")
    xv, wv = np.arange(16.0).reshape(1, 1, 4, 4) / 7, np.array([[[[0.5, -1.0], [2.0, 0.25]]]], dtype="float32")
    (got,) = run(backend, [x, w], [T.nnet.conv2d(x, w)], xv, wv)
    expected = signal.convolve2d(xv[0, 0], wv[0, 0].astype("float64"), "valid")
    assert got.dtype == np.float64
    np.testing.assert_allclose(got[0, 0], expected, rtol=1e-12)


def test_softmax_and_logsoftmax_of_a_vector_are_one_row(backend):
    """Theano's Softmax takes a vector as a 1 x n row (rnnslu.py indexes s[:, 0, :] of a scan of them)."""
    v = T.dvector("v")
    values = np.array([1.0, 2.0, 0.5])
    probabilities, logs = run(backend, [v], [T.nnet.softmax(v), T.nnet.logsoftmax(v)], values)
    expected = np.exp(values) / np.exp(values).sum()
    assert probabilities.shape == logs.shape == (1, 3)
    np.testing.assert_allclose(probabilities[0], expected, rtol=1e-12)
    np.testing.assert_allclose(logs[0], np.log(expected), rtol=1e-12)
    x = T.dmatrix("x")
    rows, _ = mlcore.scan(lambda row: T.nnet.softmax(row), sequences=[x])
    assert rows[:, 0, :].ndim == 2 and T.nnet.softmax(x).ndim == 2
