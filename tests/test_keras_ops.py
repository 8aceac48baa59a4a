"""mlcore.ops against keras.ops itself (Keras 3 on jax): each name, called with Keras's argument
names, compiled on the numpy reference backend, must give Keras's values (and the same kind of
dtype: bool, int or float).  Inputs are symbolic, with known shapes and with an unknown batch
size, so the ops' symbolic-shape paths run too."""
import numpy as np
import pytest

import mlcore
from mlcore import ops
from mlcore.graph.basic import TensorType
from keras_op_cases import (CASES, CUBE, KERNEL_OPS, LABELS, ONE_HOT, ORDER, POS, PROBS, SCALAR, SIGMOIDS, SQUEEZABLE,
                            TARGETS_01, VEC, X, Y)

keras = pytest.importorskip("keras")


def _symbolic(value, unknown_batch):
    """A graph input standing for a numpy array (the leading size unknown if asked and not 1,
    as a Keras batch; a size-1 axis stays known, which is how it broadcasts)."""
    shape = value.shape
    if unknown_batch and value.ndim >= 2 and shape[0] != 1:
        shape = (None,) + shape[1:]
    return TensorType(value.dtype, shape)()


def _mlcore(name, args, kwargs, unknown_batch, backend):
    """ops.<name> on symbolic stand-ins for the array arguments, compiled and run."""
    feed = {}
    inputs_only = name in KERNEL_OPS

    def stand_in(value):
        if isinstance(value, np.ndarray):
            unknown = unknown_batch and (not inputs_only or value is args[0])
            return feed.setdefault(id(value), (_symbolic(value, unknown), value))[0]
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            return [stand_in(v) for v in value]
        return value
    out = getattr(ops, name)(*[stand_in(a) for a in args], **{k: stand_in(v) for k, v in kwargs.items()})
    inputs = list(feed.values())
    outputs = list(out) if isinstance(out, (list, tuple)) else out
    return mlcore.function([v for v, _ in inputs], outputs, backend=backend)(*[a for _, a in inputs])


def _case_id(case):
    name, args, kwargs = case
    return "%s-%s" % (name, "-".join(
        "x".join(map(str, a.shape)) if isinstance(a, np.ndarray) else str(a)[:12] for a in args)
        + ("-" + ",".join("%s=%s" % (k, str(v)[:8]) for k, v in kwargs.items()) if kwargs else ""))


@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("unknown_batch", [False, True], ids=["static", "unknown_batch"])
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_op_matches_keras(case, unknown_batch, backend, require_backend):
    name, args, kwargs = case
    if unknown_batch and name == "unstack" and kwargs.get("axis", 0) == 0:
        pytest.skip("unstack gives as many tensors as the size of its axis: that size must be known")
    expected = getattr(keras.ops, name)(*args, **kwargs)
    got = _mlcore(name, args, kwargs, unknown_batch, require_backend(backend))
    expected, got = (list(v) if isinstance(v, (list, tuple)) else [v] for v in (expected, got))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        e = keras.ops.convert_to_numpy(e)
        assert g.shape == e.shape
        assert np.dtype(g.dtype).kind == np.dtype(e.dtype).kind or {g.dtype.kind, e.dtype.kind} <= {"i", "u"}
        np.testing.assert_allclose(g, e, rtol=2e-6 if e.dtype.kind == "f" else 0, atol=1e-6)


def test_shape_is_a_tuple_with_symbolic_entries_where_the_size_is_unknown():
    x = TensorType("float32", (None, 3, 4))()
    dims = ops.shape(x)
    assert isinstance(dims, tuple) and dims[1:] == (3, 4) and ops.is_tensor(dims[0]) and dims[0].ndim == 0
    assert ops.shape(np.zeros((2, 5))) == (2, 5)
    flat = ops.reshape(x, (dims[0], -1))       # Keras's idiom: the batch size, from the run
    tiled = ops.zeros((dims[0], dims[1] * 2))
    value = np.arange(24, dtype="float32").reshape(2, 3, 4)
    got_flat, got_zeros = mlcore.function([x], [flat, tiled])(value)
    np.testing.assert_array_equal(got_flat, value.reshape(2, 12))
    assert got_zeros.shape == (2, 6) and not got_zeros.any()
    assert ops.size(np.zeros((2, 3))) == 6 and ops.ndim(x) == 3


