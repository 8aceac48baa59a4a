"""Keras 3.15's own docstring examples (the ">>> " lines of keras/src/ops, layers, metrics, ...) that mlcore
got wrong, each run on real Keras (jax) and on mlcore in the same test and compared: the value every
example ends with, its shape, its dtype (Keras on jax narrows 64-bit results to 32 bits unless jax's x64
is on, mlcore keeps them, as Keras on TensorFlow: int64 and int32 count as one) and its numbers."""
import numpy as np
import pytest

import mlcore

NARROWED = {"int64": "int32", "float64": "float32", "complex128": "complex64"}

# (name, the example's code, which leaves its value in `result`)
EXAMPLES = [
    # ops.einsum: a letter repeated in one operand reads the diagonal; implicit output keeps "..."
    ("einsum trace", 'a = np.arange(25).reshape(5, 5)\nresult = ops.einsum("ii", a)'),
    ("einsum diagonal", 'a = np.arange(25).reshape(5, 5)\nresult = ops.einsum("ii -> i", a)'),
    ("einsum batched diagonal", 'a = np.arange(18.0).reshape(2, 3, 3)\nresult = ops.einsum("bii->bi", a)'),
    ("einsum diagonal times vector", 'a = np.arange(9.0).reshape(3, 3)\nresult = ops.einsum("ii,i", a, np.ones(3))'),
    ("einsum implicit ellipsis", 'a = np.arange(25).reshape(5, 5)\nb = np.arange(5)\n'
                                 'result = ops.einsum("...j, j", a, b)'),
    # ops.map, scan, fori_loop, cond, switch: arrays back when called on arrays; map's nested outputs
    ("map", "xs = keras.ops.arange(10)\nresult = keras.ops.map(lambda x: x**2, xs)"),
    ("map nested outputs", 'xs = keras.ops.arange(10)\n'
                           'result = keras.ops.map(lambda x: {"y1": x**2, "y2": x * 10}, xs)'),
    ("map nested inputs", 'xs = {"a": np.arange(4.0), "b": np.ones(4)}\n'
                          'result = keras.ops.map(lambda d: d["a"] * d["b"] + 1, xs)'),
    ("scan", "sum_fn = lambda c, x: (c + x, c + x)\ninit = keras.ops.array(0)\n"
             "xs = keras.ops.array([1, 2, 3, 4, 5])\nresult = keras.ops.scan(sum_fn, init, xs)"),
    ("fori_loop", "result = keras.ops.fori_loop(0, 10, lambda i, x: x + i, 0)"),
    ("cond", "result = keras.ops.cond(np.array(False), lambda: np.ones(2), lambda: np.zeros(2))"),
    ("switch 0", "add_fn = lambda x, y: x + y\nsubtract_fn = lambda x, y: x - y\nx = keras.ops.array(2.0)\n"
                 "y = keras.ops.array(0.5)\nresult = keras.ops.switch(0, [add_fn, subtract_fn], x, y)"),
    ("switch 1", "add_fn = lambda x, y: x + y\nsubtract_fn = lambda x, y: x - y\nx = keras.ops.array(2.0)\n"
                 "y = keras.ops.array(0.5)\nresult = keras.ops.switch(1, [add_fn, subtract_fn], x, y)"),
    ("switch clipped index", "fns = [lambda x: x + 1, lambda x: x * 10, lambda x: -x]\n"
                             "result = [keras.ops.switch(i, fns, np.float32(3)) for i in (-2, 1, 7)]"),
    # ops.scatter_update on small arrays (folded to constants while the graph is built)
    ("scatter_update add", "inputs = np.zeros((4,))\nindices = [[0], [0], [1]]\nupdates = np.array([1., 1., 1.])\n"
                           'result = keras.ops.scatter_update(inputs, indices, updates, reduction="add")'),
    ("scatter_update rows", "inputs = np.zeros((4, 4, 4))\nindices = [[1, 2], [2, 3]]\n"
                            "updates = np.array([[1., 1., 1, 1,], [1., 1., 1, 1,]])\n"
                            "result = keras.ops.scatter_update(inputs, indices, updates)"),
    ("scatter", "result = keras.ops.scatter(np.array([[0], [0], [3]]), np.array([1., 2., 5.], 'float32'), (4,))"),
    # keras.ops.nn.<name> runs at once on arrays, as keras.ops.<name>
    ("nn.psnr", "x1 = keras.ops.array([[0.1, 0.2], [0.3, 0.4]])\nx2 = keras.ops.array([[0.1, 0.2], [0.3, 0.5]])\n"
                "result = keras.ops.nn.psnr(x1, x2, 1.0)"),
    # SparseTopKCategoricalAccuracy(from_sorted_ids=True)
    ("SparseTopKCategoricalAccuracy from_sorted_ids",
     "m = keras.metrics.SparseTopKCategoricalAccuracy(k=1, from_sorted_ids=True)\n"
     "m.update_state([2, 1], [[1, 0, 3], [1, 2, 3]])\nresult = m.result()"),
    ("sparse_top_k_categorical_accuracy from_sorted_ids",
     "result = keras.metrics.sparse_top_k_categorical_accuracy([2, 1, 5], [[1, 0, 3], [1, 2, 3], [5, 4, 0]], k=2,\n"
     "                                                         from_sorted_ids=True)"),
    # a layer called on a Python list of numbers takes it as one tensor
    ("CategoryEncoding one_hot on a list",
     'layer = keras.layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")\nresult = layer([3, 2, 0, 1])'),
    ("CategoryEncoding multi_hot on a list",
     'layer = keras.layers.CategoryEncoding(num_tokens=4, output_mode="multi_hot")\n'
     "result = layer([[0, 1], [0, 0], [1, 2], [3, 1]])"),
    ("CategoryEncoding count on a list",
     'layer = keras.layers.CategoryEncoding(num_tokens=4, output_mode="count")\n'
     "count_weights = np.array([[.1, .2], [.1, .1], [.2, .3], [.4, .2]])\n"
     "result = layer([[0, 1], [0, 0], [1, 2], [3, 1]], count_weights=count_weights)"),
    ("Discretization on a list", "layer = keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])\n"
                                 "result = layer([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])"),
    # keras.KerasTensor
    ("KerasTensor", 'x = keras.KerasTensor(shape=(3, 4), dtype="float32")\n'
                    "result = (x.shape, x.dtype, isinstance(x, keras.KerasTensor))"),
    ("KerasTensor through a layer", 'x = keras.KerasTensor(shape=(None, 4), dtype="float32")\n'
                                    "y = keras.layers.Dense(3)(x)\n"
                                    "result = (y.shape, isinstance(y, keras.KerasTensor))"),
    ("KerasTensor is not an array", "result = [isinstance(x, keras.KerasTensor) for x in\n"
                                    "          (np.ones(2), keras.ops.convert_to_tensor([1.0]), 1.0)]"),
]


