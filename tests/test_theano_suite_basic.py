"""Theano 1.0's core tensor and compilation API, probed the way its own test suites
(tensor/tests/test_basic.py, test_subtensor.py, test_sharedvar.py, compile/tests/test_function_module.py,
test_shared.py) check it: values against numpy, dtypes, argument orders and defaults, and the
errors bad calls raise.  Written for mlcore in our own words."""
import copy

import numpy as np
import pytest

import mlcore as theano
import mlcore.tensor as T
from mlcore.function import In, MissingInputError, Out, UnusedInputError

RNG = np.random.default_rng(0)
CUBE = RNG.random((2, 3, 4))


def run(backend, inputs, outputs, *values, **kwargs):
    """outputs computed from values by a function compiled on backend."""
    return theano.function(inputs, outputs, backend=backend, **kwargs)(*values)


# --- theano.tensor.basic -------------------------------------------------------------------------
def test_argmax_argmin_and_max_and_argmax_over_several_axes(backend):
    t3 = T.dtensor3()
    moved = CUBE.transpose(1, 0, 2).reshape(3, -1)      # axes 0 and 2 to the end, flattened in C order
    got = run(backend, [t3], [T.argmax(t3, axis=[0, 2]), T.argmin(t3, axis=(2, 0)),
                              T.argmax(t3, axis=[0, 2], keepdims=True)], CUBE)
    np.testing.assert_array_equal(got[0], moved.argmax(-1))
    np.testing.assert_array_equal(got[1], moved.argmin(-1))
    assert got[2].shape == (1, 3, 1) and got[0].dtype == np.int64
    top, where = run(backend, [t3], list(T.max_and_argmax(t3, axis=[1, 2])), CUBE)
    np.testing.assert_allclose(top, CUBE.max(axis=(1, 2)))
    np.testing.assert_array_equal(where, CUBE.reshape(2, -1).argmax(-1))
    assert int(run(backend, [t3], T.argmin(t3, axis=[0, 1, 2]), CUBE)) == CUBE.argmin()
    with pytest.raises(np.exceptions.AxisError):
        T.argmax(t3, axis=[0, 3])


def test_var_and_std_take_ddof_before_keepdims_and_corrected(backend):
    x = T.dmatrix()
    m = CUBE[0]
    got = run(backend, [x], [T.var(x, 1, 1), T.std(x, 0, 1, True), T.var(x, None, 0, False, True),
                             T.std(x, 1, 1, True, True)], m)
    np.testing.assert_allclose(got[0], m.var(axis=1, ddof=1))
    np.testing.assert_allclose(got[1], m.std(axis=0, ddof=1, keepdims=True))
    np.testing.assert_allclose(got[2], m.var())
    np.testing.assert_allclose(got[3], m.std(axis=1, ddof=1, keepdims=True))
    with pytest.raises(ValueError, match="keepdims comes after"):
        T.var(x, 0, True)            # Theano's old order var(x, axis, keepdims)


def test_arange_dtypes_follow_theano():
    i, f = T.iscalar(), T.fscalar()
    assert T.arange(5).dtype == "int64"
    assert T.arange(np.int8(5)).dtype == "int64"          # Theano widens every int range to int64
    assert T.arange(i).dtype == "int64" and T.arange(0, i, 2).dtype == "int64"
    assert T.arange(np.uint8(4)).dtype == "uint64"
    assert T.arange(f).dtype == "float32" and T.arange(0.0, 5).dtype == theano.config.floatX
    assert T.arange(5, dtype="floatX").dtype == theano.config.floatX
    np.testing.assert_array_equal(T.arange(i, 0, -2).eval({i: 7}), np.arange(7, 0, -2))


def test_constant_cast_default_and_convert_functions():
    c = T.constant(1.5, "c")                                  # Theano's order: (x, name, ndim, dtype)
    assert c.name == "c" and T.constant([1.0, 2.0], ndim=2).broadcastable == (True, False)
    assert T.constant(1, dtype="floatX").dtype == theano.config.floatX
    v = T.dvector()
    assert T.cast(v, "floatX").dtype == theano.config.floatX
    assert T._convert_to_int32(v).dtype == "int32" and T._convert_to_complex64(v).dtype == "complex64"
    assert T.default(None, v) is v and T.default(v, v * 2) is v
    with pytest.raises(TypeError, match="same type"):
        T.default(v, T.fvector())


