"""Keras 3.15's last top-level names on mlcore, each beside real Keras: keras.Variable (Theano's graph
Variable class too), name_scope, StatelessScope, SymbolicScope, Operation, Function, remat, RematScope."""
import numpy as np
import pytest

import mlcore.ops  # noqa: F401  (keras.ops before keras.layers, as `import mlcore as keras` code meets them)
import mlcore as mk
import mlcore.tensor as T
from mlcore import function, grad


# --- keras.Variable and Theano's Variable --------------------------------------------------------
@pytest.mark.usefixtures("float32_jax")     # Keras's dtypes as in a fresh process (mlcore turns x64 on)
def test_variable_is_keras_and_theano(keras):
    value = np.arange(6, dtype="float32").reshape(2, 3)
    for lib in (keras, mk):
        v = lib.Variable(value, name="v")
        assert (v.name, v.path, tuple(v.shape), str(v.dtype), v.trainable) == ("v", "v", (2, 3), "float32", True)
        np.testing.assert_array_equal(np.asarray(v), value)
        w = lib.Variable("ones", shape=(2,), dtype="float16", trainable=False)
        assert (str(w.dtype), w.trainable, np.asarray(w).tolist()) == ("float16", False, [1.0, 1.0])
        assert str(lib.Variable(1.5).dtype) == "float32"       # Python floats in floatx
        with pytest.raises(ValueError, match="shape"):
            lib.Variable("zeros")
        with pytest.raises(ValueError, match="cannot contain character `/`"):
            lib.Variable(1.0, name="a/b")
    x = T.matrix("x")                               # Theano's uses of theano.Variable still hold
    assert isinstance(x, mk.Variable) and issubclass(T.TensorVariable, mk.Variable)
    made = mk.Variable(x.type, name="y")
    assert made.name == "y" and made.type == x.type and made.owner is None

    class Tagged(mk.Variable):
        pass
    assert Tagged(x.type).type == x.type and isinstance(Tagged(x.type), mk.Variable)


# --- name_scope ---------------------------------------------------------------------------------------
def scoped_paths(lib):
    """The paths of variables and layer weights made under name scopes, as in Keras's name_scope tests."""
    with lib.name_scope("block"):
        dense = lib.layers.Dense(2, name="in_block")   # named: unnamed ones count per process
        dense.build((None, 3))
        v = lib.Variable(np.ones(2), name="v")
        with lib.name_scope("inner"):
            w = lib.Variable(np.ones(2), name="w")
        with lib.name_scope("p", override_parent="q/r"):
            z = lib.Variable(1.0, name="z")
    called = lib.layers.Dense(2, name="called")
    with lib.name_scope("outer"):
        called(np.ones((1, 3), "float32"))
    built_before = lib.layers.Dense(2, name="built_before")
    built_before.build((None, 3))
    with lib.name_scope("outer"):
        built_before(np.ones((1, 3), "float32"))

    class Custom(lib.layers.Layer):
        def build(self, input_shape):
            with lib.name_scope("sub"):     # add_weight reopens the layer's own scope
                self.a = self.add_weight((2,), name="a")

        def call(self, x):
            return x
    custom = Custom(name="custom")
    custom.build((2,))
    with lib.name_scope("top"):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="d")], name="seq")
    return [dense.kernel.path, dense.path, v.path, w.path, z.path, called.kernel.path, built_before.kernel.path,
            custom.a.path, [x.path for x in model.weights]]


def test_name_scope_paths_as_keras(keras):
    assert scoped_paths(mk) == scoped_paths(keras)


def test_name_scope_arguments(keras):
    for lib in (keras, mk):
        scope = lib.name_scope("x")
        assert (scope.name, scope.caller, scope.deduplicate, scope.override_parent) == ("x", None, True, None)
        with pytest.raises(ValueError, match="cannot contain character `/`"):
            lib.name_scope("a/b")
    owner = object()
    with mk.name_scope("a", caller=owner):
        with mk.name_scope("a", caller=owner):      # the same caller and name: not opened twice
            assert mk.Variable(1.0, name="z").path == "a/z"
        with mk.name_scope("a", caller=owner, deduplicate=False):
            assert mk.Variable(1.0, name="z").path == "a/a/z"
    assert mk.Variable(1.0, name="z").path == "z"