def _run(module, code):
    namespace = {"np": np, "keras": module, "ops": module.ops}
    exec(code, namespace)
    return _plain(namespace["result"], module)


def _plain(value, module):
    """The value as numpy arrays and Python containers (dicts, lists; tuples as lists, a shape by its static
    entries: mlcore's x.shape[0] is a symbolic scalar where the dim is unknown, Theano's reading)."""
    if isinstance(value, dict):
        return {key: _plain(item, module) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = tuple.__getitem__(value, slice(None)) if isinstance(value, tuple) else value
        return [_plain(item, module) for item in items]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return np.asarray(module.ops.convert_to_numpy(value))


def _assert_same(expected, got, where="result"):
    if isinstance(expected, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(expected), (where, got)
        for key in expected:
            _assert_same(expected[key], got[key], "%s[%r]" % (where, key))
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), (where, got)
        for k, (e, g) in enumerate(zip(expected, got)):
            _assert_same(e, g, "%s[%d]" % (where, k))
    elif isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray), (where, got)
        assert got.shape == expected.shape, (where, got.shape, expected.shape)
        narrowed = [NARROWED.get(a.dtype.name, a.dtype.name) for a in (got, expected)]   # jax's x64 may be on
        assert narrowed[0] == narrowed[1], (where, got.dtype, expected.dtype)
        np.testing.assert_allclose(got, expected, rtol=1e-5, err_msg=where)
    else:
        assert got == expected, (where, got, expected)


