"""What Theano 1.0's own tests of theano.tensor.nnet and theano.tensor.signal.pool check through the
public API, in our own words: the op classes Theano code instantiates, the labels the crossentropy
ops refuse, the convolution shape arithmetic and shape checks, conv3d's gradients, empty
convolutions, the Pool op classes and the stabilized softplus.  Values against numpy loops, scipy
and T.grad, on every backend."""
import numpy as np
import pytest
import scipy.special

import mlcore
import mlcore.tensor as T
from mlcore import config
from mlcore.tensor import nnet
from mlcore.tensor.nnet import abstract_conv as conv
from mlcore.tensor.signal import pool

# A check that runs on the host raises its own error on numpy and theano; inside a jax jit the
# host callback's error reaches the caller as jax's runtime error, with the same message.
HOST_CHECK_ERRORS = (AssertionError, ValueError, RuntimeError)


def run(backend, inputs, outputs, *values):
    return mlcore.function(inputs, outputs, backend=backend, on_unused_input="ignore")(*values)


def floats(rng, *shape):
    return rng.random(shape).astype("float32")


# --- nnet: the op classes, the labels ------------------------------------------------------------
def test_op_classes_build_their_functions_graphs(backend, rng):
    x, b, dy, y = T.matrix(), T.vector(), T.vector(), T.lvector()
    xv, bv, dyv, yv = floats(rng, 3, 5), floats(rng, 5), floats(rng, 3), np.array([0, 4, 2])
    sm = scipy.special.softmax(xv + bv, axis=1)
    got = run(backend, [x, b, dy, y],
              [nnet.SoftmaxWithBias()(x, b), nnet.SoftmaxGrad()(dy.dimshuffle(0, "x") * x, x),
               *nnet.CrossentropySoftmaxArgmax1HotWithBias()(x, b, y),
               nnet.CrossentropySoftmax1HotWithBiasDx()(dy, x, y),
               nnet.CrossentropyCategorical1Hot()(x, y), nnet.CrossentropyCategorical1HotGrad()(dy, x, y)],
              xv, bv, dyv, yv)
    rows = np.arange(3)
    one_hot = np.eye(5)[yv]
    g = dyv[:, None] * xv
    expected = [sm, (g - (g * xv).sum(1, keepdims=True)) * xv, -np.log(sm[rows, yv]), sm, (xv + bv).argmax(1),
                dyv[:, None] * (xv - one_hot), -np.log(xv[rows, yv]), -one_hot * (dyv / xv[rows, yv])[:, None]]
    for value, want in zip(got, expected):
        np.testing.assert_allclose(value, want, rtol=1e-5, atol=1e-6)
    assert nnet.SoftmaxWithBias() == nnet.SoftmaxWithBias()


def test_prepend_op_classes(backend):
    x = T.matrix()
    m = np.ones((3, 5), "float32")
    with_four, with_five = run(backend, [x], [nnet.Prepend_scalar_constant_to_each_row(4.)(x),
                                              nnet.Prepend_scalar_to_each_row()(5., x)], m)
    assert with_four.shape == with_five.shape == (3, 6)
    assert (with_four[:, 0] == 4).all() and (with_five[:, 0] == 5).all() and (with_five[:, 1:] == 1).all()


@pytest.mark.parametrize("label", [-1, 5])
def test_crossentropy_ops_refuse_labels_out_of_range(backend, rng, label):
    x, b, dy, y = T.matrix(), T.vector(), T.vector(), T.lvector()
    labels = np.array([0, label, 1])
    argmax_op = mlcore.function([x, b, y], nnet.CrossentropySoftmaxArgmax1HotWithBias()(x, b, y), backend=backend)
    with pytest.raises(HOST_CHECK_ERRORS, match="y_idx"):
        argmax_op(floats(rng, 3, 5), floats(rng, 5), labels)
    dx_op = mlcore.function([dy, x, y], nnet.crossentropy_softmax_1hot_with_bias_dx(dy, x, y), backend=backend)
    with pytest.raises(HOST_CHECK_ERRORS, match="y_idx"):
        dx_op(floats(rng, 3), floats(rng, 3, 5), labels)


