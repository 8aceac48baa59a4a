"""keras.layers.JaxLayer and FlaxLayer against Keras 3.15's on the same functions and params: weights
(names, shapes, order), outputs, state and rng, fit, configs, weight files; the JaxFunctionOp under
them against jax.grad and finite differences on every backend.

Keras's side runs with jax's 64-bit types off, as in a process of its own (mlcore turns them on).
Keras 3.15 builds a JaxLayer from init_fn only where TensorFlow is installed (its build calls
tf.inside_function), so the comparisons give params; init_fn is checked on mlcore alone.
"""
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = jax.numpy

import mlcore  # noqa: E402
import mlcore.tensor as T  # noqa: E402
from mlcore import layers  # noqa: E402
from mlcore.compile.jax_function import JaxFunctionOp  # noqa: E402


def keras_side():
    return jax.enable_x64(False)


def mlp_apply(params, inputs):
    """Keras's own test model: tanh layers, then softmax."""
    x = inputs
    for w, b in params[:-1]:
        x = jnp.tanh(x @ w + b)
    w, b = params[-1]
    return jax.nn.softmax(x @ w + b, axis=-1)


def mlp_init(rng, inputs):
    sizes = [inputs.shape[-1], 5, 3]
    keys = jax.random.split(rng, 2 * len(sizes))
    return [[jax.random.normal(keys[2 * k], (m, n)) * 0.5, jax.random.normal(keys[2 * k + 1], (n,)) * 0.1]
            for k, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]))]


def dropout_with_state(params, state, rng, inputs, training):
    """Dropout by a jax key when training, and a count and moving mean as state."""
    y = jnp.tanh(inputs @ params["w"] + params["b"]) * params["scale"]
    if training:
        y = jnp.where(jax.random.bernoulli(rng, 0.7, y.shape), y / 0.7, 0.0)
    new_state = {"count": state["count"] + 1, "mean": 0.9 * state["mean"] + 0.1 * y.mean(axis=0)}
    return y, new_state


def initial_params(rng, n_in=4, n_out=3):
    return ({"w": rng.normal(size=(n_in, n_out)), "b": rng.normal(size=n_out) * 0.1, "scale": 1.5},
            {"count": np.zeros((), "int32"), "mean": np.zeros(n_out, "float32")})


def describe(weights):
    return [(w.path, tuple(w.shape), str(w.dtype), w.trainable) for w in weights]


def both_layers(keras, make):
    """make(L) with L = each library's layers, from fresh name counters."""
    mlcore.backend.clear_session()
    ours = make(layers)
    with keras_side():
        keras.backend.clear_session()
        theirs = make(keras.layers)
    return ours, theirs


# --- weights ----------------------------------------------------------------------------------------
def test_weights_follow_keras(keras, rng):
    params, state = initial_params(rng)
    params = dict(params, config="not an array", flag=True, steps=3, ints=np.arange(3))
    ours, theirs = both_layers(keras, lambda L: L.JaxLayer(dropout_with_state, params=params, state=state, seed=2))
    assert describe(ours.weights) == describe(theirs.weights)
    assert describe(ours.trainable_weights) == describe(theirs.trainable_weights)
    assert [v.path for v in ours.variables] == [v.path for v in theirs.variables]
    assert ours.params["config"] == "not an array" and ours.params["w"] is ours.trainable_weights[-1]
    for a, b in zip(ours.weights, theirs.weights):
        np.testing.assert_array_equal(a.numpy(), np.asarray(b.numpy()))


# --- outputs, state, rng ------------------------------------------------------------------------------
def test_calls_match_keras(keras, rng, on_backend):
    """Inference, then two training calls: their dropout masks, the outputs and the state are Keras's."""
    params, state = initial_params(rng)
    ours, theirs = both_layers(keras, lambda L: L.JaxLayer(dropout_with_state, params=params, state=state, seed=7))
    x = rng.normal(size=(6, 4)).astype("float32")
    for training in (False, True, True):
        out = ours(x, training=training)
        with keras_side():
            expected = np.asarray(theirs(x, training=training))
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
        for a, b in zip(ours.non_trainable_variables, theirs.non_trainable_variables):
            np.testing.assert_allclose(a.numpy(), np.asarray(b.numpy()), rtol=1e-5, atol=1e-6)


