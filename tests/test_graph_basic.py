"""The symbolic core: types, variables, Apply nodes, Op props, traversal, static shapes,
construction-time shape errors, and pickling of graphs."""
import pickle

import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.graph import ops
from mlcore.graph.basic import (Apply, Constant, Op, SharedVariable, TensorType, Variable, graph_inputs,
                                shared, toposort)
from mlcore.graph.fgraph import FunctionGraph
from mlcore.graph.ops.elemwise import Add, Exp
from mlcore.graph.ops.reduce import Sum
from mlcore.graph.ops.shape import DimShuffle


def test_tensor_type_dtype_shape_and_broadcastable():
    t = TensorType("float32", (None, 1, 3))
    assert t.dtype == "float32" and t.ndim == 3 and t.shape == (None, 1, 3)
    assert t.broadcastable == (False, True, False)
    assert t == TensorType(np.float32, [None, 1, 3]) and hash(t) == hash(TensorType("float32", (None, 1, 3)))
    assert t != TensorType("float64", (None, 1, 3))
    assert repr(t) == "Tensor(float32, (?, 1, 3))"
    assert repr(TensorType("int64", (None,))) == "Tensor(int64, (?,))"
    assert TensorType("float32", (False, True)).shape == (None, 1)            # Theano's broadcastable
    assert TensorType("float32", broadcastable=(True, False, False)).shape == (1, None, None)


def test_tensor_type_filter_converts_or_names_the_input():
    t = TensorType("float32", (None, 2))
    assert t.filter([[1, 2]], "x").dtype == np.float32          # ints cast safely to float32
    with pytest.raises(TypeError, match="x expects dtype float32 but got float64"):
        t.filter(np.zeros((1, 2)), "x")
    assert t.filter(np.zeros((1, 2)), "x", allow_downcast=True).dtype == np.float32
    with pytest.raises(TypeError, match="expects 2 dimensions"):
        t.filter(np.zeros(2, "float32"), "x")
    with pytest.raises(ValueError, match=r"x expects shape .* but got \(1, 3\)"):
        t.filter(np.zeros((1, 3), "float32"), "x")


def test_variables_have_types_names_and_owners():
    x = T.matrix("x", dtype="float64")
    assert isinstance(x, Variable) and x.owner is None and x.name == "x" and repr(x) == "x"
    assert x.dtype == "float64" and x.ndim == 2 and x.static_shape == (None, None)
    y = T.exp(x)
    assert isinstance(y.owner, Apply) and isinstance(y.owner.op, Exp) and y.owner.inputs == [x]
    assert y.owner.outputs == [y] and y.index == 0
    assert repr(y) == "exp" and repr(y.owner) == "exp(x)"


def test_constants_are_read_only_and_shared_variables_hold_one_value():
    c = T.constant(np.arange(3.0))
    assert isinstance(c, Constant) and not c.data.flags.writeable
    assert c.signature() == T.constant(np.arange(3.0)).signature()
    s = shared(np.zeros(3), name="s", shape=(3,))
    assert isinstance(s, SharedVariable) and s.type == TensorType("float64", (3,))
    value = s.get_value()
    value[0] = 5                                   # get_value() copies
    assert s.get_value()[0] == 0
    s.set_value([1, 2, 3])                         # ints are cast to the variable's float64
    assert s.get_value().dtype == np.float64 and s.get_value().tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="shape"):
        s.set_value(np.zeros(4))
    with pytest.raises(TypeError, match="float64"):
        shared(np.zeros(2, "int32")).set_value(np.zeros(2))
    assert shared(np.zeros((2, 3)), shape=(None, 3)).type.shape == (None, 3)
    assert s.clone() is s


def test_shared_variables_fix_only_their_number_of_dims_as_in_theano():
    s = shared(np.zeros((2, 3)), name="s")
    assert s.type == TensorType("float64", (None, None))
    x = T.dmatrix("x")
    f = mlcore.function([x], T.dot(x, s))
    assert f(np.ones((1, 2))).shape == (1, 3)
    s.set_value(np.ones((2, 5)))                   # the sizes may change, as Theano's set_value allows
    np.testing.assert_array_equal(f(np.ones((1, 2))), np.full((1, 5), 2.0))
    with pytest.raises(ValueError, match="shape"):
        s.set_value(np.zeros(4))                   # the number of dims may not
    assert shared(np.zeros((1, 3)), broadcastable=(True, False)).type.shape == (1, None)


