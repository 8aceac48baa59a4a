"""Complex tensors in the graph: Theano's T.real, T.imag, T.angle, T.conj, abs, T.complex,
T.complex_from_polar (and x.real, x.imag, x.conj()), T.polygamma and T.chi2sf against numpy/scipy on
every backend; keras.ops' real, imag, conj, conjugate, angle, isreal, abs, view_as_real,
view_as_complex and polar against Keras 3 on jax; gradients of real costs, in Theano's convention
(dC/dRe z + i dC/dIm z), against finite differences."""
import numpy as np
import pytest
import scipy.special
import scipy.stats

import mlcore
import mlcore.tensor as T
from mlcore import ops
from mlcore.graph.basic import TensorType

_rng = np.random.default_rng(20261130)
Z = _rng.normal(size=(3, 4)) + 1j * _rng.normal(size=(3, 4))
Z[0, :3] = [-2.0, 0.0, -0.0 - 1.5j]             # on the negative real axis, zero, on the imaginary axis
RE, IM = _rng.normal(size=(2, 3, 4))
POSITIVE = _rng.uniform(0.2, 6.0, size=(3, 4))


def run(outputs, inputs, values, backend):
    return mlcore.function(inputs, outputs, backend=backend)(*values)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_parts_of_a_complex_tensor_match_numpy(backend, dtype):
    z = TensorType(dtype, (None, 4))("z")
    value = Z.astype(dtype)
    cases = [(T.real(z), value.real), (T.imag(z), value.imag), (T.angle(z), np.angle(value)),
             (T.conj(z), value.conj()), (abs(z), abs(value)), (T.abs(z), abs(value)), (z.real, value.real),
             (z.imag, value.imag), (z.conj(), value.conj()), (z.conjugate(), value.conj()),
             (T.exp(z) * 2 - z, np.exp(value) * 2 - value)]
    results = run([c[0] for c in cases], [z], [value], backend)
    rtol = 1e-6 if dtype == "complex64" else 1e-13
    for (symbol, expected), got in zip(cases, results):
        assert symbol.dtype == got.dtype == expected.dtype, symbol
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol, err_msg=str(symbol))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_complex_tensors_made_from_parts_match_numpy(backend, dtype):
    r, i = T.matrix("r", dtype), T.matrix("i", dtype)
    re, im = RE.astype(dtype), IM.astype(dtype)
    made = run([T.complex(r, i), T.complex_from_polar(r, i), T.complex(r, np.inf)], [r, i], [re, im], backend)
    want = np.result_type(dtype, np.complex64)
    expected = [re + 1j * im, re * np.cos(im) + 1j * re * np.sin(im), None]
    for got, value in zip(made[:2], expected):
        assert got.dtype == want
        np.testing.assert_allclose(got, value, rtol=1e-6 if dtype == "float32" else 1e-13)
    assert np.array_equal(made[2].real, re) and np.all(made[2].imag == np.inf)   # not 1j * inf's nan


def test_parts_of_a_real_tensor(backend):
    """A real number is its own real part and conjugate; its imaginary part is 0, its angle 0 or pi."""
    x = T.dvector("x")
    value = np.array([1.5, -2.0, 0.0, -0.0])
    real, imag, conj, angle = run([T.real(x), T.imag(x), T.conj(x), T.angle(x)], [x], [value], backend)
    assert T.real(x) is x and T.conj(x) is x and x.real is x
    np.testing.assert_array_equal(real, value)
    np.testing.assert_array_equal(imag, np.zeros(4))
    np.testing.assert_array_equal(angle, np.angle(value))