def test_basic_functions_against_numpy(backend):
    x, v, iv = T.dmatrix(), T.dvector(), T.ivector()
    m, vec = CUBE[0], np.array([-2.5, -0.5, 0.5, 1.5, 2.5])
    outputs = [T.zeros_like(x, dtype="int8"), T.ones_like(x, dtype="float32"), T.eye(3, 4, 1, dtype="int32"),
               T.roll(x, -1, axis=1), T.tile(v, (2, 2)), T.round(v), T.round(v, "half_away_from_zero"),
               T.iround(v), T.sgn(v), T.inv(v), T.largest(v, 0.0), T.smallest(v, 0.0), T.clip(v, -1, 1),
               T.switch(v > 0, v, 0), T.choose(iv, [v, -v]), T.prod(v, no_zeros_in_input=True),
               T.stack([T.sum(v), T.max(v)]), T.join(0, v, v), T.split(v, [2, 3], 2)[1], T.flatten(x, 1)]
    got = run(backend, [x, v, iv], outputs, m, vec, np.array([0, 1, 0, 1, 0], "int32"))
    expected = [np.zeros((3, 4), "int8"), np.ones((3, 4), "float32"), np.eye(3, 4, 1, dtype="int32"),
                np.roll(m, -1, axis=1), np.tile(vec, (2, 2)), np.round(vec), np.sign(vec) * np.floor(abs(vec) + 0.5),
                np.round(vec).astype("int64"), np.sign(vec), 1 / vec, np.maximum(vec, 0), np.minimum(vec, 0),
                np.clip(vec, -1, 1), np.where(vec > 0, vec, 0), np.choose([0, 1, 0, 1, 0], [vec, -vec]),
                np.prod(vec), [vec.sum(), vec.max()], np.concatenate([vec, vec]), vec[2:], m.ravel()]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e)
        assert g.dtype == np.asarray(e).dtype or np.asarray(e).dtype == np.float64


# --- theano.tensor.subtensor ---------------------------------------------------------------------
def test_inc_and_set_subtensor_take_theanos_keywords(backend):
    v = T.dvector()
    value = np.arange(5.0)
    got = run(backend, [v], [T.inc_subtensor(v[1:3], 9.0, inplace=True, tolerate_inplace_aliasing=True),
                             T.inc_subtensor(v[1:3], 9.0, set_instead_of_inc=True),
                             T.set_subtensor(v[[0, 0, 4]], 7.0, inplace=False, tolerate_inplace_aliasing=True),
                             T.inc_subtensor(v[[0, 0, 4]], 1.0), T.inc_subtensor(v[::-2], 1.0)], value)
    np.testing.assert_array_equal(got[0], [0, 10, 11, 3, 4])
    np.testing.assert_array_equal(got[1], [0, 9, 9, 3, 4])
    np.testing.assert_array_equal(got[2], [7, 1, 2, 3, 7])
    np.testing.assert_array_equal(got[3], [2, 1, 2, 3, 5])       # duplicate indices accumulate
    np.testing.assert_array_equal(got[4], [1, 1, 3, 3, 5])
    with pytest.raises(TypeError, match="indexed tensor"):
        T.set_subtensor(v, 1.0)


# --- theano.shared / theano.tensor.sharedvar -----------------------------------------------------
def test_shared_constructors_and_types():
    assert theano.shared(7).type == T.lscalar and theano.shared(7.0).type == T.dscalar
    assert theano.shared(np.float32(7)).type == T.fscalar
    assert theano.shared(np.zeros((5, 5), "int32")).type == T.TensorType("int32", broadcastable=[False, False])
    assert theano.shared(np.ones((1, 3)), broadcastable=(True, False)).broadcastable == (True, False)
    assert T.sharedvar.scalar_constructor(2.0).type == T.dscalar
    assert isinstance(theano.shared(1.0), T.sharedvar.ScalarSharedVariable)
    with pytest.raises(TypeError):
        theano.shared(7, bad_kw=False)
    with pytest.raises(TypeError, match="symbolic"):
        theano.shared(T.ones((2, 3)))
    with pytest.raises(TypeError, match="array of numbers"):
        theano.shared({})


def test_shared_set_value_converts_as_theano():
    s = theano.shared(np.array([1.0, 2.0]))
    s.set_value([3, 4])                                       # a list whose values float64 holds
    assert s.get_value().dtype == np.float64 and s.get_value().tolist() == [3, 4]
    with pytest.raises(ValueError):
        s.set_value("adsf")
    uval = np.array([5.0, 6.0, 7.0])
    s.set_value(uval, borrow=True)
    assert s.get_value(borrow=True) is uval
    with pytest.raises(TypeError, match="losing precision"):  # float64 into float32 drops digits
        theano.shared(np.zeros((2, 2), "float32")).set_value(RNG.random((2, 2)))
    with pytest.raises(TypeError, match="losing precision"):
        theano.shared(np.zeros(2, "int32")).set_value(np.arange(2))
    loose = theano.shared(np.int8([7]), allow_downcast=True)
    loose.set_value([8.23])
    assert loose.get_value().tolist() == [8] and loose.dtype == "int8"
    floatx = theano.shared(np.asarray(1.0, theano.config.floatX))
    floatx.set_value(0.1)                                     # a Python float goes to floatX
    assert floatx.get_value().dtype == theano.config.floatX
    for value in (np.int64(7), 7.234):
        with pytest.raises(TypeError, match="strict"):
            theano.shared(value, strict=True).set_value(8.23 if isinstance(value, np.int64) else 8)
    with pytest.raises(TypeError, match="1 dims"):            # Theano's error for another number of dims
        theano.shared(np.zeros(3), name="w").set_value(np.zeros((2, 2)))


