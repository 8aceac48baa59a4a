"""Each rewrite pass changes the compiled graph as its name says (the op types in
function.fgraph before and after) and leaves the numbers as rewrites="none" computes them;
the stabilized forms stay finite for logits of magnitude 1e4, values and gradients."""
import numpy as np
import pytest
import scipy.special

import mlcore
import mlcore.tensor as T
from mlcore.graph.basic import Constant
from mlcore.graph.rewrite import PASSES, PRESETS

x, y = T.dmatrix("x"), T.dmatrix("y", shape=(None, 3))
shifted = x - T.max(x, 1, keepdims=True)


def op_types(fn):
    return [type(node.op).__name__ for node in fn.fgraph.toposort()]


def compiled(output, rewrites, inputs=(x,)):
    return mlcore.function(list(inputs), output, backend="numpy", rewrites=rewrites, on_unused_input="ignore")


REWRITES = [  # pass, output, op types without rewrites, op types after only this pass
    ("merge", T.exp(x) + T.exp(x), ["Exp", "Exp", "Add"], ["Exp", "Add"]),
    ("constant_folding", x + T.exp(T.constant(np.ones((10, 10)))).sum() * 2, ["Exp", "Sum", "Mul", "DimShuffle", "Add"],
     ["Add"]),
    ("canonicalize", (x * 1 + 0) / 1, ["Mul", "Add", "TrueDiv"], []),
    ("canonicalize", -(-x), ["Neg", "Neg"], []),
    ("canonicalize", T.exp(T.log(y)) + x.T.T, ["Log", "Exp", "DimShuffle", "DimShuffle", "Add"], ["Add"]),
    ("canonicalize", T.zero_grad(x) + T.cast(x, "float64"), ["GradientBlock", "Add"], ["Add"]),
    ("canonicalize", T.shape(y)[1] * x, ["Shape", "Subtensor", "DimShuffle", "Mul"], ["DimShuffle", "Mul"]),
    ("canonicalize", T.inc_subtensor(y[T.arange(3), T.arange(3) % 3], T.second(y[T.arange(3), T.arange(3) % 3], x[0, 0])),
     ["Subtensor", "Subtensor", "DimShuffle", "Second", "IncSubtensor"],
     ["Subtensor", "DimShuffle", "IncSubtensor"]),   # the increment broadcasts itself
    ("canonicalize", T.max(y.dimshuffle(0, "x", 1), axis=1) + T.sum(x.dimshuffle("x", 0, 1), axis=0),
     ["DimShuffle", "Max", "DimShuffle", "Sum", "Add"], ["Add"]),      # reductions over dims of size 1
    ("canonicalize", T.sum(T.sum(y.dimshuffle(0, "x", 1), axis=(0, 1), keepdims=True), axis=(0, 1)),
     ["DimShuffle", "Sum", "Sum"], ["DimShuffle", "Sum", "DimShuffle"]),
    ("stabilize", T.log(T.nnet.softmax(x)), ["Softmax", "Log"], ["LogSoftmax"]),
    ("stabilize", shifted - T.log(T.exp(shifted).sum(1, keepdims=True)),
     ["Max", "Sub", "Exp", "Sum", "Log", "Sub"], ["LogSoftmax"]),   # log-softmax written out
    ("stabilize", x - T.log(T.exp(x).sum(axis=0, keepdims=True)), ["Exp", "Sum", "Log", "Sub"], ["LogSoftmax"]),
    ("stabilize", x - T.log(T.exp(x).sum(axis=1)).dimshuffle(0, "x"), ["Exp", "Sum", "Log", "DimShuffle", "Sub"],
     ["Exp", "Sum", "Log", "DimShuffle", "Sub"]),    # only the keepdims form is matched
    ("stabilize", T.log(1 + x), ["Add", "Log"], ["Log1p"]),
    ("stabilize", T.exp(x) - 1, ["Exp", "Sub"], ["Expm1"]),
    ("stabilize", T.log(1 / (1 + T.exp(-x))), ["Neg", "Exp", "Add", "TrueDiv", "Log"], ["Neg", "Softplus", "Neg"]),
    ("stabilize", T.log(1 - T.nnet.sigmoid(x)), ["Sigmoid", "Sub", "Log"], ["Softplus", "Neg"]),
    ("specialize", x ** 2, ["Pow"], ["Sqr"]),
    ("specialize", x ** 10, ["Pow"], ["Sqr", "Sqr", "Sqr", "Mul"]),
    ("specialize", x ** 0.5 + x * x, ["Pow", "Mul", "Add"], ["Sqrt", "Sqr", "Add"]),
    ("specialize", x ** -1, ["Pow"], ["TrueDiv"]),
    ("specialize", x - 0.1 * T.dot(x.T, y), ["DimShuffle", "Matmul", "Mul", "Sub"], ["DimShuffle", "Gemm"]),
    ("specialize", T.dot(x, y) * 3 + x, ["Matmul", "Mul", "Add"], ["Gemm"]),
    ("specialize", x[0] - T.dot(x, y), ["Subtensor", "DimShuffle", "Matmul", "Sub"],
     ["Subtensor", "DimShuffle", "Matmul", "Sub"]),     # c, a row, broadcasts: no gemm
    ("fusion", x ** 2 + y ** 2 + 2 * x * y, ["Pow", "Pow", "Add", "Mul", "Mul", "Add"], ["Composite"]),
    ("fusion", T.exp(x).sum() + T.tanh(x).sum(), ["Exp", "Sum", "Tanh", "Sum", "Add"],
     ["Exp", "Sum", "Tanh", "Sum", "Add"]),   # only elementwise chains fuse
]