def test_structured_inputs_and_outputs(rng, on_backend):
    def call_fn(inputs):
        a, b = inputs["a"], inputs["b"]
        return {"sum": a + b, "parts": (a * 2, jnp.sum(b, axis=-1))}
    layer = layers.JaxLayer(call_fn)
    a, b = rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=(2, 3)).astype("float32")
    out = layer({"a": a, "b": b})
    np.testing.assert_allclose(out["sum"], a + b, rtol=1e-6)
    np.testing.assert_allclose(out["parts"][0], a * 2, rtol=1e-6)
    np.testing.assert_allclose(out["parts"][1], b.sum(-1), rtol=1e-6)
    symbolic = layers.JaxLayer(call_fn)({"a": layers.Input((3,)), "b": layers.Input((3,))})
    assert symbolic["parts"][1].type.shape == (None,) and symbolic["sum"].type.shape == (None, 3)


# --- gradients -------------------------------------------------------------------------------------
def test_gradients_equal_jax_grad_and_finite_differences(backend, rng, numeric_grad):
    """d(cost)/d(params, inputs) through a JaxLayer, float64 (64-bit types stay on), on each backend."""
    params = [[rng.normal(size=(4, 5)), rng.normal(size=5)], [rng.normal(size=(5, 3)), rng.normal(size=3)]]
    layer = layers.JaxLayer(mlp_apply, params=params, dtype="float64")
    x = T.TensorType("float64", (None, 4))("x")
    y = layer(x)
    target = np.eye(3)[[0, 2, 1, 1]]
    cost = -(T.log(y) * target).sum()
    weights = layer.trainable_weights
    grads = mlcore.function([x], mlcore.grad(cost, [x] + weights), backend=backend)
    value = mlcore.function([x], cost, backend=backend)
    xv = rng.normal(size=(4, 4))
    got = grads(xv)

    def loss(p, inputs):
        return -(jnp.log(mlp_apply(p, inputs)) * target).sum()
    dparams, dx = jax.grad(loss, argnums=(0, 1))(jax.tree_util.tree_map(jnp.asarray, params), xv)
    leaves = jax.tree_util.tree_leaves(dparams)      # jax's order: the layer's weights' order
    np.testing.assert_allclose(got[0], dx, rtol=1e-10, atol=1e-12)
    for g, expected in zip(got[1:], leaves):
        np.testing.assert_allclose(g, expected, rtol=1e-10, atol=1e-12)

    def cost_at(xv, *values):
        layer.set_weights(values)
        return value(xv)
    values = [xv] + [w.numpy() for w in weights]
    for k in (0, 1, 4):
        np.testing.assert_allclose(got[k], numeric_grad(cost_at, values, k), rtol=1e-6, atol=1e-8)


def test_second_derivatives_are_jax_ones(backend, rng):
    """The pullback is itself a JaxFunctionOp, so gradients of gradients are jax's too."""
    op = JaxFunctionOp(lambda w, x: (jnp.sin(x @ w) * jnp.sum(w ** 2),))
    w, x = T.dvector("w"), T.dmatrix("x")
    gw = mlcore.grad(op(w, x).sum(), w)
    hessian_x = mlcore.grad(gw.sum(), x)
    wv, xv = rng.normal(size=3), rng.normal(size=(2, 3))
    expected = jax.grad(lambda x: jax.grad(lambda w: op.fn(w, x)[0].sum())(wv).sum())(xv)
    np.testing.assert_allclose(mlcore.function([w, x], hessian_x, backend=backend)(wv, xv), expected, rtol=1e-10)


def test_op_infers_unknown_dims_and_refuses_bad_functions():
    op = JaxFunctionOp(lambda x: (x.reshape(x.shape[0], -1), jnp.zeros((2, x.shape[1] * 3)), x.sum()))
    flat, zeros, total = op(T.TensorType("float32", (None, 2, 3))())
    assert flat.type.shape == (None, 6) and zeros.type.shape == (2, 6) and total.type.shape == ()
    with pytest.raises(TypeError, match="must return a tuple of arrays"):
        JaxFunctionOp(lambda x: x)(T.fvector())
    with pytest.raises(ValueError, match=r"could not be traced on inputs.*\(\(3,\), 'float32'\)"):
        JaxFunctionOp(lambda x: (x @ jnp.ones((4, 2)),))(T.TensorType("float32", (3,))())


# --- fit ------------------------------------------------------------------------------------------
def fit_both(keras, make_layer, x, y, loss):
    """A model of the JaxLayer and a Dense head, fitted by SGD in both libraries from the same weights;
    the two models after fitting."""
    def model(library):
        m = library.Sequential([library.Input((x.shape[1],)), make_layer(library.layers),
                                library.layers.Dense(2, name="head")])
        m.compile(optimizer=library.optimizers.SGD(0.1), loss=loss)
        return m
    ours = model(mlcore)
    with keras_side():
        theirs = model(keras)
        theirs.set_weights(ours.get_weights())
        theirs.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    ours.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    return ours, theirs