# --- theano.function -----------------------------------------------------------------------------
def test_function_naming_rules_and_call_errors():
    x, s = T.dscalars("xs")
    a = T.dscalar()
    f = theano.function([x, In(a, value=1.0, name="a"), s], a / s + x)
    assert f(9, 2, 4) == 9.5 and f(9, s=4) == 9.25 and f(x=9, a=2, s=4) == 9.5
    for bad in (lambda: f(), lambda: f(5.0, x=9), lambda: f(9, q=1), lambda: f(1, 2, 3, 4)):
        with pytest.raises(TypeError):
            bad()
    with pytest.raises(TypeError, match="missing required input"):
        f(s=1)
    a2, x2, s2 = T.dscalars("xxx")
    same = theano.function([a2, x2, s2], a2 + x2 + s2)
    assert same(1, 2, 3) == 6
    with pytest.raises(TypeError, match="Ambiguous"):
        same(1, 2, x=3)
    with pytest.raises(TypeError, match="string"):
        theano.function([In(a2, name=[])], [])
    with pytest.raises(TypeError, match="in a list"):
        theano.function(x, x)
    with pytest.raises(TypeError, match="symbolic"):
        theano.function([3], x)


def test_function_missing_and_unused_inputs():
    x, s = T.dscalars("xs")
    with pytest.raises(MissingInputError):
        theano.function([], [x])
    with pytest.raises(UnusedInputError):                     # checked first, as Theano
        theano.function([s], Out(x))
    with pytest.raises(MissingInputError):
        theano.function([s], x, on_unused_input="ignore")
    with pytest.raises(MissingInputError):
        theano.function([In(x, update=s * s + x)], x)
    assert theano.gof.MissingInputError is theano.compile.MissingInputError
    assert theano.compile.UnusedInputError is UnusedInputError
    with pytest.raises(RuntimeError, match="input of the function"):
        theano.function([x], x * 2, givens={x: x + 1})


def test_function_input_may_be_an_intermediate_variable(backend):
    m = T.dmatrix("m")
    mt = m.T
    mt.name = "m.T"
    with pytest.raises(UnusedInputError):
        theano.function([m, mt], mt * 2)
    f = theano.function([m, mt], mt * 2, on_unused_input="ignore", backend=backend)
    np.testing.assert_array_equal(f(np.ones((2, 3)), np.full((3, 2), 2.0)), np.full((3, 2), 4.0))
    g = theano.function([In(mt, value=np.ones((1, 2)))], mt + 1, backend=backend)
    assert g[mt].shape == (1, 2) and g().tolist() == [[2.0, 2.0]]


def test_function_outputs_dict_mode_and_theano_keywords(backend):
    x = T.dscalar("x")
    s = theano.shared(1.0)
    f = theano.function([x], {"b": x * 2, "a": s}, updates=[(s, s + x)], backend=backend)
    assert f(3) == {"a": 1.0, "b": 6.0} and s.get_value() == 4.0
    assert theano.function([x], x * 2, "FAST_COMPILE")(3) == 6         # Theano's third argument
    g = theano.function([x], x + 1, accept_inplace=True, rebuild_strict=False, name="g", backend=backend)
    assert g(1) == 2 and g.name == "g" and g.trust_input is False and g.free() is None
    g.trust_input = True
    assert g(np.asarray(1.0)) == 2
    y = T.dscalar("y")
    assert theano.function([x], x + y, givens={y: 2.0}, backend=backend)(1) == 3    # a value in givens
    h = theano.function([x, In(y, value=1.0, name="y")], x + y, backend=backend)
    h.value["y"] = 5.0
    assert h.value[y] == 5.0 and h(1) == 6
    assert isinstance(theano.function([x], x)(2), np.ndarray)        # 0-d arrays, as Theano's


def test_function_outputs_are_the_callers_to_write(backend):
    a = T.dmatrix()
    const = theano.function([], T.constant([4]), backend=backend)
    out = const()
    out[0] = 3                                                # Theano's memory contract
    assert const().tolist() == [4]
    four = theano.function([a], a * 4, backend=backend)
    first = four(np.ones((2, 2)))
    first[0, 0] = 0
    four(np.ones((2, 2)) + 0.1)
    assert first[1, 1] == 4
    same = theano.function([a], a, backend=backend)
    o = np.ones((2, 2))
    assert same(o) is not o and not np.shares_memory(same(o), o)


def test_function_copies_keep_their_own_state():
    a = T.dscalar()
    x, s = T.dscalars("xs")
    f = theano.function([x, In(a, value=1.0, name="a"), In(s, value=0.0, update=s + a * x)], s + a * x)
    g = copy.deepcopy(f)
    assert f(2, 1) == g(2)
    f(1, 2)
    assert f(1, 2) != g(1, 2)


def test_importing_the_var_module_leaves_the_var_function():
    """theano.tensor.var is a module and T.var a function: importing the module (as code that wants
    TensorVariable from it does) must not make T.var the module."""
    import subprocess
    import sys
    code = ("import mlcore.tensor as T; import mlcore.tensor.var; from mlcore.tensor.sort import sort; "
            "assert callable(T.var) and callable(T.sort), (T.var, T.sort)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