@pytest.mark.parametrize("name, output, before, after", REWRITES,
                         ids=["%s-%d" % (r[0], k) for k, r in enumerate(REWRITES)])
def test_each_pass_rewrites_as_named_and_keeps_the_numbers(name, output, before, after, rng):
    plain, rewritten = compiled(output, "none", (x, y)), compiled(output, [name], (x, y))
    assert op_types(plain) == before
    assert op_types(rewritten) == after
    values = [rng.uniform(0.2, 2.0, size=(3, 3)), rng.uniform(0.2, 2.0, size=(3, 3))]
    np.testing.assert_allclose(rewritten(*values), plain(*values), rtol=1e-12)


def test_fast_run_fuses_the_papers_expressions(rng):
    b_ = T.dmatrix("b")
    fn = compiled(2 * x + b_ ** 10, "fast_run", (x, b_))
    assert op_types(fn) == ["Composite"]
    a, b = rng.uniform(0.5, 1.5, size=(2, 100, 100))
    np.testing.assert_allclose(fn(a, b), 2 * a + b ** 10, rtol=1e-12)


def test_fused_composites_run_in_blocks_on_big_arrays(rng):
    b_ = T.dmatrix("b")
    fn = compiled(T.exp(x) * b_ + T.tanh(x - b_), "fast_run", (x, b_))
    assert op_types(fn) == ["Composite"]
    a, b = rng.normal(size=(2, 300, 301))                   # > 4 blocks and not a multiple of one
    np.testing.assert_allclose(fn(a, b), np.exp(a) * b + np.tanh(a - b), rtol=1e-12)
    row = T.dmatrix("row", shape=(1, None))                  # a broadcasting input is not blocked
    fn = compiled(T.exp(x) * row + T.tanh(x - row), "fast_run", (x, row))
    np.testing.assert_allclose(fn(a, b[:1]), np.exp(a) * b[:1] + np.tanh(a - b[:1]), rtol=1e-12)


def test_merge_keeps_separate_random_draws():
    srng = T.random.RandomStreams(1)
    u = srng.uniform((3,))
    fn = mlcore.function([], [u, u * 1, srng.uniform((3,))], backend="numpy")
    a, b, c = fn()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_the_grad_seed_of_a_scalar_cost_is_folded():
    fn = compiled(T.grad((x * 2).sum(), x), "fast_run")
    assert op_types(fn) == ["Composite"]
    assert all(isinstance(v, Constant) or v is x for v in fn.fgraph.outputs[0].owner.inputs)
    np.testing.assert_allclose(fn(np.ones((2, 2))), 2 * np.ones((2, 2)))


def test_presets_and_pass_lists():
    assert set(PRESETS) == {"fast_run", "fast_compile", "none"} and set(PRESETS["fast_run"]) == set(PASSES)
    out = T.log(1 + T.sin(x) * 1)   # log(1 + exp(x)) would become one Softplus
    assert op_types(compiled(out, "fast_compile")) == ["Sin", "Log1p"]
    assert op_types(compiled(out, ["canonicalize", "stabilize", "fusion"])) == ["Composite"]
    assert op_types(mlcore.function([x], out, backend="numpy", mode="FAST_COMPILE")) == ["Sin", "Log1p"]


def test_unknown_passes_and_presets_are_errors():
    with pytest.raises(ValueError, match=r"Unknown rewrite pass\(es\) \['cse'\]; passes: merge, constant_folding"):
        compiled(x + 1, ["merge", "cse"])
    with pytest.raises(ValueError, match="Unknown rewrite preset 'fast'; presets: fast_run"):
        compiled(x + 1, "fast")


def test_rewrites_do_not_change_the_users_graph():
    out = T.log(T.nnet.softmax(x))
    compiled(out, "fast_run")
    assert type(out.owner.op).__name__ == "Log"


# --- numerical stability at logits of magnitude 1e4 -------------------------------------------
def log_softmax_ref(z):
    return z - scipy.special.logsumexp(z, axis=-1, keepdims=True)


