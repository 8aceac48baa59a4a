"""Optimizer steps where Keras's own optimizer tests (keras/src/optimizers/*_test.py, run by
tools/keras_layer_suite.py) found mlcore different, each checked against Keras 3 itself: `iterations` under
gradient accumulation (applied steps, in eager steps and in fit's compiled ones), `apply()` and the
constraints of an eager step, LossScaleOptimizer's unscaled overwrite-with-gradient variables,
MultiOptimizer's apply and round trip, OptimizerMap's refusals, and Muon's public methods on arrays."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")     # before any keras import (keras picks its backend once)

import re

import numpy as np
import pytest

import mlcore
from mlcore import optimizers

pytestmark = pytest.mark.usefixtures("numpy_backend", "float32_jax")

RNG = np.random.default_rng(11)
W0 = RNG.normal(size=(3, 2)).astype("float32")
B0 = RNG.normal(size=(2,)).astype("float32")
GRADS = [(RNG.normal(size=(3, 2)).astype("float32"), RNG.normal(size=(2,)).astype("float32")) for _ in range(8)]


def values(variables):
    return [np.asarray(v) for v in variables]


def assert_close(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def with_iteration_rate(optimizer, ops):
    """A callable learning rate read from `iterations` (Keras's documented form), so the compiled step must
    read the count when it runs."""
    optimizer.learning_rate = lambda: 0.1 / (1.0 + ops.cast(optimizer.iterations, "float32"))
    return optimizer


ACCUMULATING = {
    "sgd": lambda lib: lib.optimizers.SGD(0.1, momentum=0.9, use_ema=True, ema_overwrite_frequency=2,
                                          gradient_accumulation_steps=3),
    "adam_schedule": lambda lib: lib.optimizers.Adam(lib.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5),
                                                     weight_decay=0.05, gradient_accumulation_steps=3),
    "adam_callable_rate": lambda lib: with_iteration_rate(lib.optimizers.Adam(gradient_accumulation_steps=3),
                                                          lib.ops),
}


@pytest.mark.parametrize("case", sorted(ACCUMULATING))
def test_eager_steps_under_accumulation_count_applied_steps_as_keras(keras, case):
    """Each call accumulates; every third applies the mean.  `iterations` counts applied steps (what the update
    rules, EMA and a rate read from it see); the counter in `variables` and a schedule count every call."""
    ours, theirs = ACCUMULATING[case](mlcore), ACCUMULATING[case](keras)
    ours_vars, theirs_vars = [mlcore.Variable(W0), mlcore.Variable(B0)], [keras.Variable(W0), keras.Variable(B0)]
    for step, grads in enumerate(GRADS, 1):
        ours.apply_gradients(zip(grads, ours_vars))
        theirs.apply_gradients(zip(grads, theirs_vars))
        assert int(ours.iterations) == int(theirs.iterations) == step // 3
        assert_close(values(ours_vars), values(theirs_vars))
        assert_close(values(ours.variables), values(theirs.variables))
    assert ours.iterations.numpy() == np.asarray(ours.iterations) == ours.iterations.get_value() == 2
    assert int(ours.variables[0].numpy()) == len(GRADS)


def dense(lib):
    net = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
    net.set_weights([W0, B0])
    return net


@pytest.mark.parametrize("case", sorted(ACCUMULATING))
def test_fit_under_accumulation_counts_applied_steps_as_keras(keras, case):
    """The same rule in fit's compiled step: 2 epochs of 5 batches, 10 calls, 3 applied steps."""
    x, y = RNG.normal(size=(10, 3)).astype("float32"), RNG.normal(size=(10, 2)).astype("float32")
    nets = []
    for lib in (mlcore, keras):
        net = dense(lib)
        net.compile(ACCUMULATING[case](lib), "mse")
        net.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
        nets.append(net)
    ours, theirs = nets
    assert int(ours.optimizer.iterations) == int(theirs.optimizer.iterations) == 3
    assert_close(ours.get_weights(), theirs.get_weights())
    assert_close(values(ours.optimizer.variables), values(theirs.optimizer.variables))


def test_apply_takes_the_built_variables_and_applies_constraints_as_keras(keras):
    """apply(grads) without variables steps those the optimizer was built on; a constraint is applied after
    each eager step, as in fit."""
    results = []
    for lib in (mlcore, keras):
        kernel, bias = lib.Variable(W0), lib.Variable(B0)
        kernel.constraint = lib.constraints.NonNeg()
        optimizer = lib.optimizers.SGD(0.5)
        optimizer.build([kernel, bias])
        optimizer.apply([])                                         # no gradients: nothing happens
        optimizer.apply(list(GRADS[0]))
        with pytest.raises(ValueError, match="must match `optimizer.variables` one-to-on"):
            optimizer.apply([GRADS[1][0]])
        results.append(values([kernel, bias, optimizer.iterations]))
    assert_close(*results)
    assert results[0][0].min() == 0.0 and (W0 - 0.5 * GRADS[0][0]).min() < 0


def test_loss_scale_optimizer_gives_an_overwritten_variable_its_gradient_unscaled_as_keras(keras):
    """Float8 scales (overwrite_with_gradient) take their gradient as it is; the other variables' gradients
    are divided by the dynamic scale."""
    grads = [np.array([1.0, 6.0, 7.0, 2.0], "float32"), GRADS[0][1]]
    results = []
    for lib in (mlcore, keras):
        scale, bias = lib.Variable(np.array([1.0, 2.0, 3.0, 4.0], "float32")), lib.Variable(B0)
        scale.overwrite_with_gradient = True
        optimizer = lib.optimizers.LossScaleOptimizer(lib.optimizers.SGD(0.5), initial_scale=4.0)
        optimizer.build([scale, bias])
        results.append(optimizer.stateless_apply([v.value for v in optimizer.variables], grads,
                                                 [scale.value, bias.value])[0])
        if lib is mlcore:
            optimizer.apply(grads)
            assert_close(values([scale, bias]), results[0])
    assert_close(*results)
    np.testing.assert_array_equal(np.asarray(results[0][0]), grads[0])
    np.testing.assert_allclose(np.asarray(results[0][1]), B0 - 0.5 * grads[1] / 4.0, rtol=1e-6)


def scoped_kernels(lib):
    kernels = []
    for scope in ("dense_1", "dense_2", "other"):
        with lib.name_scope(scope):
            kernels.append(lib.Variable(np.array([[2.0, 2.0]], "float32"), name="kernel"))
    return kernels


def multi_optimizer(lib):
    o = lib.optimizers
    return o.MultiOptimizer(o.OptimizerMap(o.RMSprop(0.01), {"^dense_1/.*": o.Adam(0.1), "^dense_2/.*": o.SGD(0.5)}),
                            loss_scale_factor=5.0)


def test_multi_optimizer_apply_and_round_trip_as_keras(keras):
    """Each variable stepped by the optimizer its path selects, its gradient unscaled by the shared factor;
    a deserialized MultiOptimizer selects the same optimizers and steps the same."""
    grads = [np.array([[10.0, -5.0]], "float32")] * 3
    results = []
    for lib in (mlcore, keras):
        original = multi_optimizer(lib)
        again = lib.optimizers.deserialize(lib.optimizers.serialize(original))
        assert [type(o).__name__ for o in again.optimizers] == ["Adam", "SGD", "RMSprop"]
        for optimizer in (original, again):
            kernels = scoped_kernels(lib)
            optimizer.apply(grads, kernels)
            results.append(values(kernels) + [int(optimizer.iterations)]
                           + [int(o.iterations) for o in optimizer.optimizers])
    assert_close(results[0], results[1])
    assert_close(results[0], results[2])
    assert_close(results[2], results[3])
    np.testing.assert_allclose(results[0][1], [[1.0, 2.5]])         # SGD(0.5) on the gradient / 5


@pytest.mark.parametrize("inner, message", [
    (lambda o: o.LossScaleOptimizer(o.SGD()), "optimizer cannot be LossScaleOptimizer."),
    (lambda o: o.MultiOptimizer(o.OptimizerMap(o.SGD())), "optimizer cannot be MultiOptimizer."),
    (lambda o: "sgd", "optimizer must be a Keras Optimizer instance. Received: sgd")])
def test_optimizer_map_refuses_what_cannot_be_inside_in_keras_words(keras, inner, message):
    for lib in (mlcore, keras):
        optimizer_map = lib.optimizers.OptimizerMap(lib.optimizers.SGD())
        with pytest.raises(ValueError, match=re.escape(message)):
            optimizer_map[".*"] = inner(lib.optimizers)


def test_multi_optimizer_build_refuses_a_nested_optimizer_in_keras_words(keras):
    for lib in (mlcore, keras):
        multi = lib.optimizers.MultiOptimizer(lambda variable: lib.optimizers.LossScaleOptimizer(lib.optimizers.SGD()))
        with pytest.raises(ValueError, match="LossScaleOptimizer cannot be used inside an MultiOptimizer."):
            multi.build(scoped_kernels(lib))


def test_muon_public_methods_take_arrays_and_update_step_runs_alone_as_keras(keras):
    """zeropower_via_newtonschulz5 and lr_adjust on arrays give arrays; update_step called on its own (as a
    custom optimizer is tested) assigns at once: Muon's step on a matrix, AdamW's on a vector."""
    x = np.array([[0.2499, 0.9105], [0.2655, 0.8824], [0.1, -0.3]], "float32")
    ours, theirs = optimizers.Muon(learning_rate=0.5, weight_decay=0), keras.optimizers.Muon(learning_rate=0.5,
                                                                                          weight_decay=0)
    newton_schulz = ours.zeropower_via_newtonschulz5(x, 5)
    assert isinstance(newton_schulz, np.ndarray)
    assert_close([newton_schulz, ours.lr_adjust(x)], [theirs.zeropower_via_newtonschulz5(x, 5), theirs.lr_adjust(x)])
    results = []
    for lib, optimizer in ((mlcore, ours), (keras, theirs)):
        matrix, vector = lib.Variable(W0), lib.Variable(B0)
        optimizer.build([matrix, vector])
        optimizer.update_step(GRADS[0][0], matrix, 0.5)
        optimizer.update_step(GRADS[0][1], vector, 0.5)
        results.append(values([matrix, vector] + optimizer.variables))
    assert_close(*results)
    assert not np.allclose(results[0][0], W0)
