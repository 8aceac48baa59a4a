"""x[mask] with a boolean mask, as numpy and Theano 1.0 read it: the entries (or rows, or columns)
where the mask is True, in C order, also mixed with slices, ints and Ellipsis, written into by
set_subtensor/inc_subtensor, with gradients, and numpy's IndexError for a mask of another size
(while building when both sizes are known, when run otherwise).  Values against numpy on every backend."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.graph.ops.indexing import BadIndex


def run(backend, inputs, outputs, *values):
    return mlcore.function(inputs, outputs, backend=backend)(*values)


def test_mask_of_the_same_shape_picks_entries_in_c_order(backend, rng):
    x = T.dmatrix("x")
    value = rng.normal(size=(4, 5))
    (got,) = run(backend, [x], [x[x > 0]], value)
    np.testing.assert_array_equal(got, value[value > 0])


@pytest.mark.parametrize("key, reference", [
    (lambda x, m: x[m[:, 0]], lambda x, m: x[m[:, 0]]),                       # rows
    (lambda x, m: x[:, m[0]], lambda x, m: x[:, m[0]]),                       # columns
    (lambda x, m: x[..., m[0]], lambda x, m: x[..., m[0]]),                   # after an Ellipsis
    (lambda x, m: x[m[:, 0], 1:], lambda x, m: x[m[:, 0], 1:]),               # with a slice
    (lambda x, m: x[m[:, 0], 2], lambda x, m: x[m[:, 0], 2]),                 # with an int
    (lambda x, m: x[1:, m], lambda x, m: x[1:, m]),                           # a 2-d mask after a slice
])
def test_masks_mixed_with_other_indices(backend, rng, key, reference):
    x = T.dtensor3("x")
    value = rng.normal(size=(4, 4, 4))
    mask = value[:, :, 0] > 0
    m = T.matrix("m", dtype="bool")
    (got,) = run(backend, [x, m], [key(x, m)], value, mask)
    np.testing.assert_array_equal(got, reference(value, mask))


def test_numpy_and_list_masks(backend):
    x = T.dmatrix("x")
    value = np.arange(6.0).reshape(2, 3)
    got = run(backend, [x], [x[:, np.array([True, False, True])], x[[False, True]]], value)
    np.testing.assert_array_equal(got[0], value[:, [0, 2]])
    np.testing.assert_array_equal(got[1], value[[1]])


def test_set_and_inc_through_a_mask(backend, rng):
    x = T.dmatrix("x")
    value = rng.normal(size=(3, 4))
    got = run(backend, [x], [T.set_subtensor(x[x < 0], 0.0), T.inc_subtensor(x[x > 0.5], 10.0)], value)
    np.testing.assert_array_equal(got[0], np.maximum(value, 0))
    expected = value.copy()
    expected[value > 0.5] += 10
    np.testing.assert_array_equal(got[1], expected)


def test_gradient_through_a_mask_against_finite_differences(backend, rng):
    x = T.dmatrix("x")
    value = rng.normal(size=(3, 4))
    value[np.abs(value) < 0.1] = 0.5          # away from the mask's edge, where it is not differentiable
    cost = (x[x > 0] ** 2).sum() * 3 + x[:, x[0] > 0].sum()
    (got,) = run(backend, [x], [T.grad(cost, x)], value)
    expected = np.where(value > 0, 6 * value, 0.0) + np.where(value[0] > 0, 1.0, 0.0)[None, :]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    T.verify_grad(lambda a: (a[a > 0] ** 2).sum(), [value], rng=np.random.default_rng(0))


def test_the_number_of_entries_follows_each_new_mask(backend):
    x, m = T.dvector("x"), T.vector("m", dtype="bool")
    f = mlcore.function([x, m], x[m] * 2, backend=backend)
    value = np.arange(4.0)
    for mask in ([True, False, True, True], [False] * 4, [True] * 4):
        np.testing.assert_array_equal(f(value, np.array(mask)), value[np.array(mask)] * 2)


def test_a_mask_of_another_static_size_is_refused_while_building():
    x = T.matrix("x", shape=(2, 3))
    with pytest.raises(IndexError, match="along axis 1; size of axis is 3 but size of corresponding boolean axis is 2"):
        x[:, np.array([True, False])]
    with pytest.raises(IndexError, match="too many indices"):
        x[np.ones((2, 3), bool), 0]


def test_a_mask_of_another_size_is_refused_when_run(backend):
    x, m = T.dmatrix("x"), T.vector("m", dtype="bool")
    f = mlcore.function([x, m], x[m], backend=backend)
    with pytest.raises(BadIndex, match="along axis 0; size of axis is 2 but size of corresponding boolean axis is 3"):
        f(np.ones((2, 2)), np.array([True, False, True]))
    with pytest.raises(BadIndex, match="size of axis is 3 but size of corresponding boolean axis is 1"):
        f(np.ones((3, 2)), np.array([True]))


def test_a_boolean_scalar_is_not_a_mask():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="must be integer"):
        x[T.scalar("b", dtype="bool")]
