"""The theano backend (PyTensor, C linker) against the numpy reference.

C compilation is slow: the graphs are small, the MLP step is compiled once for the tests
that look at it, and PyTensor's on-disk module cache makes later runs fast.
"""
import numpy as np
import pytest

pt = pytest.importorskip("pytensor.tensor")
from pytensor.compile.builders import OpFromGraph  # noqa: E402

import mlcore  # noqa: E402
import mlcore.tensor as T  # noqa: E402
from backends import array_api as xk  # noqa: E402
from backends.numpy.kernels import lower as numpy_lower  # noqa: E402
from backends.theano import BACKEND  # noqa: E402
from backends.theano.compiler import compile_graph  # noqa: E402
from backends.theano.kernels import SPECIAL, lower  # noqa: E402
from mlcore.graph import ops  # noqa: E402
from mlcore.graph.ops import elemwise as ew  # noqa: E402
from mlcore.tensor.shared_randomstreams import RandomStreams  # noqa: E402
from training_steps import convnet_batches, convnet_steps, mlp_batches, mlp_step  # noqa: E402


def test_every_numpy_op_has_a_theano_lowering():
    missing = [cls.__name__ for cls in numpy_lower.table if lower.lookup(cls) is None]
    assert not missing, "no theano lowering for %s" % missing


def test_every_elemwise_name_has_a_pytensor_function():
    classes, missing = list(ew.Elemwise.__subclasses__()), []
    while classes:
        cls = classes.pop()
        classes += cls.__subclasses__()
        if cls in (ew.Composite, ew.Cast) or cls.__subclasses__():
            continue
        try:
            xk.elemwise_kernel(pt, cls(), SPECIAL)
        except (KeyError, AttributeError):
            missing.append(cls.__name__)
    assert not missing


# --- the logistic regression of Theano's tutorial, float64 ------------------------------------------
def logistic_regression(backend, data):
    """Theano's tutorial: shared w and b, the gradient of a regularized cross-entropy, SGD updates."""
    x, y = T.dmatrix("x"), T.dvector("y")
    w = mlcore.shared(np.random.default_rng(1).standard_normal(data[0].shape[1]), name="w")
    b = mlcore.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = mlcore.function([x, y], [p_1 > 0.5, xent], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)],
                            backend=backend)
    for _ in range(10):
        train(*data)
    return w.get_value(), b.get_value()


def test_logistic_regression_matches_numpy():
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((400, 784)), rng.integers(0, 2, 400).astype("float64"))
    w_ref, b_ref = logistic_regression("numpy", data)
    w, b = logistic_regression("theano", data)
    assert w.dtype == np.float64
    np.testing.assert_allclose(w, w_ref, rtol=1e-6)
    np.testing.assert_allclose(b, b_ref, rtol=1e-6)


# --- an MLP step, 784-500-10, float32 ----------------------------------------------------------------
@pytest.fixture(scope="module")
def mlp():
    return mlp_step("theano")


def test_mlp_losses_match_numpy(mlp):
    step, params = mlp
    reference, ref_params = mlp_step("numpy")
    for p, r in zip(params, ref_params):
        p.set_value(r.get_value())
    for batch in mlp_batches():
        loss, expected = step(*batch), reference(*batch)
        assert loss.dtype == np.float32
        np.testing.assert_allclose(loss, expected, rtol=1e-4)
    for p, r in zip(params, ref_params):
        np.testing.assert_allclose(p.get_value(), r.get_value(), rtol=1e-4, atol=1e-6)


def test_mlp_runs_as_one_c_graph_with_blas(mlp):
    step, _ = mlp
    ops_used = [node.op for node in step._fn.maker.fgraph.toposort()]
    assert {type(op).__name__ for op in ops_used} & {"Gemm", "Dot22", "Dot22Scalar", "Gemv"}
    assert not [op for op in ops_used if isinstance(op, OpFromGraph)]   # inner graphs compile apart


# --- a small convnet step ----------------------------------------------------------------------------
def test_a_kernel_on_a_batch_of_sequences_is_one_blas_product():
    """Dense on (batch, steps, features): the stacked rows times the kernel in one BLAS product (Dot22),
    not PyTensor's batched matmul, which repeated the kernel per batch entry (an LSTM(128) on 512 features
    projecting its inputs at once: 25.6 -> 14.9 ms per inference)."""
    x = T.tensor("float32", shape=(None, 5, 3), name="x")
    w = mlcore.shared(np.arange(6, dtype="float32").reshape(3, 2), name="w")
    f = mlcore.function([x], T.tanh(T.dot(x, w)), backend="theano")
    ops_run = [type(node.op).__name__ for node in f._fn.maker.fgraph.toposort()]
    assert "Dot22" in ops_run and "Blockwise" not in ops_run
    value = np.linspace(-1, 1, 4 * 5 * 3, dtype="float32").reshape(4, 5, 3)
    np.testing.assert_allclose(f(value), np.tanh(value @ w.get_value()), rtol=1e-6)