@pytest.mark.parametrize("code", [code for _, code in EXAMPLES], ids=[name for name, _ in EXAMPLES])
def test_docstring_example_matches_keras(keras, code):
    _assert_same(_run(keras, code), _run(mlcore, code))


def test_map_scan_switch_stay_symbolic_on_symbolic_inputs():
    """On a graph input the function-taking ops build graphs, and those compute what the values give."""
    x = mlcore.KerasTensor((3,), "float32")
    outs = [mlcore.ops.map(lambda r: r * 2, x), mlcore.ops.scan(lambda c, r: (c + r, c), 0.0, x)[0],
            mlcore.ops.switch(mlcore.ops.cast(x[0], "int32"), [lambda v: v + 1, lambda v: v * 10], x)]
    assert all(isinstance(out, mlcore.KerasTensor) for out in outs)
    values = mlcore.function([x], outs)(np.array([1.0, 2.0, 3.0], "float32"))
    np.testing.assert_allclose(values[0], [2, 4, 6])
    np.testing.assert_allclose(values[1], 6)
    np.testing.assert_allclose(values[2], [10, 20, 30])


def test_set_subtensor_of_a_small_constant_matches_numpy():
    """x[key] of a small constant is folded to a constant while the graph is built; Theano's
    set_subtensor and inc_subtensor still find x and key in it."""
    import mlcore.tensor as T
    x = T.constant(np.arange(4.0))
    expected = np.arange(4.0)
    expected[1:3] = 7.0
    np.testing.assert_array_equal(T.set_subtensor(x[1:3], 7.0).eval(), expected)
    expected = np.arange(4.0)
    np.add.at(expected, [0, 0, 3], 1.0)           # a repeated index adds twice, as Theano's inc_subtensor
    np.testing.assert_array_equal(T.inc_subtensor(x[[0, 0, 3]], 1.0).eval(), expected)


def test_switch_without_branches_is_refused():
    with pytest.raises(ValueError, match="branches"):
        mlcore.ops.switch(0, [], np.ones(2))


def test_keras_tensor_refuses_sparse():
    with pytest.raises(ValueError, match="sparse=True"):
        mlcore.KerasTensor((2, 3), sparse=True)


def test_a_target_dim_of_one_broadcasts_over_the_output_as_in_keras(keras):
    """Keras's EarlyStopping/BackupAndRestore examples fit (n,) zeros to a Dense(10) in batches of 1: the
    target broadcasts over the ten outputs (Keras broadcasts a (1,) target, and fails on larger batches;
    mlcore reads (n,) as (n, 1) at any batch size); a target of another width is still refused."""
    x = np.arange(100, dtype="float32").reshape(5, 20) / 100
    losses = []
    for lib in (mlcore, keras):
        model = lib.Sequential([lib.Input((20,)), lib.layers.Dense(10, kernel_initializer="ones")])
        model.compile(lib.optimizers.SGD(), loss="mse")
        losses.append(model.evaluate(x, np.zeros(5), batch_size=1, verbose=0))
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-6)
    with pytest.raises(ValueError, match=r"its targets must have shape \(None, 10\)"):
        model = mlcore.Sequential([mlcore.Input((20,)), mlcore.layers.Dense(10)])
        model.compile("sgd", loss="mse")
        model.evaluate(x, np.zeros((5, 2)), verbose=0)