def test_crossentropy_softmax_1hot_of_a_padded_vector_and_its_gradient(backend, rng, numeric_grad):
    a, y = T.dvector(), [3]
    cost = nnet.crossentropy_softmax_1hot(T.shape_padleft(a), y)[0].sum()
    av = rng.random(4)
    f = mlcore.function([a], cost, backend=backend)
    np.testing.assert_allclose(f(av), -np.log(scipy.special.softmax(av)[3]), rtol=1e-5)
    got = run(backend, [a], T.grad(cost, a), av)
    np.testing.assert_allclose(got, numeric_grad(f, [av], 0), rtol=1e-4, atol=1e-6)


def test_crossentropy_of_huge_logits_stays_finite(backend):
    """Theano's test_asymptotic_32: descending, the cost reaches 0; ascending, it grows past 6e7
    with gradients exactly -1 and 1/4, never inf or nan."""
    x, x2, y = T.matrix(), T.vector(), T.lvector()
    c = nnet.categorical_crossentropy(nnet.softmax(x + x2), y)
    f = mlcore.function([x, y, x2], [c.sum(), T.grad(c.sum(), x)], backend=backend)
    labels, zeros = np.arange(5), np.zeros(5, "float32")
    for step, check in ((-100.3, lambda cost, g: cost == 0), (100000.3, lambda cost, g: cost > 61750000)):
        xv = np.zeros((5, 5), "float32")
        for _ in range(100):
            cost, g = f(xv, labels, zeros)
            xv += step * g
        assert check(cost, g)
    assert g[0, 0] == -1 and g[0, 1] == 0.25


def test_rectifiers_and_sigmoids_against_numpy(backend, rng):
    x, alpha = T.matrix(), T.vector()
    xv, av = rng.normal(size=(4, 6)).astype("float32"), rng.normal(size=6).astype("float32")
    outs = run(backend, [x, alpha], [nnet.relu(x, alpha), nnet.relu(x, -2), nnet.elu(x, -1.5), nnet.selu(x),
                                     nnet.ultra_fast_sigmoid(x), nnet.hard_sigmoid(x), nnet.softsign(x)], xv, av)
    scale, a = 1.0507009873554805, 1.6732632423543772
    expected = [np.where(xv > 0, xv, av * xv), np.where(xv > 0, xv, -2 * xv), np.where(xv > 0, xv, -1.5 * np.expm1(xv)),
                np.where(xv > 0, scale * xv, scale * a * np.expm1(xv))]
    for value, want in zip(outs, expected):
        np.testing.assert_allclose(value, want, rtol=1e-5, atol=1e-6)
    sig = scipy.special.expit(xv)
    assert np.abs(outs[4] - sig).max() < 5e-2 and np.abs(outs[5] - sig).max() < 1e-1    # Theano's tolerances
    np.testing.assert_allclose(outs[6], xv / (1 + np.abs(xv)), rtol=1e-6)
    assert nnet.relu(T.fmatrix(), np.float32(.123)).dtype == "float32"


def test_softplus_forms_stay_finite_for_large_inputs(backend):
    x, lr = T.matrix(), T.scalar()
    xv = np.array([[-100, 0, 100]], "float32")
    log1pexp, logsig, log1msig = run(backend, [x], [T.log(1 + T.exp(x)), T.log(nnet.sigmoid(x)),
                                                    T.log(1 - nnet.sigmoid(x))], xv)
    np.testing.assert_allclose(log1pexp, [[0, np.log(2), 100]], atol=1e-6)
    np.testing.assert_allclose(logsig, [[-100, -np.log(2), 0]], atol=1e-6)
    np.testing.assert_allclose(log1msig, [[0, -np.log(2), -100]], atol=1e-6)
    step = x - lr * T.grad(T.log(1 - nnet.sigmoid(x)).mean(), x)
    assert np.isfinite(run(backend, [x, lr], step, [[50]], 0.1)).all()


