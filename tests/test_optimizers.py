"""Optimizers: three steps on a small quadratic against a plain numpy transcription of
Keras 3's update rules and against Keras 3 itself; state, learning rate, schedules, config."""
import os
import warnings

import numpy as np
import pytest

import mlcore
from mlcore import optimizers

RNG = np.random.default_rng(0)
INIT = [RNG.normal(size=(3, 2)).astype("float32"), RNG.normal(size=(2,)).astype("float32")]
TARGET = [RNG.normal(size=(3, 2)).astype("float32"), RNG.normal(size=(2,)).astype("float32")]
SCALE = [RNG.uniform(0.5, 3, size=(3, 2)).astype("float32"), RNG.uniform(0.5, 3, size=(2,)).astype("float32")]


@pytest.fixture(scope="module")
def keras():
    """Keras 3 as the reference.  Its numpy backend runs the same optimizer, loss and metric code
    as its jax one, without compiling every eager op (which takes ~20 s here); an already chosen
    KERAS_BACKEND is kept."""
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    return pytest.importorskip("keras")


def quadratic_grads(weights):
    return [2 * s * (w - t) for w, s, t in zip(weights, SCALE, TARGET)]


def run_mlcore(optimizer, steps=3):
    weights = [mlcore.shared(w.copy(), name="dense/w%d" % i) for i, w in enumerate(INIT)]
    loss = sum((((w - t) ** 2) * s).sum() for w, s, t in zip(weights, SCALE, TARGET))
    step = mlcore.function([], loss, updates=optimizer.get_updates(weights, mlcore.grad(loss, weights)),
                           backend="numpy")
    for _ in range(steps):
        step()
    return [w.get_value() for w in weights], [v.get_value() for v in optimizer.variables]


def run_keras(optimizer, steps=3):
    import keras
    weights = [keras.Variable(w.copy()) for w in INIT]
    for _ in range(steps):
        optimizer.apply_gradients(zip(quadratic_grads([np.asarray(w) for w in weights]), weights))
    return [np.asarray(w) for w in weights], [np.asarray(v) for v in optimizer.variables]


# --- numpy transcriptions of keras/src/optimizers/*.py update_step ------------------------------
def np_sgd(w, g, s, t, lr, momentum=0.0, nesterov=False):
    if not momentum:
        return w - lr * g
    s["m"] = s.get("m", 0) * momentum - lr * g
    return w + (s["m"] * momentum - lr * g if nesterov else s["m"])


def np_adam(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - beta_1)
    s["v"] = s.get("v", 0) + (g * g - s.get("v", 0)) * (1 - beta_2)
    v = s["v"]
    if amsgrad:
        v = s["vhat"] = np.maximum(s.get("vhat", 0), s["v"])
    return w - s["m"] * alpha / (np.sqrt(v) + epsilon)