# --- StatelessScope, SymbolicScope -------------------------------------------------------------------
def stateless_run(lib):
    """What a model's call and a variable's reads and assignments give inside a StatelessScope."""
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2), lib.layers.BatchNormalization()])
    x = np.arange(6, dtype="float32").reshape(2, 3)
    mapping = [(v, np.full(v.shape, 0.5, "float32")) for v in model.weights]
    kernel, moving_mean = model.layers[0].kernel, model.layers[1].moving_mean
    before = [np.array(v) for v in model.weights]
    with lib.StatelessScope(mapping) as scope:
        y = np.asarray(model(x, training=True))
        read = np.asarray(kernel.value)
        kernel.assign(np.full((3, 2), 2.0, "float32"))
        summed = np.asarray(lib.ops.convert_to_numpy(lib.ops.sum(kernel.value)))
        assigned = np.asarray(kernel.numpy())
    unchanged = all(np.array_equal(b, np.asarray(v)) for b, v in zip(before, model.weights))
    return y, read, summed, assigned, np.asarray(scope.get_current_value(moving_mean)), unchanged


def test_stateless_scope_as_keras(keras):
    ours, theirs = stateless_run(mk), stateless_run(keras)
    for a, b in zip(ours[:-1], theirs[:-1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert ours[-1] and theirs[-1]


def test_stateless_scope_collects_losses_and_checks_its_mapping(keras):
    for lib in (keras, mk):
        class Penalized(lib.layers.Layer):
            def call(self, x):
                self.add_loss(lib.ops.sum(x))
                return x
        with lib.StatelessScope(collect_losses=True) as scope:
            Penalized()(np.ones((2, 3), "float32"))
        assert [float(v) for v in scope.losses] == [6.0]
        dense = lib.layers.Dense(2)
        dense.build((None, 3))
        with pytest.raises(ValueError, match="Invalid reference variable in StatelessScope"):
            lib.StatelessScope([(np.ones(2), np.ones(2))])
        with pytest.raises(ValueError, match="Invalid variable value in StatelessScope"):
            lib.StatelessScope([(dense.kernel, np.ones(2))])
        scope = lib.StatelessScope()
        assert (scope.collect_losses, scope.initialize_variables, scope.losses) == (False, True, [])


def test_stateless_scope_under_jax_grad():
    """A StatelessScope's values may be jax tracers: jax.grad of a variable read through the scope."""
    import jax
    v = mk.Variable(np.array([1.0, 2.0], "float32"), name="v")

    def loss(value):
        with mk.StatelessScope([(v, value)]):
            return (v.value ** 2).sum()
    np.testing.assert_allclose(jax.grad(loss)(np.array([3.0, 4.0], "float32")), [6.0, 8.0])
    assert np.asarray(v).tolist() == [1.0, 2.0]


def test_symbolic_scope_keeps_variables_symbolic():
    from mlcore.scopes import in_symbolic_scope
    v = mk.Variable(np.ones(2, "float32"), name="v")
    with mk.StatelessScope([(v, np.zeros(2, "float32"))]):
        assert np.asarray(v.value).tolist() == [0.0, 0.0]
        with mk.SymbolicScope():
            assert in_symbolic_scope() and np.asarray(v.value).tolist() == [1.0, 1.0]
    assert not in_symbolic_scope()


# --- Operation, Function -----------------------------------------------------------------------------
def scale_operation(lib):
    class Scale(lib.Operation):
        def __init__(self, factor=2.0, name=None):
            super().__init__(name=name)
            self.factor = factor

        def call(self, x):
            return lib.ops.multiply(x, self.factor) + 1
    return Scale


def test_operation_as_keras(keras):
    results = []
    for lib in (keras, mk):
        Scale = scale_operation(lib)
        op = Scale(3.0, name="scale")
        spec = op.compute_output_spec(lib.KerasTensor((None, 4), "float16"))
        x = lib.KerasTensor((None, 4))
        y = op(x)
        results.append((op.get_config(), repr(op), np.asarray(op(np.ones((2, 2), "float32"))).tolist(),
                        spec.shape == (None, 4), str(spec.dtype), isinstance(y, lib.KerasTensor), y.shape == (None, 4),
                        op.input is x, op.output is y, Scale.from_config(op.get_config()).factor))
    assert results[0] == results[1]
    with pytest.raises(ValueError, match="cannot contain character"):
        scale_operation(mk)(name="a/b")


def test_operation_without_plain_arguments_needs_get_config(keras):
    for lib in (keras, mk):
        class Holder(lib.Operation):
            def __init__(self, table):
                super().__init__()
                self.table = table

            def call(self, x):
                return x
        with pytest.raises(NotImplementedError, match="non-serializable argument values"):
            Holder(np.ones(2)).get_config()


def function_graph(lib):
    a, b = lib.KerasTensor((None, 2, 3)), lib.KerasTensor((None, 2, 3))
    return a, b, lib.Function(inputs=[a, b], outputs={"s": lib.ops.sigmoid(a + b), "t": lib.ops.sum(a, axis=-1)})


def test_function_as_keras(keras):
    a = np.arange(24, dtype="float32").reshape(4, 2, 3) / 10
    b = np.ones((4, 2, 3), "float32")
    results = []
    for lib in (keras, mk):
        _, _, fn = function_graph(lib)
        values = fn([a, b])
        spec = fn.compute_output_spec([lib.KerasTensor((7, 2, 3)), lib.KerasTensor((7, 2, 3))])
        z, w = lib.Input((2, 3)), lib.Input((2, 3))
        model = lib.Model([z, w], fn([z, w]))
        results.append((values, len(fn.inputs), len(fn.outputs), fn.compute_output_shape([(5, 2, 3), (5, 2, 3)]),
                        {k: tuple(v.shape) for k, v in spec.items()}, model.predict([a, b], verbose=0)))
    (ours, *our_rest), (theirs, *their_rest) = results
    for key in ("s", "t"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-6)
        np.testing.assert_allclose(our_rest[-1][key], their_rest[-1][key], rtol=1e-6)
    assert our_rest[:-1] == their_rest[:-1]


def test_function_errors_as_keras(keras):
    for lib in (keras, mk):
        a, b, fn = function_graph(lib)
        with pytest.raises(ValueError, match="invalid input structure"):
            fn([np.ones((4, 2, 3), "float32")])
        with pytest.raises(ValueError, match="incompatible inputs"):
            fn([np.ones((4, 2, 3), "float32"), np.ones((4, 3, 3), "float32")])
        with pytest.raises(ValueError, match="Graph disconnected"):
            lib.Function([a], a + b)
        with pytest.raises(ValueError, match="`inputs` argument cannot be empty"):
            lib.Function([], a)


# --- remat, RematScope --------------------------------------------------------------------------------
def deep_block(weight):
    def block(h):
        for _ in range(3):
            h = T.tanh(T.dot(h, weight))
        return h
    return block


@pytest.mark.parametrize("backend", ["numpy", "jax", "theano"])
def test_remat_recomputes_and_gives_the_same_values(backend, require_backend):
    require_backend(backend)
    x = T.matrix("x")
    weight = mk.Variable(np.random.RandomState(0).randn(4, 4).astype("float32"), name="w")
    runs = []
    for block in (deep_block(weight), mk.remat(deep_block(weight))):
        y = block(x)
        fn = function([x], [y] + grad((y ** 2).sum(), [x, weight]), backend=backend)
        products = sum(type(node.op).__name__ in ("Dot", "Matmul", "Gemm") for node in fn.fgraph.toposort())
        runs.append((products, fn(np.random.RandomState(1).randn(5, 4).astype("float32"))))
    (plain_products, plain), (remat_products, rematerialized) = runs
    assert remat_products == plain_products + 3      # the backward pass multiplies the forward's three again
    for a, b in zip(plain, rematerialized):
        np.testing.assert_array_equal(a, b)


def test_remat_puts_a_barrier_in_the_jax_program(require_backend):
    """The jax backend's program carries XLA's optimization barrier, as jax.checkpoint's does."""
    require_backend("jax")
    x = T.matrix("x")
    weight = mk.Variable(np.ones((4, 4), "float32"), name="w")
    y = mk.remat(deep_block(weight))(x)
    fn = function([x], grad((y ** 2).sum(), weight), backend="jax")
    hlo = fn._fn.jitted.lower(np.ones((2, 4), "float32"), *[v.get_value() for v in fn.shared]).as_text()
    assert "optimization_barrier" in hlo


def test_remat_on_values_and_on_jax_values():
    import jax
    f = mk.remat(lambda a: mk.ops.sin(a) * 2)
    np.testing.assert_allclose(f(np.ones(3, "float32")), 2 * np.sin(np.ones(3)), rtol=1e-6)
    g = jax.grad(lambda a: mk.remat(lambda b: (b ** 3).sum())(a))(np.array([1.0, 2.0], "float32"))
    np.testing.assert_allclose(g, [3.0, 12.0])


def remat_model(lib, weights=None, remat=True):
    class CustomRematLayer(lib.layers.Layer):
        """Keras's remat docstring example."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.remat_function = lib.remat(self.intermediate_function) if remat else self.intermediate_function

        def intermediate_function(self, x):
            for _ in range(2):
                x = x + x * 0.1
            return x

        def call(self, inputs):
            return self.remat_function(inputs)
    inputs = lib.layers.Input(shape=(4,))
    x = lib.layers.Dense(4, activation="relu")(inputs)
    x = CustomRematLayer()(x)
    model = lib.Model(inputs=inputs, outputs=lib.layers.Dense(1)(x))
    if weights is not None:
        model.set_weights(weights)
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_remat_layer_trains_as_keras(keras):
    rng = np.random.RandomState(0)
    x, y = rng.randn(32, 4).astype("float32"), rng.randn(32, 1).astype("float32")
    theirs = remat_model(keras)
    start = [np.array(w) for w in theirs.get_weights()]
    their_losses = theirs.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history["loss"]
    runs = []
    for remat in (True, False):
        ours = remat_model(mk, start, remat)
        runs.append((ours.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history["loss"],
                     ours.get_weights(), ours.predict(x, verbose=0)))
    np.testing.assert_allclose(runs[0][0], their_losses, rtol=1e-5)
    for a, b in zip(runs[0][1], theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(runs[0][2], runs[1][2])     # with and without remat: the same numbers
    assert runs[0][0] == runs[1][0]


def test_remat_scope_as_keras(keras):
    for lib in (keras, mk):
        with lib.RematScope(mode="list_of_layers", layer_names=["d1"]):
            d1, d2 = lib.layers.Dense(2, name="d1"), lib.layers.Dense(2, name="d2")
        assert tuple(d1._remat_mode) == ("list_of_layers", 1024, ["d1"]) and d2._remat_mode == d1._remat_mode
        assert lib.layers.Dense(2)._remat_mode is None
        with pytest.raises(ValueError, match="Invalid mode 'bad'"):
            lib.RematScope(mode="bad")


@pytest.mark.parametrize("mode, kwargs, rematerialized", [
    ("full", {}, ["d1", "d2"]), ("activations", {}, ["d1", "d2"]),     # d2's activation is linear, not None ("list_of_layers", {"layer_names": ["d2"]}, ["d2"]),
    ("larger_than", {"output_size_threshold": 5}, ["d1"]), (None, {}, [])])
def test_remat_scope_modes_recompute_and_keep_values(mode, kwargs, rematerialized):
    """Each mode rematerializes the calls Keras's would (the graph holds one remat op per layer chosen),
    and a model trained under it gives the numbers it gives without."""
    def build(scope_mode):
        with mk.RematScope(mode=scope_mode, **kwargs):
            d1 = mk.layers.Dense(8, activation="relu", name="d1")
            d2 = mk.layers.Dense(2, name="d2")
        inputs = mk.Input((3,))
        model = mk.Model(inputs, d2(d1(inputs)))
        model.set_weights([np.linspace(-1, 1, np.prod(w.shape)).reshape(w.shape).astype("float32") for w in model.weights])
        model.compile(optimizer="sgd", loss="mse")
        return model
    model = build(mode)
    named = [op.name for op in _remat_ops(model.outputs)]
    assert sorted(name.split("(")[1].rstrip(")") for name in named) == \
        sorted({"d1": "relu", "d2": "linear"}[n] if mode == "activations" else "call" for n in rematerialized)
    rng = np.random.RandomState(1)
    x, y = rng.randn(16, 3).astype("float32"), rng.randn(16, 2).astype("float32")
    plain = build(None)
    for m in (model, plain):
        m.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)


def _remat_ops(outputs):
    from mlcore.graph.basic import toposort
    return [node.op for node in toposort(outputs) if str(node.op).startswith("remat(")]
