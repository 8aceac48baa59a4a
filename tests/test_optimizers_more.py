"""Muon, ScheduleFreeAdamW, LossScaleOptimizer, MultiOptimizer (and OptimizerMap), keras.optimizers.legacy:
the same small model trained by mlcore (on each backend) and by Keras 3 from the same weights ends with
the same weights and optimizer state; configs equal Keras's; a saved model trains on as if never saved."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import optimizers

RNG = np.random.default_rng(7)
X = RNG.integers(0, 10, (8, 5)).astype("int32")
Y = (RNG.normal(size=(8, 2)) * 3).astype("float32")
BATCHES = [slice(0, 4), slice(4, 8), slice(2, 6), slice(0, 8)]


def model(lib):
    """An embedding (AdamW in Muon by default), a hidden matrix (Muon's), an output layer to exclude."""
    return lib.Sequential([lib.Input((5,), dtype="int32"), lib.layers.Embedding(10, 4), lib.layers.Flatten(),
                           lib.layers.Dense(6, activation="tanh", name="hidden"),
                           lib.layers.Dense(2, name="output_dense")])


@pytest.fixture(scope="module")
def initial():
    """The model's starting weights, for both libraries."""
    rng = np.random.default_rng(8)
    return [(rng.normal(size=shape) * 0.4).astype("float32") for shape in [(10, 4), (20, 6), (6,), (6, 2), (2,)]]


def values(variables):
    return [np.asarray(v.get_value() if hasattr(v, "get_value") else v) for v in variables]


def train(lib, optimizer, weights, steps=BATCHES, backend=None, y=Y):
    net = model(lib)
    net.set_weights(weights)
    net.compile(optimizer, "mse", **({} if backend is None else {"backend": backend}))
    for batch in steps:
        net.train_on_batch(X[batch], y[batch])
    return net


def assert_same_training(ours, theirs):
    """Weights and optimizer state (same variables, in Keras's order) equal to float32 rounding, as it
    grows over a few steps (Newton-Schulz iterations, Adam's division by a small sqrt(v) + epsilon)."""
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-4, atol=1e-5)
    ours_state, theirs_state = values(ours.optimizer.variables), values(theirs.optimizer.variables)
    assert [s.shape for s in ours_state] == [s.shape for s in theirs_state]
    for a, b in zip(ours_state, theirs_state):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


CASES = {
    "muon": lambda o: o.Muon(learning_rate=0.05),
    "muon_excluded": lambda o: o.Muon(learning_rate=0.05, exclude_layers=["output"], exclude_embeddings=False,
                                      nesterov=False, rms_rate=None, adam_lr_ratio=0.5, weight_decay=0.1),
    "muon_schedule": lambda o: o.Muon(o.schedules.ExponentialDecay(0.1, 2, 0.5), ns_steps=3,
                                      gradient_accumulation_steps=2),
    "schedule_free": lambda o: o.ScheduleFreeAdamW(learning_rate=0.05, warmup_steps=3, weight_decay=0.01),
    "schedule_free_schedule": lambda o: o.ScheduleFreeAdamW(o.schedules.PolynomialDecay(0.1, 3, 0.01),
                                                            beta_1=0.8, clipnorm=0.5),
    "multi": lambda o: o.MultiOptimizer(o.OptimizerMap(o.SGD(0.1, momentum=0.5),
                                                       {"sequential.*/hidden/.*": o.Adam(0.01),
                                                        "sequential.*/embedding/embeddings": o.Lion(0.01)}),
                                        loss_scale_factor=4.0),
    "loss_scale": lambda o: o.LossScaleOptimizer(o.Adam(0.01), dynamic_growth_steps=2),
    # all four at once (Muon's matrix and AdamW steps, Schedule-Free for the output layer), for every backend
    "all": lambda o: o.LossScaleOptimizer(o.MultiOptimizer(o.OptimizerMap(
        o.Muon(0.05), {"sequential.*/output_dense/.*": o.ScheduleFreeAdamW(0.05, warmup_steps=2)})),
        initial_scale=2.0 ** 10, dynamic_growth_steps=2),
}
# a target of inf makes every gradient of the batch non-finite: the step is skipped, the scale halved
Y_BAD = Y.copy()
Y_BAD[5] = np.inf
SKIPPING = [slice(0, 4), slice(0, 4), slice(4, 8), slice(0, 4), slice(4, 8), slice(4, 8), slice(0, 4),
            slice(0, 4), slice(0, 4)]


@pytest.fixture(scope="module")
def keras_runs(keras, initial):
    """Keras's trained model for each case, made once for all backends."""
    cache = {}

    def run(case, steps=BATCHES, y=Y):
        if case not in cache:
            cache[case] = train(keras, CASES[case](keras.optimizers), initial, steps, y=y)
        return cache[case]
    return run


@pytest.mark.parametrize("case", sorted(set(CASES) - {"all"}))
def test_training_matches_keras(keras_runs, initial, case, float32_jax):
    assert_same_training(train(mlcore, CASES[case](optimizers), initial, backend="numpy"), keras_runs(case))