def test_op_props_give_equality_hash_and_printing():
    assert Sum((0,)) == Sum((0,)) and hash(Sum((0,))) == hash(Sum((0,)))
    assert Sum((0,)) != Sum((1,)) and Sum((0,)) != Sum((0,), keepdims=True)
    assert DimShuffle([1, 0]) == DimShuffle((1, 0))
    assert Add() == Add() and Add() != Exp()
    assert str(Sum((0, 1), keepdims=True)) == "Sum{0,1, keepdims}" and str(Sum(None)) == "Sum{all}"
    assert str(DimShuffle(("x", 0))) == "DimShuffle{x,0}" and str(Add()) == "add"

    class Scale(Op):
        __props__ = ("factor",)

        def __init__(self, factor):
            self.factor = factor
    assert str(Scale(2)) == "Scale{2}" and Scale(2) == Scale(2) and Scale(2) != Scale(3)


def test_op_without_gradient_says_so():
    with pytest.raises(NotImplementedError, match="has no gradient"):
        Op().pullback([], [], [])


def test_toposort_and_graph_inputs():
    x, y = T.dvector("x"), T.dvector("y")
    a = T.exp(x)
    out = a * y + a
    order = toposort([out])
    assert [type(n.op).__name__ for n in order] == ["Exp", "Mul", "Add"]
    assert graph_inputs([out]) == [x, y]
    assert toposort([out], blockers=[a])[0].op == ops.elemwise.Mul()


def test_toposort_handles_deep_graphs_without_recursion():
    x = T.dscalar("x")
    y = x
    for _ in range(5000):
        y = y + 1.0
    assert len(toposort([y])) == 5000


def test_function_graph_copies_and_replaces_without_touching_user_graph():
    x = T.dvector("x")
    y = T.exp(x) + 1
    fgraph = FunctionGraph([x], [y])
    assert fgraph.outputs[0] is not y and fgraph.inputs == [x]
    node = fgraph.outputs[0].owner
    fgraph.replace([(node.inputs[0], x)])
    assert fgraph.outputs[0].owner.inputs[0] is x
    assert isinstance(y.owner.inputs[0].owner.op, Exp)     # the user's graph is unchanged
    users = fgraph.clients()
    assert users[id(fgraph.outputs[0])] == [("output", 0)]


def test_static_shapes_are_inferred():
    x = T.matrix(shape=(None, 3))
    assert (x + T.row(shape=(1, 3))).type.shape == (None, 3)
    assert (x + 1).type.shape == (None, 3)
    assert T.dot(x, T.matrix(shape=(3, 5))).type.shape == (None, 5)
    assert x.sum(axis=0).type.shape == (3,) and x.sum(axis=1, keepdims=True).type.shape == (None, 1)
    assert x.T.type.shape == (3, None) and x.dimshuffle(1, "x", 0).type.shape == (3, 1, None)
    assert T.concatenate([x, x], axis=1).type.shape == (None, 6)
    assert T.stack([x, x]).type.shape == (2, None, 3)
    assert x[1:, ::2].type.shape == (None, 2) and x[0].type.shape == (3,)
    assert T.matrix(shape=(4, 3))[[0, 1, 1]].type.shape == (3, 3)
    assert T.matrix(shape=(4, 6)).reshape((2, -1)).type.shape == (2, 12)
    assert T.pad(x, 1).type.shape == (None, 5)
    assert T.zeros((2, 3)).type.shape == (2, 3)


def test_shape_of_static_dims_is_a_constant():
    x = T.matrix(shape=(None, 3))
    assert isinstance(T.matrix(shape=(2, 3)).shape.vector, Constant)
    assert not isinstance(x.shape.vector, Constant)
    assert x.shape[1] * 2 == 6                     # a known dim is a Python int


def test_shape_is_keras_static_tuple_and_theano_symbolic_vector():
    x = T.matrix("x", shape=(None, 3))
    value = np.arange(12.0, dtype=x.dtype).reshape(4, 3)
    assert x.shape == (None, 3) and repr(x.shape) == "(None, 3)" and len(x.shape) == 2
    assert x.shape[1] == 3 and isinstance(x.shape[0], Variable)
    assert x.shape[0].eval({x: value}) == 4
    assert mlcore.function([x], x.shape)(value).tolist() == [4, 3]        # one int vector, as Theano
    assert x.shape.eval({x: value}).tolist() == [4, 3]
    assert (x.shape * 2).eval({x: value}).tolist() == [8, 6]
    rows, cols = x.shape
    assert cols == 3 and rows.eval({x: value}) == 4
    assert x.reshape((x.shape[0], -1, 1)).eval({x: value}).shape == (4, 3, 1)
    widened = x.shape[:-1] + (5,)                  # Keras's idiom: still usable as a shape
    assert widened == (None, 5) and T.zeros(widened).eval({x: value}).shape == (4, 5)
    assert (None,) + x.shape[1:] == (None, 3)
    assert T.prod(x.shape).eval({x: value}) == 12


