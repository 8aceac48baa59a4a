"""theano.In's arguments: a value with an update is state that later calls read (the value given by
a call, too), strict inputs take their own dtype only, allow_downcast per input; and a shared
variable a function updates without reading is updated all the same.  On every backend."""
import pickle

import numpy as np
import pytest

import mlcore
import mlcore.tensor as T


def test_an_input_with_an_update_keeps_state(backend):
    x, s = T.dscalars("x", "s")
    f = mlcore.function([x, mlcore.In(s, value=0.0, update=s + x)], s, backend=backend)
    assert [float(f(v)) for v in (1.0, 2.0, 3.0)] == [0.0, 1.0, 3.0]
    assert float(f(10.0, s=100.0)) == 100.0        # a value given sticks around through the update
    assert float(f(0.0)) == 110.0
    again = pickle.loads(pickle.dumps(f))
    assert float(again(1.0)) == 110.0 and float(again(0.0)) == 111.0


def test_an_update_needs_a_value():
    s = T.dscalar("s")
    with pytest.raises(TypeError, match="needs a value"):
        mlcore.function([mlcore.In(s, update=s + 1)], s)


def test_strict_and_allow_downcast_per_input(backend):
    v, w = T.fvector("v"), T.fvector("w")
    f = mlcore.function([mlcore.In(v, strict=True), mlcore.In(w, allow_downcast=True)], v + w, backend=backend)
    np.testing.assert_array_equal(f(np.ones(2, "float32"), np.ones(2)), [2, 2])     # w: float64 cast down
    with pytest.raises(TypeError, match="strict"):
        f(np.ones(2), np.ones(2, "float32"))
    with pytest.raises(TypeError, match="allow_input_downcast"):
        mlcore.function([v], v * 2, backend=backend)(np.ones(2))


def test_an_updated_shared_variable_need_not_be_read(backend):
    x = T.dvector("x")
    total = mlcore.shared(np.zeros(2), name="total")
    f = mlcore.function([x], x * 2, updates=[(total, x + 1)], backend=backend)
    np.testing.assert_array_equal(f(np.ones(2)), [2, 2])
    np.testing.assert_array_equal(total.get_value(), [2, 2])


def test_functions_read_set_and_share_an_inputs_state(backend):
    """Theano's f[s], f[s] = v and f.container[s]: two functions updating one state."""
    x, s = T.dscalars("x", "s")
    inc = mlcore.function([x, mlcore.In(s, value=0.0, update=s + x)], [], backend=backend)
    dec = mlcore.function([x, mlcore.In(s, value=inc.container[s], update=s - x)], [], backend=backend)
    inc(1.0)
    inc(2.0)
    assert inc[s] == dec[s] == 3.0
    dec(1.0)
    assert inc["s"] == 2.0
    inc[s] = 10
    inc(1.0)
    assert dec[s] == 11.0
    y = T.dscalar("y")
    f = mlcore.function([x, mlcore.In(y, value=2.0)], x * y, backend=backend)
    assert f[y] == 2.0 and float(f(3.0)) == 6.0
    f[y] = 5.0
    assert float(f(3.0)) == 15.0
    with pytest.raises(KeyError, match="not an input"):
        f["z"]
    with pytest.raises(KeyError, match="has no state"):
        f.container[y]


def test_copy_starts_from_the_current_state_and_goes_its_own_way(backend):
    """Theano's copy(share_memory=, swap=, delete_updates=, name=, profile=): a copied In state
    starts from the original's value now; a container given by another function stays shared."""
    x, s = T.dscalars("x", "s")
    f = mlcore.function([x, mlcore.In(s, value=0.0, update=s + x)], s + x, backend=backend, name="acc")
    f(1.0), f(2.0)
    g = f.copy(share_memory=True)
    assert g.name == "acc copy" and float(g[s]) == 3.0
    g(10.0)
    assert (float(g[s]), float(f[s])) == (13.0, 3.0)
    frozen = f.copy(delete_updates=True, name="frozen")
    assert frozen.name == "frozen" and [float(frozen(5.0)) for _ in range(2)] == [8.0, 8.0]
    assert float(f[s]) == 3.0
    follower = mlcore.function([x, mlcore.In(s, value=f.container[s], update=s + 2 * x)], s, backend=backend)
    follower.copy()(1.0)
    assert float(f[s]) == float(follower[s]) == 5.0
    profiled = f.copy(profile=True)
    profiled(1.0)
    assert profiled.profile is not None and f.profile is None


def test_copy_carries_a_default_set_on_the_original(backend):
    x, y = T.dscalars("x", "y")
    f = mlcore.function([x, mlcore.In(y, value=1.0)], x * y, backend=backend)
    f[y] = 4.0
    assert float(f.copy()(2.0)) == 8.0


def test_param_is_ins_older_name(backend):
    """theano.Param(variable, default=...) (SdA.py and DBN.py before In), with Theano's deprecation."""
    i, c = T.lscalar("index"), T.dscalar("corruption")
    with pytest.warns(DeprecationWarning, match="Param class is deprecated"):
        param = mlcore.Param(c, default=0.25)
    f = mlcore.function([i, param], i * c, backend=backend)
    assert [float(f(4)), float(f(4, corruption=1.0)), float(f(4, 0.5))] == [1.0, 4.0, 2.0]