def np_rmsprop(w, g, s, t, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
    denominator = s["v"] + epsilon
    if centered:
        s["a"] = rho * s.get("a", 0) + (1 - rho) * g
        denominator = s["v"] - s["a"] ** 2 + epsilon
    increment = lr * g / np.sqrt(denominator)
    if momentum:
        increment = s["m"] = momentum * s.get("m", 0) + increment
    return w - increment


def np_adagrad(w, g, s, t, lr, initial_accumulator_value=0.1, epsilon=1e-7):
    s["a"] = s.get("a", initial_accumulator_value) + g * g
    return w - lr * g / np.sqrt(s["a"] + epsilon)


def np_adadelta(w, g, s, t, lr, rho=0.95, epsilon=1e-7):
    s["g"] = rho * s.get("g", 0) + (1 - rho) * g * g
    delta = -np.sqrt(s.get("d", 0) + epsilon) * g / np.sqrt(s["g"] + epsilon)
    s["d"] = rho * s.get("d", 0) + (1 - rho) * delta * delta
    return w + lr * delta


def np_adamax(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - beta_1)
    s["u"] = np.maximum(beta_2 * s.get("u", 0), np.abs(g))
    return w - lr * s["m"] / ((1 - beta_1 ** t) * (s["u"] + epsilon))


def np_nadam(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    u_t = beta_1 * (1 - 0.5 * 0.96 ** t)
    u_t_1 = beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
    u_product = s["u_product"]  # shared by all variables, updated once per step (below)
    s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - beta_1)
    s["v"] = s.get("v", 0) + (g * g - s.get("v", 0)) * (1 - beta_2)
    m_hat = u_t_1 * s["m"] / (1 - u_product * u_t_1) + (1 - u_t) * g / (1 - u_product)
    return w - m_hat * lr / (np.sqrt(s["v"] / (1 - beta_2 ** t)) + epsilon)


def np_lamb(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - beta_1)
    s["v"] = s.get("v", 0) + (g * g - s.get("v", 0)) * (1 - beta_2)
    step = s["m"] / (1 - beta_1 ** t) / (np.sqrt(s["v"] / (1 - beta_2 ** t)) + epsilon)
    ratio = np.linalg.norm(w) / np.linalg.norm(step)     # both norms are positive here
    return w - ratio * lr * step


def np_adafactor(w, g, s, t, lr, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0,
                 relative_step=True):
    def rms(x):
        return np.sqrt(np.mean(x * x))
    lr = min(lr, 1 / np.sqrt(t)) if relative_step else lr
    alpha = max(epsilon_2, rms(w)) * min(lr, 1 / np.sqrt(t))
    squared, beta_2 = g * g + epsilon_1, 1 - t ** beta_2_decay
    if w.ndim >= 2:      # the second moment kept as row and column means
        s["r"] = beta_2 * s.get("r", 0) + (1 - beta_2) * squared.mean(axis=-1)
        s["c"] = beta_2 * s.get("c", 0) + (1 - beta_2) * squared.mean(axis=-2)
        v = (s["r"] / s["r"].mean(axis=-1, keepdims=True))[..., None] * s["c"][..., None, :]
    else:
        v = s["v"] = beta_2 * s.get("v", 0) + (1 - beta_2) * squared
    u = g / np.sqrt(v)
    return w - alpha * u / max(1.0, rms(u) / clip_threshold)


def run_numpy(rule, steps=3, lr=0.01, **kwargs):
    weights = [w.astype("float64") for w in INIT]
    states = [{} for _ in weights]
    u_product = 1.0
    for t in range(1, steps + 1):
        u_product *= 0.9 * (1 - 0.5 * 0.96 ** t)
        for s in states:
            s["u_product"] = u_product
        weights = [rule(w, g, s, t, lr, **kwargs) for w, g, s in zip(weights, quadratic_grads(weights), states)]
    return weights


NUMPY_CASES = [
    ("SGD", np_sgd, {}), ("SGD", np_sgd, dict(momentum=0.9)), ("SGD", np_sgd, dict(momentum=0.9, nesterov=True)),
    ("Adam", np_adam, {}), ("Adam", np_adam, dict(amsgrad=True, beta_1=0.8)),
    ("RMSprop", np_rmsprop, {}), ("RMSprop", np_rmsprop, dict(momentum=0.5, centered=True)),
    ("Adagrad", np_adagrad, {}), ("Adadelta", np_adadelta, dict(rho=0.9)), ("Adamax", np_adamax, {}),
    ("Nadam", np_nadam, {}), ("Lamb", np_lamb, {}), ("Adafactor", np_adafactor, {}),
    ("Adafactor", np_adafactor, dict(relative_step=False, clip_threshold=0.5, beta_2_decay=-0.5)),
]


@pytest.mark.parametrize("name, rule, kwargs", NUMPY_CASES, ids=[c[0] + str(c[2]) for c in NUMPY_CASES])
def test_updates_match_numpy_transcription(name, rule, kwargs):
    lr = 0.05
    got, _ = run_mlcore(getattr(optimizers, name)(learning_rate=lr, **kwargs))
    for g, e in zip(got, run_numpy(rule, lr=lr, **kwargs)):
        np.testing.assert_allclose(g, e, rtol=2e-5, atol=1e-6)


KERAS_CASES = [
    ("SGD", dict(momentum=0.9, nesterov=True, learning_rate=0.05)), ("Adam", dict(amsgrad=True, learning_rate=0.1)),
    ("AdamW", dict(learning_rate=0.1)), ("RMSprop", dict(momentum=0.5, centered=True, learning_rate=0.01)),
    ("Adagrad", dict(learning_rate=0.1)), ("Adadelta", dict(learning_rate=1.0)), ("Adamax", dict(learning_rate=0.1)),
    ("Nadam", dict(learning_rate=0.1)), ("Lion", dict(learning_rate=0.1)), ("Lamb", dict(learning_rate=0.1)),
    ("Adafactor", dict(learning_rate=0.1)), ("Adafactor", dict(learning_rate=0.05, relative_step=False)),
    ("Ftrl", dict(learning_rate=0.1, l1_regularization_strength=0.01, l2_regularization_strength=0.1, beta=0.1,
                  l2_shrinkage_regularization_strength=0.01)),
    ("SGD", dict(clipnorm=0.5, learning_rate=0.1)), ("SGD", dict(global_clipnorm=0.5, learning_rate=0.1)),
    ("Adam", dict(clipvalue=0.1, learning_rate=0.1, weight_decay=0.1)),
    ("Adam", dict(use_ema=True, ema_overwrite_frequency=2, learning_rate=0.1)),
    ("Adam", dict(gradient_accumulation_steps=2, learning_rate=0.1)),
]


@pytest.mark.parametrize("name, kwargs", KERAS_CASES, ids=[c[0] + str(sorted(c[1])) for c in KERAS_CASES])
def test_updates_and_state_match_keras(keras, name, kwargs):
    got, got_state = run_mlcore(getattr(optimizers, name)(**kwargs))
    expected, expected_state = run_keras(getattr(keras.optimizers, name)(**kwargs))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    assert len(got_state) == len(expected_state)  # same variables, in Keras's order
    for g, e in zip(got_state, expected_state):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda s: s.ExponentialDecay(0.1, 3, 0.5, staircase=True), lambda s: s.InverseTimeDecay(0.1, 2, 0.7),
    lambda s: s.PiecewiseConstantDecay([2, 5], [0.1, 0.05, 0.01]), lambda s: s.PolynomialDecay(0.1, 6, cycle=True),
    lambda s: s.CosineDecay(0.1, 6, alpha=0.1, warmup_target=0.2, warmup_steps=3),
    lambda s: s.CosineDecayRestarts(0.1, 3, t_mul=2.0, m_mul=0.5)])