def stable_cases(dtype):
    """(cost, inputs, expected value, expected gradient wrt the logits) of each stabilized loss,
    the expectations as functions of float64 logits z, labels t (ints) and targets p."""
    Z, L, H = T.matrix("z", dtype=dtype), T.lvector("t"), T.matrix("p", dtype=dtype)
    sig = scipy.special.expit

    def lsm(z):
        return z - scipy.special.logsumexp(z, axis=-1, keepdims=True)

    def bce(z, p):
        return (p * np.logaddexp(0, -z) + (1 - p) * np.logaddexp(0, z)).mean()

    def onehot(z, t):
        return np.eye(z.shape[1])[t]
    by_hand = -H * T.log(1 / (1 + T.exp(-Z))) - (1 - H) * T.log(1 - 1 / (1 + T.exp(-Z)))
    written = (Z - Z.max(axis=1, keepdims=True)) - T.log(T.exp(Z - Z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))
    return {
        "log_softmax_written_out": (-written[T.arange(L.shape[0]), L].mean(), [Z, L],
                                    lambda z, t: -lsm(z)[np.arange(len(t)), t].mean(),
                                    lambda z, t: (np.exp(lsm(z)) - onehot(z, t)) / len(t)),
        "log_softmax": (T.nnet.logsoftmax(Z).sum(), [Z], lambda z: lsm(z).sum(),
                        lambda z: 1 - z.shape[1] * np.exp(lsm(z))),
        "log_of_softmax": (T.log(T.nnet.softmax(Z)).sum(), [Z], lambda z: lsm(z).sum(),
                           lambda z: 1 - z.shape[1] * np.exp(lsm(z))),
        "crossentropy_int": (T.nnet.categorical_crossentropy(T.nnet.softmax(Z), L).mean(), [Z, L],
                             lambda z, t: -lsm(z)[np.arange(len(t)), t].mean(),
                             lambda z, t: (np.exp(lsm(z)) - onehot(z, t)) / len(t)),
        "crossentropy_onehot": (T.nnet.categorical_crossentropy(T.nnet.softmax(Z), H).mean(), [Z, H],
                                lambda z, p: -(p * lsm(z)).sum(-1).mean(),
                                lambda z, p: (np.exp(lsm(z)) * p.sum(-1, keepdims=True) - p) / len(p)),
        "binary_crossentropy": (T.nnet.binary_crossentropy(T.nnet.sigmoid(Z), H).mean(), [Z, H], bce,
                                lambda z, p: (sig(z) - p) / p.size),
        "logistic_by_hand": (by_hand.mean(), [Z, H], bce, lambda z, p: (sig(z) - p) / p.size),
    }


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_losses_stay_finite_for_logits_of_1e4(backend, dtype, rng):
    z = (rng.normal(size=(4, 5)) * 1e4).astype(dtype)
    t, p = rng.integers(0, 5, size=4), rng.uniform(size=(4, 5)).astype(dtype)
    cases = stable_cases(dtype)
    inputs = cases["crossentropy_int"][1] + cases["binary_crossentropy"][1][1:]      # z, t, p
    outputs = [out for cost, ins, _, _ in cases.values() for out in (cost, T.grad(cost, ins[0]))]
    results = iter(mlcore.function(inputs, outputs, backend=backend, on_unused_input="ignore")(z, t, p))
    exact = {inputs[0]: z.astype("float64"), inputs[1]: t, inputs[2]: p.astype("float64")}
    rtol = 1e-5 if dtype == "float32" else 1e-10
    for name, (cost, ins, value_ref, grad_ref) in cases.items():
        value, g = next(results), next(results)
        assert value.dtype == dtype and g.dtype == dtype
        assert np.isfinite(value) and np.isfinite(g).all(), name
        np.testing.assert_allclose(value, value_ref(*[exact[v] for v in ins]), rtol=rtol, err_msg=name)
        expected = grad_ref(*[exact[v] for v in ins])
        np.testing.assert_allclose(g, expected, rtol=rtol, atol=rtol * np.abs(expected).max(), err_msg=name)


def test_a_written_out_log_softmax_trains_through_one_node():
    """grad stabilizes the cost first: the log-softmax written out as hand-written programs
    have it becomes one LogSoftmax node, shared by the loss and its gradient, whose pullback
    replaces the five nodes' and the max's (the 32x32 net's batch-1 step: 27 -> 17 loss nodes)."""
    Z, L = T.matrix("z"), T.lvector("t")
    shifted = Z - Z.max(axis=1, keepdims=True)
    loss = -(shifted - T.log(T.exp(shifted).sum(axis=1, keepdims=True)))[T.arange(L.shape[0]), L].mean()
    fn = mlcore.function([Z, L], [loss, T.grad(loss, Z)], backend="numpy")
    ops = op_types(fn)
    assert ops.count("LogSoftmax") == 1 and "Max" not in ops and "Second" not in ops
    z, t = np.random.default_rng(0).normal(size=(6, 4)), np.array([0, 3, 1, 1, 2, 0])
    value, g = fn(z.astype("float32"), t)
    np.testing.assert_allclose(value, -log_softmax_ref(z)[np.arange(6), t].mean(), rtol=1e-6)
    np.testing.assert_allclose(g, (np.exp(log_softmax_ref(z)) - np.eye(4)[t]) / 6, atol=1e-7)