# --- convolution shapes ----------------------------------------------------------------------------
def test_conv_output_shapes_of_theano_examples():
    for image, kernel, sub, dil, expected in (
            ((3, 2, 12, 9), (4, 2, 5, 6), (1, 2), (2, 1),
             {"valid": (3, 4, 4, 2), "half": (3, 4, 12, 5), "full": (3, 4, 20, 7), (1, 2): (3, 4, 6, 4)}),
            ((3, 2, 12, 9, 7), (4, 2, 5, 6, 4), (1, 2, 1), (2, 1, 1),
             {"valid": (3, 4, 4, 2, 4), "half": (3, 4, 12, 5, 8), "full": (3, 4, 20, 7, 10),
              (1, 2, 3): (3, 4, 6, 4, 10)})):
        for border_mode, shape in expected.items():
            assert conv.get_conv_output_shape(image, kernel, border_mode, sub, dil) == shape
    assert conv.get_conv_shape_1axis(None, 3, "valid", 1) is None


@pytest.mark.parametrize("border_mode", ["valid", "half", "full", (0, 2)])
def test_gradient_shapes_invert_the_output_shape(border_mode):
    for i in range(1, 12, 2):
        for k in range(1, 8, 2):
            for d in (1, 2):
                image, kernel = (5, 6, i, i), (7, 6, k, k)
                out = conv.get_conv_output_shape(image, kernel, border_mode, (1, 1), (d, d))
                assert conv.get_conv_gradinputs_shape(kernel, out, border_mode, (1, 1), (d, d)) == image
                assert conv.get_conv_gradinputs_shape(kernel, out, border_mode, (2, 3), (d, d)) == (5, 6, None, None)
                weights = conv.get_conv_gradweights_shape(image, out, border_mode, (1, 1), (d, d))
                assert weights == ((7, 6, None, None) if border_mode == "half" else kernel)
                for s in (1, 2, 3):
                    strided = conv.get_conv_output_shape(image, kernel, border_mode, (s, s), (d, d))
                    check = lambda shape: conv.check_conv_gradinputs_shape(image, kernel, shape, border_mode,  # noqa
                                                                          (s, s), (d, d))
                    assert check(strided) and check((None, None, strided[2], None))
                    assert not check((1, 1) + strided[2:])
                    assert not any(check(strided[:2] + (strided[2] + o, strided[3] + o)) for o in (-2, -1, 1, 2))


def test_assert_conv_shape_and_assert_shape(backend):
    sizes = [T.iscalar() for _ in range(4)]
    f = mlcore.function(sizes, conv.assert_conv_shape(sizes), backend=backend)
    assert [int(v) for v in f(0, 0, 1, 1)] == [0, 0, 1, 1]
    for bad in ((3, 3, 3, 0), (3, 3, -1, 3), (3, -1, 3, 3)):
        with pytest.raises(HOST_CHECK_ERRORS, match="assert_conv_shape"):
            f(*bad)
    with pytest.raises(ValueError, match="dim 2"):
        conv.assert_conv_shape((1, 1, 0, 3))
    x, s1, s2 = T.tensor4(), T.iscalar(), T.iscalar()
    g = mlcore.function([x, s1, s2], conv.assert_shape(x, [None, s1, s2, None]), backend=backend)
    v = np.zeros((3, 5, 7, 11), "float32")
    assert g(v, 5, 7).shape == v.shape
    with pytest.raises(HOST_CHECK_ERRORS, match="Unexpected shape"):
        g(v, 5, 9)


def test_declared_conv_shapes_are_checked_when_asked(backend):
    x, w = T.tensor4(), T.tensor4()
    good, wrong_image, wrong_filters = (np.zeros((3, 5, 7, 11), "float32"), np.zeros((7, 5, 3, 3), "float32")), \
        (np.zeros((3, 5, 9, 11), "float32"), np.zeros((7, 5, 3, 3), "float32")), \
        (np.zeros((3, 5, 7, 11), "float32"), np.zeros((7, 5, 2, 2), "float32"))
    hinted = mlcore.function([x, w], nnet.conv2d(x, w, input_shape=(3, 5, 7, 11), filter_shape=(7, 5, 3, 3)),
                             backend=backend)
    assert hinted(*wrong_image).shape == (3, 7, 7, 9)        # off by default, as in Theano: shapes are hints
    with mlcore.change_flags(**{"conv.assert_shape": True}):
        checked = mlcore.function([x, w], nnet.conv2d(x, w, input_shape=(3, 5, 7, 11), filter_shape=(7, 5, 3, 3)),
                                  backend=backend)
    assert config.conv.assert_shape is False
    assert checked(*good).shape == (3, 7, 5, 9)
    for values in (wrong_image, wrong_filters):
        with pytest.raises(AssertionError, match="conv2d|SpecifyShape"):     # the theano backend: PyTensor's
            checked(*values)
    with pytest.raises(ValueError, match="image_shape"):
        nnet.conv2d(x, w, input_shape=(3, 5, 7, 11), image_shape=(3, 5, 7, 11))