def test_ops_on_values_run_at_once_and_ops_on_graph_variables_build_graphs():
    y = ops.square(np.array([1.0, -2.0, 3.0], dtype="float32"))
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    np.testing.assert_array_equal(y, [1.0, 4.0, 9.0])
    assert ops.sum(ops.convert_to_tensor([1.0, 2.0])) == 3.0 and ops.square(3.0) == 9.0
    first, second = ops.split(np.arange(4.0), 2)
    np.testing.assert_array_equal(second, [2.0, 3.0])
    x = TensorType("float32", (None,))()
    z = ops.square(x)
    assert ops.is_tensor(z) and not ops.is_tensor(np.ones(2))
    np.testing.assert_array_equal(mlcore.function([x], z)(np.array([1.0, -2.0], "float32")), [1.0, 4.0])
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.convert_to_tensor([1, 2])), [1, 2])


@pytest.mark.parametrize("namespace", ["nn", "linalg", "numpy", "image"])
def test_the_sub_namespaces_run_at_once_on_values_as_keras_ops_does(namespace):
    """keras.ops.nn.relu(array) is an array, as keras.ops.relu(array): nn's activations were once left
    unwrapped there (they are made in ops.core) and gave graph constants."""
    module = getattr(ops, namespace)
    for name in getattr(module, "__all__", vars(module)):   # none is the unwrapped function behind ops.<name>
        assert getattr(getattr(ops, name, None), "__wrapped__", None) is not getattr(module, name), name
    x = np.array([-1.0, 0.5, 2.0], dtype="float32")
    for name in ("relu", "relu6", "selu", "sigmoid", "hard_sigmoid", "log_sigmoid", "silu", "hard_silu", "swish",
                 "hard_swish", "hard_tanh", "softplus", "softsign", "tanh_shrink", "sparse_plus", "sparse_sigmoid"):
        out = getattr(ops.nn, name)(x)
        assert isinstance(out, np.ndarray) and out.dtype == np.float32, name
    np.testing.assert_allclose(ops.nn.relu(x), [0.0, 0.5, 2.0])
    np.testing.assert_allclose(ops.nn.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-6)
    np.testing.assert_allclose(ops.linalg.norm(x), np.linalg.norm(x), rtol=1e-6)


def test_convert_to_tensor_dtypes_follow_keras():
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == "float32"       # Python floats become floatx
    assert ops.convert_to_tensor(2.5).dtype == "float32"
    assert ops.convert_to_tensor(np.zeros(2)).dtype == "float64"       # an array keeps its dtype
    assert ops.convert_to_tensor([1, 2], dtype="int32").dtype == "int32"
    assert ops.dtype(ops.convert_to_tensor([True])) == "bool"
    x = TensorType("float32", (2,))()
    assert ops.convert_to_tensor(x) is x and ops.convert_to_tensor(x, "float64").dtype == "float64"
    assert ops.multiply(TensorType("float16", (2,))(), 2.5).dtype == "float16"     # numbers stay weak
    with pytest.raises(ValueError, match="dense"):
        ops.convert_to_tensor([1.0], sparse=True)


def test_stop_gradient_passes_values_and_blocks_gradients():
    x = TensorType("float64", (3,))()
    cost = ops.sum(ops.stop_gradient(x) * x)
    value = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(mlcore.function([x], mlcore.grad(cost, x))(value), value)


