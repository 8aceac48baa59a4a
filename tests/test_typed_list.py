"""theano.typed_list (mlcore.typed_list): lists of tensors in functions, Python lists in and out.
Every backend runs them (a graph holding a list runs on the numpy interpreter: see its type.py)."""
import numpy as np
import pytest

import mlcore as theano
import mlcore.tensor as T
from mlcore import typed_list as TL

A, B, C = (np.arange(3, dtype="float32") + k for k in range(3))


def assert_lists_equal(got, want):
    assert isinstance(got, list) and len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_list_ops(backend):
    items, v, i = TL.TypedListType(T.fvector)("items"), T.fvector("v"), T.lscalar("i")
    outs = [TL.append(items, v), TL.extend(items, items), TL.insert(items, i, v), TL.remove(items, v),
            TL.reverse(items), TL.index_(items, v), TL.count(items, v), TL.length(items), TL.getitem(items, i),
            items[0:2], items[::-1], items[i] * 2]
    got = theano.function([items, v, i], outs, backend=backend)([A, B, C], B, 1)
    assert_lists_equal(got[0], [A, B, C, B])
    assert_lists_equal(got[1], [A, B, C, A, B, C])
    assert_lists_equal(got[2], [A, B, B, C])
    assert_lists_equal(got[3], [A, C])
    assert_lists_equal(got[4], [C, B, A])
    assert [int(g) for g in got[5:8]] == [1, 1, 3]
    np.testing.assert_array_equal(got[8], B)
    assert_lists_equal(got[9], [A, B])
    assert_lists_equal(got[10], [C, B, A])
    np.testing.assert_array_equal(got[11], 2 * B)


def test_methods_and_make_list(backend):
    items, v = TL.TypedListType(T.fvector)(), T.fvector()
    made = TL.make_list([v, v * 2])
    f = theano.function([items, v], [items.append(v).reverse(), items.count(v), items.ind(v), made,
                                      TL.length(made)], backend=backend)
    got = f([A, A, B], A)
    assert_lists_equal(got[0], [A, B, A, A])
    assert (int(got[1]), int(got[2]), int(got[4])) == (2, 0, 2)
    assert_lists_equal(got[3], [A, 2 * A])
    assert made.type == TL.TypedListType(T.fvector) and made.ttype.dtype == "float32"


def test_inputs_are_not_changed_and_matrices_compare_whole():
    items, m = TL.TypedListType(T.dmatrix)(), T.dmatrix()
    given = [np.eye(2), np.ones((2, 2)), np.eye(2)]
    f = theano.function([items, m], [TL.remove(items, m), TL.count(items, m)], backend="numpy")
    removed, counted = f(given, np.eye(2))
    assert_lists_equal(removed, given[1:]) and len(given) == 3 and int(counted) == 2


def test_bad_input_names_the_op_and_types():
    items = TL.TypedListType(T.fvector)()
    with pytest.raises(TypeError, match="Append.*float32.*got"):
        TL.append(items, T.dmatrix())
    with pytest.raises(TypeError, match="Length takes a typed list"):
        TL.length(T.fvector())
    with pytest.raises(TypeError, match="index is an integer"):
        TL.getitem(items, T.fscalar())
    with pytest.raises(TypeError, match="Extend"):
        TL.extend(items, TL.TypedListType(T.dvector)())
    with pytest.raises(TypeError, match="share one type"):
        TL.make_list([T.fvector(), T.dvector()])
    with pytest.raises(TypeError, match="TypedListType takes"):
        TL.TypedListType(3)
    f = theano.function([items], TL.length(items), backend="numpy")
    with pytest.raises(TypeError, match="Python list of arrays"):
        f(np.ones(3, dtype="float32"))
    with pytest.raises(ValueError, match="not in the list"):
        theano.function([items], TL.length(TL.remove(items, items[0] + 1)), backend="numpy")([A])