@pytest.mark.parametrize("border_mode", ["valid", "half", "full"])
def test_conv2d_grad_wrt_inputs_refuses_output_grads_of_another_size(backend, rng, border_mode):
    g, w = T.tensor4(), T.tensor4()
    f = mlcore.function([g, w], conv.conv2d_grad_wrt_inputs(g, w, (2, 1, 7, 7), (2, 1, 3, 3), border_mode),
                        backend=backend)
    fits = {"valid": 5, "half": 7, "full": 9}[border_mode]
    for size in (fits - 1, fits, fits + 3):
        output_grad = floats(rng, 2, 2, size, size)
        if size == fits:
            assert f(output_grad, floats(rng, 2, 1, 3, 3)).shape == (2, 1, 7, 7)
        else:
            with pytest.raises((AssertionError, ValueError), match="output_grad|SpecifyShape"):
                f(output_grad, floats(rng, 2, 1, 3, 3))


@pytest.mark.parametrize("image,filters", [((0, 1, 6, 6), (1, 1, 2, 2)), ((1, 0, 6, 6), (1, 0, 2, 2)),
                                           ((1, 1, 6, 6), (0, 1, 2, 2))])
def test_empty_convolutions_and_their_gradients(backend, rng, image, filters):
    x, w = mlcore.shared(floats(rng, *image)), mlcore.shared(floats(rng, *filters))
    out = nnet.conv2d(x, w, border_mode="full", subsample=(2, 2))
    value, gx, gw = run(backend, [], [out] + T.grad(out.sum(), [x, w]))
    assert value.shape == conv.get_conv_output_shape(image, filters, "full", (2, 2)) and not value.any()
    assert gx.shape == image and gw.shape == filters and not gx.any() and not gw.any()