def test_fit_matches_keras(keras, rng, on_backend):
    params = mlp_init(jax.random.PRNGKey(0), np.zeros((1, 4)))
    x, y = rng.normal(size=(24, 4)).astype("float32"), rng.normal(size=(24, 2)).astype("float32")
    ours, theirs = fit_both(keras, lambda L: L.JaxLayer(mlp_apply, params=params), x, y, "mse")
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=2e-5, atol=2e-6)
    with keras_side():
        expected = np.asarray(theirs.predict(x, verbose=0))
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=2e-5, atol=2e-6)


def test_fit_with_dropout_and_state_matches_keras(keras, rng):
    """The rng each step gets (the seed generator's state, moved on per step) and the state updates."""
    params, state = initial_params(rng)
    x, y = rng.normal(size=(16, 4)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")
    ours, theirs = fit_both(keras, lambda L: L.JaxLayer(dropout_with_state, params=params, state=state, seed=5),
                            x, y, "mse")
    for a, b in zip(ours.variables, theirs.variables):
        np.testing.assert_allclose(a.numpy(), np.asarray(b.numpy()), rtol=2e-5, atol=2e-6, err_msg=a.path)


# --- init_fn ------------------------------------------------------------------------------------------
def test_init_fn_makes_params_at_build(rng):
    def init_with_state(rng, inputs, training):
        return mlp_init(rng, inputs), jnp.zeros((), jnp.float32)

    def apply_with_state(params, state, inputs, training):
        return mlp_apply(params, inputs), state + 1 if training else state
    mlcore.utils.set_random_seed(3)
    layer = layers.JaxLayer(apply_with_state, init_fn=init_with_state)
    assert layer.params is None and layer.weights == []
    model = mlcore.Sequential([layers.Input((4,)), layer])
    assert [tuple(w.shape) for w in layer.trainable_weights] == [(4, 5), (5,), (5, 3), (3,)]
    assert [tuple(w.shape) for w in layer.non_trainable_weights] == [()]
    mlcore.utils.set_random_seed(3)
    again = layers.JaxLayer(apply_with_state, init_fn=init_with_state)
    again.build((None, 4))
    for a, b in zip(layer.weights, again.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.fit(rng.normal(size=(8, 4)), np.eye(3)[rng.integers(0, 3, 8)], batch_size=4, epochs=1, verbose=0)
    assert layer.non_trainable_weights[0].numpy() == 2      # one per training step


# --- errors -----------------------------------------------------------------------------------------
def test_errors_are_keras_ones(keras):
    def bad_arguments(inputs, foo):
        return inputs
    cases = [(dict(call_fn=bad_arguments), "Unsupported argument in `call_fn`: `foo`, supported arguments are"),
             (dict(call_fn=lambda x: x), "Missing required argument in `call_fn`: `inputs`"),
             (dict(call_fn=lambda params, inputs: inputs), "`init_fn`, `params` and `state` cannot all be `None`"),
             (dict(call_fn=lambda params, inputs: inputs, init_fn=lambda rng, inputs, seed: 0),
              "Unsupported argument in `init_fn`: `seed`")]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            layers.JaxLayer(**kwargs)
        with keras_side(), pytest.raises(ValueError, match=message):
            keras.layers.JaxLayer(**kwargs)


def test_a_state_of_another_structure_is_refused(rng):
    layer = layers.JaxLayer(lambda state, inputs: (inputs, {"other": state["count"]}),
                            state={"count": np.zeros(())}, name="changes_state")
    with pytest.raises(ValueError, match="Structure mismatch.*'changes_state'"):
        layer(np.ones((2, 3), "float32"))


# --- config and files -----------------------------------------------------------------------------------
def test_config_is_keras_and_reloads(keras, rng, tmp_path):
    ours, theirs = both_layers(keras, lambda L: L.JaxLayer(mlp_apply, params=mlp_init(jax.random.PRNGKey(1),
                                                                                       np.zeros((1, 4)))))
    assert ours.get_config() == theirs.get_config()
    with mlcore.saving.custom_object_scope({"mlp_apply": mlp_apply, "mlp_init": mlp_init}):
        with pytest.raises(TypeError, match="cannot all be `None`"):       # params are weights, not config
            layers.JaxLayer.from_config(ours.get_config())
        ours.init_fn = mlp_init
        again = layers.JaxLayer.from_config(ours.get_config())
        assert (again.call_fn, again.init_fn) == (mlp_apply, mlp_init)
        model = mlcore.Sequential([layers.Input((4,)), ours])
        path = str(tmp_path / "jax.keras")
        model.save(path)
        loaded = mlcore.saving.load_model(path)
    x = rng.normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_weight_files_cross_load_with_keras(keras, rng, tmp_path):
    params, state = initial_params(rng)

    def model(library, seed):
        return library.Sequential([library.Input((4,)), library.layers.JaxLayer(
            dropout_with_state, params=jax.tree_util.tree_map(lambda v: np.asarray(v) * seed, params),
            state=state)])
    ours = model(mlcore, 2)
    with keras_side():
        theirs = model(keras, 3)
        theirs.save_weights(str(tmp_path / "keras.weights.h5"))
    ours.save_weights(str(tmp_path / "mlcore.weights.h5"))
    ours.load_weights(str(tmp_path / "keras.weights.h5"))
    for a, b in zip(ours.weights, theirs.weights):
        np.testing.assert_array_equal(a.numpy(), np.asarray(b.numpy()))
    saved = model(mlcore, 2)
    with keras_side():
        theirs.load_weights(str(tmp_path / "mlcore.weights.h5"))
    for a, b in zip(saved.weights, theirs.weights):
        np.testing.assert_array_equal(a.numpy(), np.asarray(b.numpy()))


# --- FlaxLayer --------------------------------------------------------------------------------------------
def test_flax_layer_without_flax_raises_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "flax", None)
    monkeypatch.setitem(sys.modules, "flax.linen", None)
    with pytest.raises(ImportError, match="flax"):
        layers.FlaxLayer(module=object())


def flax_net_class():
    """A flax module with BatchNorm statistics (state) and dropout (an rng when training); its method
    `features` leaves the head out."""
    nn = pytest.importorskip("flax.linen")

    class Net(nn.Module):
        @nn.compact
        def __call__(self, inputs, training=False):
            x = nn.BatchNorm(use_running_average=not training, name="norm")(nn.Dense(5, name="dense")(inputs))
            x = nn.Dropout(0.4, deterministic=not training)(x)
            return nn.Dense(2, name="head")(nn.relu(x))

        def get_config(self):
            return {}

        @classmethod
        def from_config(cls, config):
            return cls(**config)
    return Net


def flax_variables(net, n_in=4):
    with keras_side():
        return net().init({"params": jax.random.PRNGKey(0)}, jnp.ones((1, n_in)))


def test_flax_layer_calls_match_keras(keras, rng, on_backend):
    Net = flax_net_class()
    variables = flax_variables(Net)
    ours, theirs = both_layers(keras, lambda L: L.FlaxLayer(Net(), variables=variables, seed=4))
    assert describe(ours.weights) == describe(theirs.weights)
    assert [v.path for v in ours.variables] == [v.path for v in theirs.variables]
    x = rng.normal(size=(6, 4)).astype("float32")
    for training in (False, True, True):
        out = ours(x, training=training)
        with keras_side():
            expected = np.asarray(theirs(x, training=training))
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
        for a, b in zip(ours.variables, theirs.variables):
            np.testing.assert_allclose(a.numpy(), np.asarray(b.numpy()), rtol=1e-5, atol=1e-6, err_msg=a.path)


def test_flax_layer_fit_matches_keras(keras, rng):
    Net = flax_net_class()
    variables = flax_variables(Net)
    x, y = rng.normal(size=(16, 4)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")
    ours, theirs = fit_both(keras, lambda L: L.FlaxLayer(Net(), variables=variables, seed=1), x, y, "mse")
    for a, b in zip(ours.variables, theirs.variables):
        np.testing.assert_allclose(a.numpy(), np.asarray(b.numpy()), rtol=5e-5, atol=5e-6, err_msg=a.path)


def test_flax_layer_initializes_and_configs_as_keras(keras, rng):
    Net = flax_net_class()
    net = Net()
    ours, theirs = both_layers(keras, lambda L: L.FlaxLayer(net, method=net.__call__))
    assert ours.get_config()["method"] == "__call__" and ours.get_config() == theirs.get_config()
    with mlcore.saving.custom_object_scope({"Net": Net}):
        again = layers.FlaxLayer.from_config(ours.get_config())
    assert again.method.__name__ == "__call__" and again.method.__self__ is again.module is not net

    def apply_module(module, inputs):
        """A method given as a function of the module."""
        return module(inputs)
    built = layers.FlaxLayer(net, method=apply_module)
    assert built.weights == [] and built(rng.normal(size=(3, 4)).astype("float32")).shape == (3, 2)
    variables = flax_variables(Net)          # module.init ran at build: weights of the same shapes
    params, stats = (jax.tree_util.tree_leaves(variables[key]) for key in ("params", "batch_stats"))
    assert [(tuple(w.shape), w.trainable) for w in built.weights] == (
        [(np.shape(v), True) for v in params] + [(np.shape(v), False) for v in stats])