def test_training_matches_keras_on_every_backend(keras_runs, initial, backend, float32_jax):
    """The combined optimizer, with non-finite batches skipped as Keras skips them."""
    ours = train(mlcore, CASES["all"](optimizers), initial, SKIPPING, backend, Y_BAD)
    assert ours.optimizer.dynamic_scale.get_value() == 2.0 ** 9      # halved 3 times, doubled twice
    assert int(ours.optimizer.inner_optimizer.iterations.get_value()) == 6   # the finite steps
    assert_same_training(ours, keras_runs("all", SKIPPING, Y_BAD))


def test_muon_picks_adamw_as_keras(keras):
    """A velocity slot marks the AdamW variables: not 2-D, an embedding, or matched by exclude_layers."""
    net = model(mlcore)
    for kwargs, adamw in [({}, ["embeddings", "bias", "bias"]),
                          ({"exclude_embeddings": False, "exclude_layers": ["output_d"]},
                           ["bias", "kernel", "bias"])]:
        muon = optimizers.Muon(**kwargs)
        muon.build(net.trainable_weights)
        assert [v.name for v, s in zip(net.trainable_weights, muon._adam_velocities) if s is not None] == adamw
        assert [muon._should_use_adamw(v) for v in net.trainable_weights] == [
            keras.optimizers.Muon(**kwargs)._should_use_adamw(v) for v in model(keras).trainable_weights]
    kernel = np.zeros((3, 3, 2), "float32")     # Keras 3.15 orthogonalises 2-D variables only
    assert optimizers.Muon()._should_use_adamw(mlcore.shared(kernel, name="conv/kernel"))
    assert keras.optimizers.Muon()._should_use_adamw(keras.Variable(kernel, name="kernel"))


def test_loss_scale_apply_gradients():
    """Keras's eager API (which Keras's own jax backend cannot run for this optimizer): the gradients
    given are of the scaled loss; a NaN skips the step and halves the scale; 2 good steps double it."""
    w = mlcore.shared(np.ones((2, 2), "float32"), name="w")
    optimizer = optimizers.LossScaleOptimizer(optimizers.SGD(0.5), initial_scale=4.0, dynamic_growth_steps=2)
    expected = [(0.5, 4.0, 1), (0.5, 2.0, 0), (1.0, 2.0, 1), (-1.0, 4.0, 0)]   # w, scale, step_counter
    for g, (w_value, scale, counter) in zip([4.0, np.nan, -2.0, 8.0], expected):
        optimizer.apply_gradients([(np.full((2, 2), g, "float32"), w)])
        assert (w.get_value() == w_value).all()
        assert (optimizer.dynamic_scale.get_value(), optimizer.step_counter.get_value()) == (scale, counter)
    assert optimizer.inner_optimizer.iterations.get_value() == 3