def test_conv3d_gradient_functions_are_conv3d_gradients(backend, rng):
    x, w = T.tensor5(), T.tensor5()
    xv, wv = floats(rng, 2, 2, 5, 4, 6), floats(rng, 3, 2, 2, 3, 2)
    options = dict(border_mode=(1, 0, 2), subsample=(2, 1, 2))
    out = conv.conv3d(x, w, **options)
    weights = rng.random(run(backend, [x, w], out, xv, wv).shape).astype("float32")
    gx, gw = T.grad((out * weights).sum(), [x, w])
    got = run(backend, [x, w], [gx, gw, conv.conv3d_grad_wrt_inputs(weights, w, xv.shape, **options),
                                conv.conv3d_grad_wrt_weights(x, weights, (None, None, 2, 3, 2), xv.shape, **options)],
              xv, wv)
    np.testing.assert_allclose(got[2], got[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[3], got[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("border_mode", ["full", "half"])
def test_conv3d_full_and_half_read_an_unknown_filter_size_when_run(backend, rng, border_mode):
    """As conv2d: filters of unknown shape pad by their size read at run time, equal to the same
    convolution of filters whose shape the graph knows, gradients too."""
    x, w = T.tensor5(), T.tensor5()
    known = T.TensorType("float32", (3, 2, 3, 2, 3))()
    xv, wv = floats(rng, 1, 2, 5, 6, 4), floats(rng, 3, 2, 3, 2, 3)
    options = dict(border_mode=border_mode, filter_dilation=(2, 1, 1))
    unknown_out, known_out = conv.conv3d(x, w, **options), conv.conv3d(x, known, **options)
    got = run(backend, [x, w], [unknown_out, T.grad(unknown_out.sum(), w)], xv, wv)
    want = run(backend, [x, known], [known_out, T.grad(known_out.sum(), known)], xv, wv)
    assert got[0].shape == conv.get_conv_output_shape(xv.shape, wv.shape, border_mode, (1, 1, 1), (2, 1, 1))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_abstract_conv_op_classes(backend, rng):
    x, w, g = T.tensor4(), T.tensor4(), T.tensor4()
    xv, wv = floats(rng, 2, 3, 7, 6), floats(rng, 4, 3, 3, 2)
    options = dict(border_mode="half", subsample=(2, 1), filter_flip=False)
    gv = floats(rng, *conv.get_conv_output_shape(xv.shape, wv.shape, "half", (2, 1)))
    by_class = [conv.AbstractConv2d(**options)(x, w),
                conv.AbstractConv2d_gradInputs(imshp=xv.shape, kshp=wv.shape, **options)(w, g, xv.shape[2:]),
                conv.AbstractConv2d_gradWeights(imshp=xv.shape, **options)(x, g, wv.shape[2:])]
    by_function = [nnet.conv2d(x, w, **options), conv.conv2d_grad_wrt_inputs(g, w, xv.shape, wv.shape, **options),
                   conv.conv2d_grad_wrt_weights(x, g, wv.shape, xv.shape, **options)]
    for got, want in zip(run(backend, [x, w, g], by_class, xv, wv, gv), run(backend, [x, w, g], by_function, xv, wv, gv)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    for shape in (T.lvector(), T.constant([3, 5, 7, 11])):
        with pytest.raises(ValueError, match="AbstractConv2d"):
            conv.AbstractConv2d(imshp=shape)
    assert conv.AbstractConv2d(kshp=[T.constant(3, dtype="int64"), 5, 7, 11]).kshp == (3, 5, 7, 11)


# --- pooling -------------------------------------------------------------------------------------
def average_of_truncated_windows(x, ws, stride):
    """Theano's ignore_border=False average_inc_pad: a window starts every stride until the last one
    that reaches past the image's end, and each is averaged over what is left of it."""
    def starts(size, w, s):
        count = (size - 1) // s + 1 if s >= w else max(0, (size - 1 - w + s) // s) + 1
        return range(0, count * s, s)
    return np.array([[x[..., r:r + ws[0], c:c + ws[1]].mean(axis=(-2, -1)) for c in starts(x.shape[-1], ws[1], stride[1])]
                     for r in starts(x.shape[-2], ws[0], stride[0])]).transpose(2, 3, 0, 1)


def test_pool_op_classes_and_truncated_averages(backend, rng):
    x, gz = T.tensor4(), T.tensor4()
    xv = floats(rng, 2, 3, 7, 6)
    pooled = pool.pool_2d(x, (3, 2), ignore_border=False, stride=(2, 2), mode="average_inc_pad")
    by_op = pool.Pool(ignore_border=False, mode="average_inc_pad")(x, (3, 2), (2, 2))
    got, same = run(backend, [x], [pooled, by_op], xv)
    np.testing.assert_allclose(got, average_of_truncated_windows(xv, (3, 2), (2, 2)), rtol=1e-6)
    np.testing.assert_allclose(same, got)
    maxed = pool.pool_2d(x, (2, 2), ignore_border=True, pad=(1, 1))
    gzv = floats(rng, *run(backend, [x], maxed, xv).shape)
    averaged = pool.pool_2d(x, (2, 2), ignore_border=True, mode="average_exc_pad", pad=(1, 1))
    grads = run(backend, [x, gz], [T.grad((maxed * gz).sum(), x),
                                   pool.MaxPoolGrad(ignore_border=True)(x, maxed, gz, (2, 2), None, (1, 1)),
                                   T.grad((averaged * gz).sum(), x),
                                   pool.AveragePoolGrad(True, "average_exc_pad")(x, gz, (2, 2), None, (1, 1))], xv, gzv)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6)
    np.testing.assert_allclose(grads[3], grads[2], rtol=1e-6)


def test_pool_refuses_padding_as_wide_as_the_window():
    with pytest.raises(NotImplementedError, match="smaller than the window"):
        pool.pool_2d(T.tensor4(), (2, 2), ignore_border=True, pad=(2, 1))
    with pytest.raises(NotImplementedError, match="ignore_border=True"):
        pool.pool_2d(T.tensor4(), (3, 3), ignore_border=False, pad=(1, 1))
