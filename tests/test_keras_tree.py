"""keras.tree (mlcore.tree) against Keras 3's own on many nested structures: the same results, the
same errors (type and message), dict keys sorted, None a leaf, namedtuples and deques kept."""
import collections
import inspect

import numpy as np
import pytest

import mlcore
from mlcore import tree as mtree

P = collections.namedtuple("P", "x y")
Q = collections.namedtuple("Q", "x y")
OD, DD, DQ = collections.OrderedDict, collections.defaultdict, collections.deque

NESTED = [
    {"b": 1, "a": [2, None, (3,)]}, OD([("b", 1), ("a", 2)]), P(1, [2, 3]), "abc", {1, 2}, (), [()], {"a": {}},
    {"b": 1, "a": 2, 1: 0, 1.5: 7, None: 9}, {(1, 2): "x", (0, 5): "y"}, DQ([1, [2]]), DD(int, {"b": 1, "a": 2}),
    5, None, [None, {}], [[1, 2, 3], [4, [5], [[6]]]], {100: "world!", 6: "Hello"}, P(P(1, 2), {"k": [3]}),
    np.ones(2), [np.zeros(3), {"w": np.ones(1)}],
]


def outcome(function, *args, **kwargs):
    """(result's repr, or the error's type and message), for comparing two implementations."""
    try:
        return "ok", repr(function(*args, **kwargs))
    except Exception as err:     # the error is what is compared
        return type(err).__name__, str(err)


def same(keras, name, *args, **kwargs):
    assert outcome(getattr(mtree, name), *args, **kwargs) == outcome(getattr(keras.tree, name), *args, **kwargs)


def test_exports_and_signatures_are_keras_s(keras):
    names = sorted(n for n in dir(keras.tree) if not n.startswith("_"))
    assert sorted(mtree.__all__) == names
    for name in names:
        if name != "MAP_TO_NONE":
            assert inspect.signature(getattr(mtree, name)) == inspect.signature(getattr(keras.tree, name)), name
    assert mlcore.tree is mtree


@pytest.mark.parametrize("structure", NESTED, ids=range(len(NESTED)))
def test_one_structure_functions_match_keras(keras, structure):
    for name in ["flatten", "flatten_with_path", "is_nested", "lists_to_tuples"]:
        same(keras, name, structure)
    same(keras, "map_structure", repr, structure)
    same(keras, "map_structure", lambda x: x, structure, none_is_leaf=False)
    same(keras, "map_shape_structure", repr, structure)
    same(keras, "pack_sequence_as", structure, list(range(len(keras.tree.flatten(structure)))))
    same(keras, "assert_same_structure", structure, structure)
    for top_down in (True, False):
        same(keras, "traverse", lambda x: None, structure, top_down=top_down)
        same(keras, "traverse", lambda x: repr(x) if isinstance(x, (int, tuple)) else None, structure, top_down)


PAIRS = [
    ([1, (2, 3)], [4, (5, 6)]), ([1, (2, 3)], [4, [5, 6]]), ([1, 2], [1, 2, 3]), (1, [1]), ([1], 1),
    ({"a": 1}, OD(a=3)), (P(1, 2), (1, 2)), ((1, 2), P(1, 2)), (P(1, 2), Q(1, 2)), ([None], [1]), ([1], [None]),
    ([1], None), (None, [1]), ({"a": 1}, [1]), ([1], {"a": 1}), (DQ([1]), [1]), (DQ([1]), DQ([1, 2])),
    ({"a": 1, "b": 2}, {"a": 1, "c": 2}), (OD(a=1), {"b": 1}), ({"a": 1}, {"a": 1, "b": 2}),
    ({"a": 1, "b": 1}, {"a": 1}), ({"a": 1, 2: 3}, {"a": 1, 3: 3}), ((1,), (1, 2)), ({"a": 1}, {"a": [1]}),
    ({"a": 3, "b": 4}, OD([("b", 1), ("a", 2)])), (OD([("b", 1), ("a", 2)]), OD([("a", 3), ("b", 4)])),
    ([0, 1], (2, 3)), ([0, 1], (2, 3, 4)), ({"a": 1}, [1, 2]), (P(0, [1]), [5, [6]]),
]