def test_schedules_match_keras(keras, make):
    ours, theirs = make(optimizers.schedules), make(keras.optimizers.schedules)
    for step in range(12):
        np.testing.assert_allclose(optimizers.schedules.evaluate(ours(np.int64(step))), float(theirs(step)),
                                   rtol=1e-5, atol=1e-7)


def test_schedule_is_evaluated_in_the_graph_on_iterations(keras):
    got, _ = run_mlcore(optimizers.SGD(learning_rate=optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)))
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)
    expected, _ = run_keras(keras.optimizers.SGD(learning_rate=schedule))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5)


def test_learning_rate_changes_without_recompiling():
    w = mlcore.shared(np.float32(1.0), name="w")
    opt = optimizers.SGD(learning_rate=0.1)
    step = mlcore.function([], w, updates=opt.get_updates([w], [mlcore.grad(w * w, w)]), backend="numpy")
    step()
    assert np.isclose(w.get_value(), 0.8)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5 and opt.lr == 0.5
    step()
    assert np.isclose(w.get_value(), 0.0)
    assert opt.iterations.get_value() == 2


def test_schedule_learning_rate_is_read_only():
    opt = optimizers.Adam(learning_rate=optimizers.schedules.ExponentialDecay(0.1, 1, 0.5), name="adam")
    assert opt.learning_rate == pytest.approx(0.1)
    assert [v.name for v in opt.variables] == ["adam/iteration"]
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.01


def test_variables_names_and_order():
    opt = optimizers.Adam(name="adam")      # unnamed ones are adam, adam_1... in creation order, as in Keras
    opt.build([mlcore.shared(np.zeros((2, 2), "float32"), name="dense/kernel")])
    assert [v.name for v in opt.variables] == ["adam/iteration", "adam/learning_rate", "adam/dense_kernel_momentum",
                                               "adam/dense_kernel_velocity"]
    assert opt.variables[0].dtype == "int64" and opt.variables[1].dtype == "float32"