def test_convnet_step_matches_numpy():
    batches = convnet_batches()
    (losses, params), (ref_losses, ref_params) = (convnet_steps(backend, batches) for backend in ("theano", "numpy"))
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-4)
    for p, r in zip(params, ref_params):
        np.testing.assert_allclose(p, r, rtol=1e-4, atol=1e-6)


# --- dtypes, random draws, the profiler, the JAX linker ------------------------------------------------
def test_dtypes_follow_mlcore_not_pytensor():
    i, f = T.lvector("i"), T.fvector("f")
    fn = mlcore.function([i, f], [i / i, f * i, i // 2, f.sum()], backend="theano")
    got = fn(np.arange(1, 4), np.ones(3, dtype="float32"))
    assert [v.dtype.name for v in got] == ["float32", "float32", "int64", "float32"]


def test_updates_leave_other_shared_values_alone():
    a, b = mlcore.shared(np.zeros(3, dtype="float32")), mlcore.shared(np.ones(3, dtype="float32"))
    mlcore.function([], [], updates={a: b}, backend="numpy")()   # a and b may now hold one array
    mlcore.function([], [], updates={b: b * 3 + 1}, backend="theano")()
    np.testing.assert_array_equal(a.get_value(), [1, 1, 1])
    np.testing.assert_array_equal(b.get_value(), [4, 4, 4])


def test_random_draws_have_the_right_statistics():
    streams = RandomStreams(7)
    u, n = streams.uniform((20000,), 1.0, 3.0), streams.normal((20000,), 2.0, 0.5)
    draw = mlcore.function([], [u, n], backend="theano")
    first, second = draw(), draw()
    assert not np.array_equal(first[0], second[0])      # the key advances between calls
    assert first[0].min() >= 1.0 and first[0].max() < 3.0
    assert abs(first[0].mean() - 2.0) < 0.02 and abs(first[1].mean() - 2.0) < 0.02
    assert abs(first[1].std() - 0.5) < 0.02


def test_profile_includes_pytensor_report():
    x = T.fmatrix("x")
    fn = mlcore.function([x], T.tanh(x).sum(), backend="theano", profile=True)
    fn(np.ones((3, 4), dtype="float32"))
    report = fn.profile.summary()
    assert "Function profiling" in report and "CAReduce" in report and "<Apply name>" in report


def test_jax_linker_runs_the_graph():
    """The GPU path (PyTensor's JAX linker) run on the CPU: conv, pooling, a flatten whose shape XLA
    needs static, their gradients, and a random draw."""
    pytest.importorskip("jax")
    x = T.ftensor4("x")
    kernel = mlcore.shared(np.full((3, 3, 1, 2), 0.1, dtype="float32"))
    hidden = T.flatten(ops.pool2d(ops.conv2d(x, kernel, padding="same"), (2, 2)), 2)
    noise = RandomStreams(3).uniform((2,), 0.0, 1.0)
    outputs = [T.grad((hidden ** 2).sum(), kernel), noise]
    reference = mlcore.function([x], outputs, backend="numpy")
    values = [np.random.default_rng(6).standard_normal((2, 6, 6, 1)).astype("float32")]
    values += [np.asarray(v.get_value()) for v in reference.shared]     # a random key: its RandomState view as an array
    got = compile_graph(reference.fgraph, "JAX")(*values)
    expected = reference(values[0])
    assert got[0].dtype == np.float32
    np.testing.assert_allclose(np.asarray(got[0]), expected[0], rtol=1e-5)
    assert 0 <= np.asarray(got[1]).min() and np.asarray(got[1]).max() < 1


def test_no_pytensor_rewrite_fails_on_a_ctc_gradient_or_a_nested_scan(capfd, caplog):
    """PyTensor prints "Rewrite failure" (and skips the rewrite) when one of its rewrites raises: a
    Mul of a float by a bool (mlcore's gradients of comparisons) and x[i] of a partly known
    SpecifyShape inside a scan's inner function did so."""
    from mlcore.ops.ctc import ctc_loss
    logits, labels = T.tensor3("logits"), T.imatrix("labels")
    lengths = T.as_tensor_variable(np.array([2, 2], "int32")), T.as_tensor_variable(np.array([4, 4], "int32"))
    loss = ctc_loss(labels, logits, *lengths, mask_index=0)
    ctc = mlcore.function([logits, labels], [loss, T.grad(loss.sum(), logits)], backend="theano")
    gradient = ctc(np.zeros((2, 4, 3), "float32"), np.array([[1, 2], [2, 1]], "int32"))[1]
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    states, _ = mlcore.scan_checkpoints(lambda row, h: T.tanh(row + h), sequences=[x], outputs_info=[h0],
                                        save_every_N=7)
    nested = mlcore.function([x, h0], [states, T.grad(states[-1].sum(), x)], backend="theano")
    nested(np.ones((7, 2)), np.zeros(2))
    printed = capfd.readouterr()
    assert "Rewrite failure" not in printed.out + printed.err + caplog.text
    np.testing.assert_allclose(gradient.sum(axis=2), 0, atol=1e-6)    # softmax gradients sum to zero per step