@pytest.mark.parametrize("build, shapes", [
    (lambda: T.matrix("a", shape=(None, 3)) + T.matrix("b", shape=(None, 4)), ("(?, 3)", "(?, 4)")),
    (lambda: T.dot(T.matrix(shape=(2, 3)), T.matrix(shape=(4, 5))), ("(2, 3)", "(4, 5)")),
    (lambda: T.matrix(shape=(5, 3)) @ T.vector(shape=(4,)), ("(5, 3)", "(4,)")),
    (lambda: T.dot(T.vector(shape=(2,)), T.tensor3(shape=(4, 3, 5))), ("(2,)", "(4, 3, 5)")),
    (lambda: T.concatenate([T.matrix(shape=(2, 3)), T.matrix(shape=(2, 4))], axis=0), ("(2, 3)", "(2, 4)")),
    (lambda: T.maximum(T.vector(shape=(2,)), T.vector(shape=(3,))), ("(2,)", "(3,)")),
    (lambda: T.matrix(shape=(2, 3)).reshape((4, 2)), ("(2, 3)", "(4, 2)")),
    (lambda: T.nnet.conv2d(T.tensor4(shape=(1, 3, 5, 5)), T.tensor4(shape=(2, 4, 3, 3))), ("3", "4")),
])
def test_shape_errors_raise_at_construction_naming_both_shapes(build, shapes):
    with pytest.raises(ValueError) as err:
        build()
    message = str(err.value)
    for s in shapes:
        assert s in message, message


def test_other_construction_errors():
    x = T.matrix()
    with pytest.raises(ValueError, match="out of bounds"):
        x.sum(axis=2)
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(TypeError, match="must be integer"):
        x[T.vector()]
    with pytest.raises(ValueError, match="not statically 1"):
        x.dimshuffle(0)
    with pytest.raises(ValueError, match="same number of dims"):
        T.concatenate([x, T.vector()])
    with pytest.raises(TypeError, match="not iterable"):
        list(x)


def test_as_tensor_variable_and_python_scalars_keep_tensor_dtypes():
    assert T.as_tensor_variable(np.arange(3)).dtype == "int64"
    assert T.as_tensor_variable(np.float32(2)).dtype == "float32"
    assert T.as_tensor_variable([1.0, 2.0], ndim=1).type.shape == (2,)
    assert T.as_tensor_variable([1.0, 2.0], ndim=2).type.shape == (1, 2)     # padded on the left, as Theano
    with pytest.raises(TypeError, match="Expected a 1-d"):
        T.as_tensor_variable([[1.0], [2.0]], ndim=1)
    i = T.lscalar()
    assert T.as_tensor_variable([i, 2]).type == TensorType("int64", (2,))
    assert (T.fvector() * 2.5).dtype == "float32" and (2 ** T.fvector()).dtype == "float32"
    assert (T.dvector() * np.float32(2)).dtype == "float64"
    assert (T.ivector() * 2).dtype == "int32" and (T.bvector() + T.ivector()).dtype == "int32"
    assert (T.ivector() / T.ivector()).dtype == mlcore.config.floatx()
    assert (T.fvector() + T.dvector()).dtype == "float64"
    assert (T.fvector() < 1).dtype == "bool"


def test_pickled_graphs_and_shared_variables_round_trip():
    x = T.dmatrix("x")
    w = shared(np.arange(3.0), name="w")
    y = T.nnet.softmax(T.dot(x, w.dimshuffle(0, "x")) + 1).sum()
    x2, w2, y2 = pickle.loads(pickle.dumps((x, w, y)))
    assert w2.get_value().tolist() == [0, 1, 2] and w2.name == "w"
    assert [type(n.op) for n in toposort([y2])] == [type(n.op) for n in toposort([y])]
    assert {id(v) for v in graph_inputs([y2])} >= {id(x2), id(w2)}
    value = mlcore.function([x2], y2, backend="numpy")(np.ones((2, 3)))
    assert np.isclose(value, 2.0)


def test_a_numpy_array_on_the_left_builds_a_graph_as_in_theano():
    x = T.dvector("x")
    out = np.array([1.0, 2.0, 3.0]) + x * np.float64(2.0)
    assert isinstance(out, Variable)
    np.testing.assert_array_equal(out.eval({x: np.ones(3)}), [3.0, 4.0, 5.0])