def test_keras2_lr_and_decay_keep_their_meaning():
    lr, decay = 0.1, 0.5
    got, _ = run_mlcore(optimizers.SGD(lr=lr, decay=decay))
    weights = [w.astype("float64") for w in INIT]
    for t in range(3):
        weights = [w - lr / (1 + decay * t) * g for w, g in zip(weights, quadratic_grads(weights))]
    for g, e in zip(got, weights):
        np.testing.assert_allclose(g, e, rtol=1e-5)
    assert optimizers.SGD(lr=lr, decay=decay).get_config()["decay"] == decay


def test_get_config_round_trip():
    opt = optimizers.RMSprop(learning_rate=0.25, rho=0.8, momentum=0.1, centered=True, clipnorm=1.0)
    clone = optimizers.RMSprop.from_config(opt.get_config())
    assert clone.get_config() == opt.get_config()
    scheduled = optimizers.SGD(learning_rate=optimizers.schedules.CosineDecay(0.1, 100))
    again = optimizers.deserialize(optimizers.serialize(scheduled))
    assert isinstance(again._learning_rate, optimizers.schedules.CosineDecay)


def test_get():
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("RMSprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get("Sgd"), optimizers.SGD)
    opt = optimizers.Nadam()
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError, match="'adamm'.*Adam.*SGD"):
        optimizers.get("adamm")


@pytest.mark.parametrize("name", ["lamb", "adafactor"])
def test_lamb_and_adafactor_by_name_train_alike_on_every_backend(name):
    x = RNG.uniform(size=(64, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    histories = []
    for backend in ("numpy", "jax", "theano"):
        mlcore.utils.set_random_seed(0)
        model = mlcore.Sequential([mlcore.layers.Input((4,)), mlcore.layers.Dense(8, activation="relu"),
                                   mlcore.layers.Dense(1)])
        model.compile(optimizers.get({"class_name": name, "config": {"learning_rate": 0.01}}), "mse", backend=backend)
        histories.append(model.fit(x, y, epochs=10, batch_size=16, verbose=0).history["loss"])
    assert histories[0][-1] < 0.5 * histories[0][0]
    for other in histories[1:]:
        np.testing.assert_allclose(other, histories[0], rtol=1e-4)


def test_argument_checks():
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(beta1=0.9)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)


def test_missing_gradient_warns_and_leaves_the_variable():
    a, b = mlcore.shared(np.float32(1.0), name="a"), mlcore.shared(np.float32(1.0), name="b")
    opt = optimizers.SGD(0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        updates = opt.get_updates([a, b], [mlcore.grad(a * a, a), None])
    assert any("b" in str(w.message) for w in caught)
    assert b not in [target for target, _ in updates]


def test_runs_on_the_jax_backend():
    pytest.importorskip("jax")
    w = mlcore.shared(np.ones(3, "float32"), name="w")
    loss = ((w - 2.0) ** 2).sum()
    opt = optimizers.Nadam(0.1)
    step = mlcore.function([], loss, updates=opt.get_updates([w], [mlcore.grad(loss, w)]), backend="jax")
    for _ in range(3):
        step()
    reference = optimizers.Nadam(0.1)
    v = mlcore.shared(np.ones(3, "float32"), name="w")
    loss = ((v - 2.0) ** 2).sum()
    step = mlcore.function([], loss, updates=reference.get_updates([v], [mlcore.grad(loss, v)]), backend="numpy")
    for _ in range(3):
        step()
    np.testing.assert_allclose(w.get_value(), v.get_value(), rtol=1e-6)


def test_apply_gradients_eager_api_matches_keras(keras):
    weights = [mlcore.shared(w.copy(), name="w%d" % i) for i, w in enumerate(INIT)]
    opt = optimizers.Adam(0.1)
    for _ in range(3):
        assert opt.apply_gradients(zip(quadratic_grads([w.get_value() for w in weights]), weights)) is opt.iterations
    expected, _ = run_keras(keras.optimizers.Adam(0.1))
    for w, e in zip(weights, expected):
        np.testing.assert_allclose(w.get_value(), e, rtol=1e-5)