@pytest.mark.parametrize("name, args, kwargs", [
    ("logsumexp", (CUBE,), {"axis": 1}),
    ("logaddexp", (X, Y), {}),
    ("tile", (X,), {"repeats": (2, 3)}),
    ("repeat", (X,), {"repeats": 2, "axis": 0}),
    ("take", (X, LABELS[:3]), {"axis": 1}),
    ("average", (X,), {"axis": 1, "weights": VEC + 3}),
    ("batch_normalization", (X, VEC, POS[0], 1), {"scale": POS[1]}),
    ("tril", (X,), {"k": 1}),
    ("broadcast_to", (VEC,), {"shape": (3, 4)}),
    ("cumsum", (CUBE,), {"axis": 1}),
    ("cumprod", (POS,), {"axis": 0}),
    ("sort", (X,), {"axis": 0}),
    ("take_along_axis", (X, ORDER), {"axis": 1}),
    ("roll", (CUBE, (1, -3)), {"axis": (0, 2)}),
    ("diagonal", (CUBE,), {"offset": 1, "axis1": 2, "axis2": 0}),
    ("trace", (X,), {}),
    ("triu", (CUBE,), {"k": -1}),
    ("tan", (X,), {}),
    ("arctan2", (X, Y), {}),
])
def test_gradients_of_composite_ops_match_finite_differences(name, args, kwargs, numeric_grad):
    """d sum(op(x) * r) / dx for random r, in float64, against central differences."""
    x0 = args[0].astype("float64")
    x = TensorType("float64", x0.shape)()
    out = getattr(ops, name)(x, *args[1:], **kwargs)
    r = np.random.default_rng(0).normal(size=mlcore.function([x], out)(x0).shape)
    cost = ops.sum(out * r)
    got = mlcore.function([x], mlcore.grad(cost, x))(x0)
    f = mlcore.function([x], cost)
    np.testing.assert_allclose(got, numeric_grad(lambda v: f(v), [x0], 0), rtol=1e-6, atol=1e-7)


def test_keras_errors():
    with pytest.raises(ValueError, match="either both should be `None`"):
        ops.where(X > 0, X)
    with pytest.raises(ValueError, match="data-dependent"):
        ops.where(X > 0)
    with pytest.raises(ValueError, match="Cannot squeeze axis 0, because the dimension is not 1."):
        ops.squeeze(SQUEEZABLE, axis=0)
    with pytest.raises(ValueError, match="must have the same shape"):
        ops.categorical_crossentropy(ONE_HOT, PROBS.T)
    with pytest.raises(ValueError, match="must have the same shape"):
        ops.binary_crossentropy(TARGETS_01[0], SIGMOIDS)
    with pytest.raises(ValueError, match="cannot be cut into 3 equal sections"):
        ops.split(X, 3, axis=1)


def test_keras_errors_of_the_ops_on_the_graphs_ops():
    with pytest.raises(ValueError, match="out of bounds"):
        ops.sort(SCALAR)                                  # as Keras: a scalar has no axis -1
    with pytest.raises(ValueError, match="cannot be the same"):
        ops.diagonal(X, axis1=1, axis2=-1)
    with pytest.raises(ValueError, match="must be a vector or a matrix"):
        ops.diag(CUBE)
    with pytest.raises(ValueError, match="indices need x's 2 axes"):
        ops.take_along_axis(X, LABELS, axis=1)
    with pytest.raises(ValueError, match="Cannot squeeze axis 1, because the dimension is not 1."):
        ops.squeeze(CUBE, axis=(1,))


def test_ops_with_a_graph_op_are_that_op_not_a_composition():
    """tan, sinh, log2, reciprocal... are one elementwise node of the graph's (which fuses and
    runs as one kernel), not the sin / cos or exp compositions numpy's formulas suggest."""
    x = TensorType("float32", (None, 3))()
    for name in ("tan", "sinh", "cosh", "log2", "log10", "exp2", "reciprocal", "arcsin", "erf", "isnan"):
        node = getattr(ops, name)(x).owner
        assert type(node.op).__name__.lower() == name and node.inputs == [x], name


def test_new_ops_on_values_run_at_once():
    np.testing.assert_array_equal(ops.cumsum([1, 2, 3]), [1, 3, 6])
    np.testing.assert_array_equal(ops.argsort(np.array([3.0, 1.0, 2.0])), [1, 2, 0])
    np.testing.assert_array_equal(ops.roll(np.arange(5), 2), [3, 4, 0, 1, 2])
    close = ops.allclose(X, X + 1e-7)
    assert isinstance(close, np.ndarray) and close.dtype == bool and close