@pytest.mark.parametrize("a, b", PAIRS, ids=range(len(PAIRS)))
def test_two_structure_functions_match_keras(keras, a, b):
    same(keras, "assert_same_structure", a, b)
    same(keras, "assert_same_paths", a, b)
    same(keras, "map_structure", lambda x, y: (x, y), a, b)
    same(keras, "map_structure", lambda x, y: (x, y), a, b, none_is_leaf=False)
    if None not in mtree.flatten(a):         # a None in a shallow structure: see the test below
        same(keras, "map_structure_up_to", a, lambda y: y, b)


def test_map_structure_up_to_and_pack_sequence_as_match_keras(keras):
    structure = [[1, 1], [2, 2]]
    same(keras, "map_structure_up_to", [1, [2, 3]], str, structure)
    same(keras, "map_structure_up_to", [1, [2, 3]], str, [[1, 1], 2])
    same(keras, "map_structure_up_to", [1, 2], lambda a, b: a + b, [1, 2], [3, 4])
    same(keras, "map_structure_up_to", {"a": 0}, len, {"a": [1], "b": 2})
    same(keras, "map_structure_up_to", 0, len, [1, 2])
    same(keras, "map_structure_up_to", [1], len)
    same(keras, "map_structure", len)
    for flat in ([1, 2], [1, 2, 3], [1, 2, 3, 4], "abc"):
        same(keras, "pack_sequence_as", {"b": 0, "a": [0, 0]}, flat)
    same(keras, "pack_sequence_as", 5, [1, 2])
    same(keras, "pack_sequence_as", [[], 0, ()], [5])


def test_traverse_map_to_none_and_shapes(keras):
    structure = [(1, 2), [3], {"a": 4}]
    for module in (mtree, keras.tree):
        dropped = module.traverse(lambda x: module.MAP_TO_NONE if x == 3 else None, structure)
        assert dropped == [(1, 2), [None], {"a": 4}]
    seen = {}
    for module in (mtree, keras.tree):
        seen[module] = []
        module.traverse(seen[module].append, structure, top_down=False)
    assert seen[mtree] == seen[keras.tree]
    shapes = {"a": (None, 3), "b": [(1, 2), [4]], "c": []}
    assert mtree.map_shape_structure(len, shapes) == keras.tree.map_shape_structure(len, shapes)


def test_documented_shallow_structure_of_nones():
    """Keras's docstring example (its optree version raises here, taking None as no leaf in the shallow
    structure; its dm-tree version gives this)."""
    structure = [[1, 1], [2, 2]]
    assert mtree.map_structure_up_to([None, None], len, structure) == [2, 2]
    assert mtree.map_structure_up_to([None, [None, None]], str, structure) == ["[1, 1]", ["2", "2"]]


def test_layers_walk_structures_with_the_tree_rules(keras):
    """A layer's inputs and outputs are flattened as keras.tree flattens them: a model taking a dict
    orders its inputs by key (as Keras's), and a namedtuple output keeps its type."""
    from mlcore.layers import structure
    assert structure.flatten is mtree.flatten and structure.map_structure is mtree.map_structure

    class Pair(mlcore.layers.Layer):
        def call(self, inputs):
            return P(inputs["b"] * 2.0, inputs["a"] + 1.0)
    inputs = {"b": mlcore.Input((2,), name="b"), "a": mlcore.Input((2,), name="a")}
    model = mlcore.Model(inputs, Pair()(inputs))
    keras_inputs = {"b": keras.Input((2,), name="b"), "a": keras.Input((2,), name="a")}
    keras_model = keras.Model(keras_inputs, keras.layers.Add()([keras_inputs["b"], keras_inputs["a"]]))
    assert [t.name for t in model.inputs] == [t.name for t in keras_model.inputs] == ["a", "b"]
    out = model.predict({"b": np.ones((1, 2), "float32"), "a": np.zeros((1, 2), "float32")}, verbose=0)
    np.testing.assert_allclose(np.asarray(out[0]), 2.0)
    np.testing.assert_allclose(np.asarray(out[1]), 1.0)