def test_loss_scale_optimizer_delegates_and_checks_arguments():
    inner = optimizers.Adam(0.01, loss_scale_factor=2.0)
    optimizer = optimizers.LossScaleOptimizer(inner, initial_scale=8.0)
    assert inner.loss_scale_factor is None     # the outer scale replaces it
    assert optimizer.learning_rate == pytest.approx(0.01)
    optimizer.learning_rate = 0.5
    assert inner.learning_rate == 0.5
    assert optimizer.iterations is inner.iterations
    assert optimizer.scale_loss(3.0) == 24.0
    with pytest.raises(ValueError, match="no longer supports `dynamic=False`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic=False)
    with pytest.raises(ValueError, match="does not support `clipnorm`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0)
    optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=None, use_ema=False)    # old configs' defaults
    with pytest.raises(ValueError, match="does not support arguments: `foo`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), foo=1)


def test_optimizer_map_lookup_as_keras():
    adam, sgd, rmsprop = optimizers.Adam(), optimizers.SGD(), optimizers.RMSprop()
    optimizer_map = optimizers.OptimizerMap(default_optimizer=rmsprop)
    optimizer_map["encoder/layer_0/dense"] = adam
    optimizer_map["encoder/.*"] = sgd
    optimizer_map["decoder"] = adam
    assert optimizer_map["decoder"] is adam and optimizer_map["encoder/layer_0/dense"] is adam
    assert optimizer_map["encoder/layer_0/attention/query"] is sgd
    assert optimizer_map["decoder/layer_0/dense"] is rmsprop
    optimizer_map[".*/query"] = adam
    with pytest.raises(ValueError, match="Multiple optimizers"):
        optimizer_map["encoder/layer_0/attention/query"]
    with pytest.raises(ValueError, match="already exists"):
        optimizer_map["decoder"] = sgd
    with pytest.raises(ValueError, match="optimizer cannot be LossScaleOptimizer."):     # Keras's words
        optimizer_map["x"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    with pytest.raises(TypeError, match="default_optimizer"):
        optimizers.OptimizerMap("sgd")


def test_multi_optimizer_with_a_selector_function(keras, initial, float32_jax):
    """A function of the variable picks its optimizer; its optimizers join the list as Keras's do."""
    def selector_for(lib):
        adam, sgd = lib.optimizers.Adam(0.02), lib.optimizers.SGD(0.1)
        return lambda variable: adam if "kernel" in variable.path else sgd
    ours = train(mlcore, optimizers.MultiOptimizer(selector_for(mlcore)), initial, backend="numpy")
    theirs = train(keras, keras.optimizers.MultiOptimizer(selector_for(keras)), initial)
    assert [type(o).__name__ for o in ours.optimizer.optimizers] == ["SGD", "Adam"]
    assert_same_training(ours, theirs)
    with pytest.raises(AttributeError, match="Learning rate cannot be accessed"):
        ours.optimizer.learning_rate
    with pytest.raises(AttributeError, match="Learning rate cannot be set"):
        ours.optimizer.learning_rate = 0.1
    nested = optimizers.MultiOptimizer(lambda variable: optimizers.LossScaleOptimizer(optimizers.SGD()))
    with pytest.raises(ValueError, match="LossScaleOptimizer cannot be used inside"):
        nested.build(model(mlcore).trainable_weights)


CONFIG_CASES = {
    "muon": lambda o: o.Muon(0.01, exclude_layers=["out"], rms_rate=None, name="m"),
    "schedule_free": lambda o: o.ScheduleFreeAdamW(o.schedules.CosineDecay(0.1, 10), warmup_steps=2, name="s"),
    "loss_scale": lambda o: o.LossScaleOptimizer(o.Lamb(0.01, name="lamb"), 64.0, 10, name="l"),
    "multi": lambda o: o.MultiOptimizer(o.OptimizerMap(o.SGD(0.1, name="sgd"), {"a/.*": o.Adam(name="adam")}),
                                        loss_scale_factor=4.0, name="mo"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_config_equals_keras_and_round_trips(keras, case):
    ours, theirs = CONFIG_CASES[case](optimizers), CONFIG_CASES[case](keras.optimizers)
    keras_config = keras.optimizers.serialize(theirs)
    assert mlcore.saving.serialize_keras_object(ours) == keras_config
    again = optimizers.deserialize(keras_config)
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    assert keras.optimizers.deserialize(mlcore.saving.serialize_keras_object(again)).get_config() \
        == theirs.get_config()
    assert type(optimizers.get(keras_config)) is type(ours)


def test_multi_optimizer_shares_its_loss_scale_factor():
    adam, sgd = optimizers.Adam(), optimizers.SGD()
    multi = optimizers.MultiOptimizer(optimizers.OptimizerMap(sgd, {"x": adam}), loss_scale_factor=8.0)
    assert adam.loss_scale_factor == sgd.loss_scale_factor == 8.0
    multi.loss_scale_factor = 2.0
    assert adam.loss_scale_factor == sgd.loss_scale_factor == 2.0
    assert multi.optimizers == [adam, sgd]


@pytest.mark.parametrize("case", ["muon", "schedule_free", "multi", "loss_scale"])
def test_saved_model_trains_on_as_if_never_saved(initial, tmp_path, case, float32_jax):
    """The .keras archive keeps the optimizer's config and every state variable (inner ones too)."""
    straight = train(mlcore, CASES[case](optimizers), initial, BATCHES, "numpy")
    first = train(mlcore, CASES[case](optimizers), initial, BATCHES[:2], "numpy")
    first.save(tmp_path / "model.keras")
    loaded = mlcore.models.load_model(tmp_path / "model.keras")
    assert type(loaded.optimizer) is type(first.optimizer)
    assert loaded.optimizer.get_config() == first.optimizer.get_config()
    loaded.compile(loaded.optimizer, "mse", backend="numpy")
    for batch in BATCHES[2:]:
        loaded.train_on_batch(X[batch], Y[batch])
    assert_same_training(loaded, straight)


def test_get_by_name_and_legacy():
    assert type(optimizers.get("muon")) is optimizers.Muon
    assert type(optimizers.get("ScheduleFreeAdamW")) is optimizers.ScheduleFreeAdamW
    assert optimizers.Muon().name.startswith("muon") and \
        optimizers.ScheduleFreeAdamW().name.startswith("schedule_free_adam_w")     # _1, _2... after the first
    for name in ("Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"):
        with pytest.raises(ImportError, match="not supported in Keras 3"):
            getattr(optimizers.legacy, name)(learning_rate=0.1)


def test_model_saved_by_keras_loads_with_its_optimizer_state(keras, keras_runs, tmp_path, float32_jax):
    """Keras's .keras file: the nested optimizers come back and every state variable lines up."""
    theirs = keras_runs("all", SKIPPING, Y_BAD)
    theirs.save(tmp_path / "keras.keras")
    ours = mlcore.models.load_model(tmp_path / "keras.keras")
    assert mlcore.saving.serialize_keras_object(ours.optimizer) == keras.optimizers.serialize(theirs.optimizer)
    ours_state, theirs_state = values(ours.optimizer.variables), values(theirs.optimizer.variables)
    assert len(ours_state) == len(theirs_state)
    for a, b in zip(ours_state, theirs_state):
        np.testing.assert_array_equal(a, b)