@pytest.mark.parametrize("unknown", [False, True], ids=["static", "unknown_shape"])
def test_graph_helpers_keras_needs_match_numpy(backend, unknown):
    """The graph's tri/tril/triu, diagonal, diag of a vector and take_along_axis's broadcasting
    index (mlcore.graph.ops), which keras.ops calls, on every backend, with static shapes (where
    small constants fold while the graph is built) and with shapes known only at run time."""
    from mlcore.graph.ops import along_axis, extra_ops
    cube = TensorType("float64", (None,) * 3 if unknown else CUBE.shape)()
    vec = TensorType("float64", (None,) if unknown else VEC.shape)()
    index = TensorType("int64", (1, None, 1) if unknown else (1, 3, 1))()
    cube_value, vec_value, index_value = CUBE.astype("float64"), VEC.astype("float64"), np.array([[[2], [0], [1]]])
    outputs = [extra_ops.tri(3, 5, -1), extra_ops.tril(cube, 1), extra_ops.triu(cube, -1),
               extra_ops.diagonal(cube, -1, 2, 1), extra_ops.diag(vec), extra_ops.diag(vec, 2),
               cube[along_axis.along_axis_key(index, 2, extra_ops.dims(cube))]]
    expected = [np.tri(3, 5, -1), np.tril(cube_value, 1), np.triu(cube_value, -1),
                np.diagonal(cube_value, -1, 2, 1), np.diag(vec_value), np.diag(vec_value, 2),
                np.take_along_axis(cube_value, np.broadcast_to(index_value, (2, 3, 1)), 2)]
    got = mlcore.function([cube, vec, index], outputs, backend=backend, on_unused_input="ignore")(
        cube_value, vec_value, index_value)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_array_equal(g, e)


def test_squeeze_of_an_axis_of_unknown_size_checks_it_at_run_time():
    x = TensorType("float32", (None, None))()
    f = mlcore.function([x], ops.squeeze(x, axis=1), backend="numpy")
    np.testing.assert_array_equal(f(np.ones((3, 1), "float32")), np.ones(3))
    with pytest.raises(ValueError):
        f(np.ones((3, 2), "float32"))


def test_names_from_before_keras_ops_still_work():
    import mlcore.ops as ops_module
    from mlcore import ops as ops_attribute
    assert ops_module is ops_attribute is mlcore.ops
    x = TensorType("float32", (2, 3))()
    value = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(mlcore.function([x], ops.sum_(ops.sqr(x)))(value), (value ** 2).sum())
    assert ops.max_pool2d is ops.max_pool and ops.avg_pool2d is ops.average_pool and ops.conv2d is ops.conv


def test_a_lambda_layer_and_a_loss_written_with_ops_match_keras():
    """The same model, with a Lambda layer and a custom loss written against keras.ops, in Keras and
    in mlcore (imported under the same name), gives the same predictions and the same loss."""
    import mlcore as mk
    data = np.random.default_rng(1).normal(size=(8, 5)).astype("float32")
    targets = np.random.default_rng(2).normal(size=(8, 10)).astype("float32")
    results = []
    for lib in (keras, mk):
        K = lib.ops

        def features(t):
            centred = t - K.mean(t, axis=-1, keepdims=True)
            return K.concatenate([K.square(centred), K.abs(t)], axis=-1)

        def loss(y_true, y_pred):
            return K.mean(K.square(y_true - y_pred), axis=-1) + 0.1 * K.max(K.abs(y_pred), axis=-1)

        inputs = lib.Input((5,))
        model = lib.Model(inputs, lib.layers.Lambda(features)(inputs))
        model.compile(optimizer="sgd", loss=loss)
        results.append((model.predict(data, verbose=0), model.evaluate(data, targets, verbose=0)))
    (kp, kl), (mp, ml) = results
    np.testing.assert_allclose(mp, kp, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ml, kl, rtol=1e-5)