def test_polygamma_and_chi2sf_match_scipy(backend):
    x, k = T.dmatrix("x"), T.dmatrix("k")
    degrees = np.round(POSITIVE * 2)
    outputs = [T.polygamma(n, x) for n in range(4)] + [T.chi2sf(x, k), T.chi2sf(x, 3)]
    results = run(outputs, [x, k], [POSITIVE, degrees], backend)
    expected = [scipy.special.polygamma(n, POSITIVE) for n in range(4)]
    expected += [scipy.stats.chi2.sf(POSITIVE, degrees), scipy.stats.chi2.sf(POSITIVE, 3)]
    # PyTensor's own C digamma and gammaincc (polygamma 0, chi2sf) meet scipy to 4e-10 and 3e-9
    for got, value in zip(results, expected):
        np.testing.assert_allclose(got, value, rtol=1e-8 if backend == "theano" else 1e-11)


def test_polygamma_in_float32_keeps_float32(backend):
    y = T.fvector("y")
    got = run(T.polygamma(2, y), [y], [POSITIVE[0].astype("float32")], backend)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, scipy.special.polygamma(2, POSITIVE[0]), rtol=1e-5)


# --- gradients: Theano's convention, dC/dRe z + i dC/dIm z, checked part by part ----------------
C = np.array([0.7 - 1.2j, -0.4 + 0.3j, 1.1 + 0.5j, 2.0 - 0.1j])
A = np.array([0.5, -1.5, 2.0, 0.25])
AWAY = Z[1:] + np.where(abs(Z[1:]) < 0.3, 0.5, 0)      # away from 0, where abs and angle have no slope

COMPLEX_COSTS = {
    "real_of_product": lambda z: (T.real(z * C) * A).sum(),
    "imag_of_exp": lambda z: (T.imag(T.exp(z)) * A).sum(),
    "abs": lambda z: (abs(z - C) * A).sum(),
    "angle": lambda z: (T.angle(z) * A).sum(),
    "conj": lambda z: T.real(T.conj(z) * z * C + T.conj(z * C)).sum(),
    "methods": lambda z: (z.real ** 2 * z.imag + abs(z.conj() / (1 + z * z)) ** 2).sum(),
    "made_again": lambda z: abs(T.complex(z.imag, z.real) ** 2 - C).sum(),
    "polar": lambda z: T.imag(T.complex_from_polar(abs(z), T.angle(z)) * C).sum(),
    "real_times_complex": lambda z: T.imag(T.real(z) * C * z).sum(),
    "sum_and_broadcast": lambda z: abs((z * T.constant(C[:1])).sum(axis=0) + 1).sum(),
    # matrix products pull back through the conjugate transpose of the other operand
    "dot_on_the_right": lambda z: abs(T.dot(z, np.outer(C, C[:2])) - 1).sum(),
    "dot_on_the_left": lambda z: T.imag(T.dot(np.outer(C[:3], C), z.T) * C[:2]).sum(),
    "batched_product": lambda z: T.real(T.batched_dot(z.reshape((2, 2, 2)), z.reshape((2, 2, 2)) * C[:2])).sum(),
}


@pytest.mark.parametrize("name", list(COMPLEX_COSTS))
def test_gradient_wrt_a_complex_tensor_is_dre_plus_i_dim(name, backend, numeric_grad):
    z = T.zmatrix("z")
    cost = COMPLEX_COSTS[name](z)
    gradient = mlcore.function([z], T.grad(cost, z), backend=backend)(AWAY)
    value = mlcore.function([z], cost, backend=backend)
    parts = [numeric_grad(lambda re, im: value(re + 1j * im), [AWAY.real, AWAY.imag], k) for k in (0, 1)]
    assert gradient.dtype == np.complex128
    np.testing.assert_allclose(gradient, parts[0] + 1j * parts[1], rtol=1e-6, atol=1e-8)


