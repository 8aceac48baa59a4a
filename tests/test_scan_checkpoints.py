"""theano.scan_checkpoints: the state at the end of each chunk of save_every_N steps, equal to
scan's at those steps, and gradients equal to scan's, on every backend; a length that is not a
multiple of the chunk is padded, or refused with padding=False."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T


def rnn_step(row, h, w):
    return T.tanh(row + T.dot(h, w))


@pytest.mark.parametrize("every", [1, 3, 7, 10])
def test_outputs_and_gradients_match_scan(backend, rng, every):
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    w = mlcore.shared(rng.normal(size=(3, 3)) * 0.5, name="w")
    chunked, _ = mlcore.scan_checkpoints(rnn_step, sequences=[x], outputs_info=[h0], non_sequences=[w],
                                         save_every_N=every)
    full, _ = mlcore.scan(rnn_step, sequences=[x], outputs_info=[h0], non_sequences=[w])
    cost_chunked, cost_full = (chunked[-1] ** 2).sum(), (full[-1] ** 2).sum()
    f = mlcore.function([x, h0], [chunked, full, *T.grad(cost_chunked, [x, h0, w]), *T.grad(cost_full, [x, h0, w])],
                        backend=backend)
    values, states, *grads = f(rng.normal(size=(7, 3)), rng.normal(size=3))
    ends = [min(k * every + every, 7) - 1 for k in range(-(-7 // every))]     # the last step of each chunk
    np.testing.assert_allclose(values, states[ends], rtol=1e-12)
    for ours, scans in zip(grads[:3], grads[3:]):
        np.testing.assert_allclose(ours, scans, rtol=1e-10, atol=1e-12)


def test_non_recurrent_outputs_and_n_steps(backend, rng):
    """An output not fed back (None in outputs_info) gives its value at each chunk's last step; n_steps
    shorter than the sequences runs that many steps."""
    x, total = T.dvector("x"), T.dscalar("total")
    (sums, squares), _ = mlcore.scan_checkpoints(lambda v, s: [s + v, v ** 2], sequences=[x],
                                                 outputs_info=[total, None], n_steps=5, save_every_N=2)
    values = rng.normal(size=8)
    got_sums, got_squares = mlcore.function([x, total], [sums, squares], backend=backend)(values, 1.0)
    np.testing.assert_allclose(got_sums, 1.0 + np.cumsum(values[:5])[[1, 3, 4]], rtol=1e-12)
    np.testing.assert_allclose(got_squares, values[[1, 3, 4]] ** 2, rtol=1e-12)


def test_taps_and_unpadded_lengths_are_refused():
    x, h0 = T.dmatrix("x"), T.dmatrix("h0")
    with pytest.raises(RuntimeError, match="doesn't work with taps"):
        mlcore.scan_checkpoints(lambda row, a, b: a + b, sequences=[x], outputs_info=[{"initial": h0, "taps": [-2, -1]}])
    with pytest.raises(ValueError, match="n_steps 7 is not a multiple of save_every_N 3"):
        mlcore.scan_checkpoints(lambda row, h: h + row, sequences=[x], outputs_info=[h0[0]], n_steps=7,
                                save_every_N=3, padding=False)
    v, h = T.dvector("v"), T.dscalar("h")
    unpadded, _ = mlcore.scan_checkpoints(lambda row, s: s + row, sequences=[v], outputs_info=[h], save_every_N=3,
                                          padding=False)
    f = mlcore.function([v, h], unpadded, backend="numpy")
    np.testing.assert_allclose(f(np.arange(6.0), 0.0), [3.0, 15.0])
    with pytest.raises(ValueError):
        f(np.arange(7.0), 0.0)
