"""theano.tensor.fft's rfft and irfft: batches of real signals of 1, 2 and 3 dims, complex values as a
trailing (real, imaginary) dim; values against numpy.fft.rfftn/irfftn with each norm, round trips, and
gradients against finite differences, on every backend.  Also Theano's op classes found in a graph."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.tensor import fft


def as_complex(pairs):
    return pairs[..., 0] + 1j * pairs[..., 1]


@pytest.mark.parametrize("shape", [(3, 8), (2, 4, 6), (2, 3, 4, 5)])
@pytest.mark.parametrize("norm", [None, "ortho", "no_norm"])
def test_rfft_and_irfft_match_numpy(backend, rng, shape, norm):
    x = T.TensorType("float64", shape)("x")
    value = rng.normal(size=shape)
    axes = tuple(range(1, len(shape)))
    odd = shape[-1] % 2 == 1
    spectrum = fft.rfft(x, norm=norm)
    got, back = mlcore.function([x], [spectrum, fft.irfft(spectrum, norm=norm, is_odd=odd)], backend=backend)(value)
    numpy_norm = "ortho" if norm == "ortho" else "backward"
    assert got.shape == shape[:-1] + (shape[-1] // 2 + 1, 2)
    np.testing.assert_allclose(as_complex(got), np.fft.rfftn(value, axes=axes, norm=numpy_norm), rtol=1e-10, atol=1e-10)
    scale = np.prod(shape[1:]) if norm == "no_norm" else 1.0       # no_norm: neither direction divides
    np.testing.assert_allclose(back, value * scale, rtol=1e-10, atol=1e-10)


def test_gradients_against_finite_differences(backend, rng, numeric_grad):
    x = T.TensorType("float64", (2, 3, 4))("x")
    value = rng.normal(size=(2, 3, 4))
    weights = rng.normal(size=(2, 3, 3, 2))
    cost = (fft.rfft(x, norm="ortho") * weights).sum() + (fft.irfft(fft.rfft(x) * weights) ** 2).sum()
    (got,) = mlcore.function([x], [T.grad(cost, x)], backend=backend)(value)
    np.testing.assert_allclose(got, numeric_grad(mlcore.function([x], cost, backend=backend), [value], 0),
                               rtol=1e-6, atol=1e-8)


def test_bad_arguments():
    with pytest.raises(ValueError, match="norm must be"):
        fft.rfft(T.TensorType("float64", (2, 4))(), norm="forward")
    with pytest.raises(ValueError, match="at least 2 dims"):
        fft.rfft(T.dvector())
    with pytest.raises(ValueError, match="must be 2"):
        fft.irfft(T.TensorType("float64", (2, 4, 3))())


def test_theanos_op_classes_find_their_nodes():
    x = T.dmatrix("x")
    f = mlcore.function([x], [x[1:].sum(axis=0), T.nnet.softmax(x), T.dot(x, x.T)], backend="numpy",
                        rewrites="none")
    kinds = {type(node.op) for node in f.maker.fgraph.toposort()}
    assert T.Subtensor in kinds and T.AdvancedSubtensor1 is T.Subtensor and T.Sum in kinds
    assert T.nnet.Softmax in kinds and T.Dot in kinds and T.DimShuffle in kinds
    assert issubclass(T.Sum, T.CAReduce) and T.elemwise.Sum is T.Sum
    assert isinstance(mlcore.shared(np.ones(2)), T.sharedvar.TensorSharedVariable)