REAL_COSTS = {   # Theano's test_complex_grads and test_polar_grads, and a real tensor meeting complex ones
    "complex": lambda r, t: (0.5 * T.real(T.complex(r, t)) + 0.9 * T.imag(T.complex(r, t))).sum(),
    "complex_from_polar": lambda r, t: (0.5 * T.real(T.complex_from_polar(abs(r), t))
                                        + 0.9 * T.imag(T.complex_from_polar(abs(r), t))).sum(),
    "abs_of_complex": lambda r, t: abs(T.complex(r, t) * C).sum(),
    "angle_of_complex": lambda r, t: (T.angle(T.complex(r, 1 + t ** 2)) * A).sum(),
    "real_times_complex": lambda r, t: T.imag(r * T.complex(t, r) * C).sum(),
    "polygamma": lambda r, t: (T.polygamma(2, 1 + r ** 2) * t).sum(),
    "chi2sf": lambda r, t: (T.chi2sf(1 + r ** 2, 3) * t + T.chi2sf(2 + t ** 2, 1.5)).sum(),
}


@pytest.mark.parametrize("name", list(REAL_COSTS))
def test_gradients_of_real_parts_match_finite_differences(name, backend, numeric_grad):
    r, t = T.dmatrix("r"), T.dmatrix("t")
    cost = REAL_COSTS[name](r, t)
    gradients = mlcore.function([r, t], T.grad(cost, [r, t]), backend=backend)(RE, IM)
    value = mlcore.function([r, t], cost, backend=backend)
    for k, got in enumerate(gradients):
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, numeric_grad(value, [RE, IM], k), rtol=1e-6, atol=1e-8)


def test_errors_name_the_op_and_the_value():
    z, x = T.zvector("z"), T.dvector("x")
    with pytest.raises(TypeError, match="complex: the real and imaginary parts must be real tensors"):
        T.complex(z, x)
    with pytest.raises(TypeError, match="polygamma: the order n must be an integer tensor, got x"):
        T.polygamma(x, x)
    with pytest.raises(NotImplementedError, match="chi2sf: no gradient with respect to the degrees of freedom"):
        T.grad(T.chi2sf(x, x).sum(), x)
    with pytest.raises(TypeError, match="grad: the cost .* is complex"):
        T.grad((z * 2).sum(), z)
    with pytest.raises(ValueError, match=r"Last dimension of input must be size 2 \(real and imaginary\). "
                                         r"Received shape: \(3, 3\)"):
        ops.view_as_complex(T.dmatrix("m", shape=(3, 3)))


# --- keras.ops, against Keras 3 on jax (in 32 bits: jax without x64 makes complex128 complex64) --------
Z64, RE32, POSITIVE32 = Z.astype("complex64"), RE.astype("float32"), POSITIVE.astype("float32")
PAIRS = np.stack([RE, IM], axis=-1)
KERAS_CASES = [("real", (Z64,)), ("imag", (Z64,)), ("conj", (Z64,)), ("conjugate", (Z64,)), ("angle", (Z64,)),
               ("abs", (Z64,)), ("absolute", (Z64,)), ("isreal", (np.where(abs(Z64) > 1, Z64.real, Z64),)),
               ("view_as_real", (Z64,)), ("view_as_real", (RE32,)), ("view_as_complex", (PAIRS.astype("float32"),)),
               ("view_as_complex", (PAIRS,)),    # complex64 from float64 too, as Keras makes it
               ("polar", (POSITIVE32, RE32)), ("real", (RE32,)), ("imag", (RE32,)), ("angle", (-RE32,))]


def _keras_answer(keras, name, args):
    return np.asarray(getattr(keras.ops, name)(*args))


@pytest.mark.parametrize("case", KERAS_CASES, ids=["%s-%s" % (n, a[0].dtype) for n, a in KERAS_CASES])
def test_keras_ops_match_keras(case, backend, keras):
    name, args = case
    expected = _keras_answer(keras, name, args)
    symbols = [TensorType(a.dtype, a.shape)() for a in args]
    got = mlcore.function(symbols, getattr(ops, name)(*symbols), backend=backend)(*args)
    eager = getattr(ops, name)(*args)
    for value in (got, eager):
        assert value.dtype == expected.dtype and value.shape == expected.shape, (value.dtype, expected.dtype)
        np.testing.assert_allclose(value, expected, rtol=1e-6, atol=1e-6)
    assert ops.nn.polar is ops.polar
