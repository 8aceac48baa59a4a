"""The numpy backend's in-place evaluation, blocked fusion and patch lending: same numbers, no aliasing surprises."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from backends.numpy import c_loops, fused
from backends.numpy.inplace import inplace_targets
from backends.numpy.kernels import lower
from backends.numpy.patches import lending_pairs
from mlcore.graph.ops.nn import conv2d


def in_place_steps(fn):
    """The names of the ops that the compiled numpy function runs in place."""
    return [str(node.op) for kernel, _, _, node in fn._fn.plan.steps if kernel.__qualname__.startswith("inplace_step")]


@pytest.mark.parametrize("shape", [(300, 200), (7, 5)], ids=["large", "small"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sgd_update_of_a_matrix_is_one_gemm_into_the_donated_weight_buffer(shape, dtype):
    """w - lr * x.T @ delta becomes Gemm (specialize), run as one call of numpy's own BLAS into
    the weight's buffer: the weight keeps its buffer from step to step."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(shape).astype(dtype)
    w = mlcore.shared(w0, name="w")
    x = T.matrix("x", dtype=dtype)
    cost = T.sum(T.tanh(T.dot(x, w)))
    step = mlcore.function([x], cost, updates=[(w, w - 0.1 * mlcore.grad(cost, w))], backend="numpy")
    data = rng.standard_normal((4, shape[0])).astype(dtype)
    buffer = w.get_value(borrow=True)
    step(data)
    expected = w0 - 0.1 * data.T @ (1 - np.tanh(data @ w0) ** 2)
    np.testing.assert_allclose(w.get_value(), expected, rtol=1e-5, atol=1e-6)
    assert "Gemm" in in_place_steps(step)
    step(data)
    assert w.get_value(borrow=True) is buffer   # the second step reused the buffer the first one wrote


@pytest.fixture
def numpy_blocks_only(monkeypatch):
    """Large fused programs run in numpy blocks, not in compiled loops (tested in test_c_loops.py)."""
    monkeypatch.setattr(c_loops, "MIN_SIZE", np.inf)


@pytest.mark.parametrize("shape, compiled", [((300, 200), True), ((300, 200), False), ((7, 5), False)],
                         ids=["c-loop", "blocked", "small"])
def test_elementwise_update_overwrites_the_donated_weight_buffer(shape, compiled, request):
    """Big programs run in a C loop or in blocks, small ones on whole arrays, the last step written
    into the dying buffer: either way the weight keeps its buffer from step to step."""
    if not compiled:
        request.getfixturevalue("numpy_blocks_only")
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(shape).astype("float32")
    w = mlcore.shared(w0, name="w")
    x = T.fmatrix("x")
    cost = T.sum(T.tanh(x * w))
    step = mlcore.function([x], cost, updates=[(w, w - 0.1 * mlcore.grad(cost, w) * w)], backend="numpy")
    data = rng.standard_normal(shape).astype("float32")
    buffer = w.get_value(borrow=True)
    step(data)
    expected = w0 - 0.1 * data * (1 - np.tanh(data * w0) ** 2) * w0
    np.testing.assert_allclose(w.get_value(), expected, rtol=1e-5, atol=1e-6)
    assert any("Composite" in name for name in in_place_steps(step))
    step(data)
    assert w.get_value(borrow=True) is buffer


def test_gemm_writes_only_into_c_and_gives_blas_every_layout():
    """BLAS reads a and b while it writes c: a dying a of c's layout is never the target; transposed
    (Fortran-ordered) and C-ordered operands give the same numbers, float32 and float64."""
    from backends.numpy import blas
    from backends.numpy.inplace import writable_positions
    c, a, b = T.fmatrix("c"), T.fmatrix("a"), T.fmatrix("b")
    node = T.gemm(c, 0.5, a, b, 1.0).owner
    assert list(writable_positions(node, [0, 1, 2, 3, 4])) == [0]
    assert list(writable_positions(node, [0, 1, 0, 3, 4])) == []     # c is also a
    rng = np.random.default_rng(1)
    for dtype in ("float32", "float64"):
        for a_t in (False, True):
            for b_t in (False, True):
                a_ = rng.standard_normal((6, 5)).astype(dtype).T if a_t else rng.standard_normal((5, 6)).astype(dtype)
                b_ = rng.standard_normal((3, 6)).astype(dtype).T if b_t else rng.standard_normal((6, 3)).astype(dtype)
                c_ = rng.standard_normal((5, 3)).astype(dtype)
                expected = 0.5 * c_ - 2.0 * (a_.astype("float64") @ b_)
                if blas.ROUTINES:
                    assert blas.gemm(-2.0, a_, b_, 0.5, c_) is c_
                    np.testing.assert_allclose(c_, expected, rtol=1e-5, atol=1e-5)
    assert blas.gemm(1.0, np.ones((2, 2), "float16"), np.ones((2, 2), "float16"), 1.0,
                     np.ones((2, 2), "float16")) is None        # no half-precision gemm: the caller computes


def test_an_earlier_result_is_not_changed_by_a_later_in_place_update():
    w = mlcore.shared(np.ones(5), name="w")
    read = mlcore.function([], w, backend="numpy")
    bump = mlcore.function([], [], updates=[(w, w * 2 + 1)], backend="numpy")
    before = read()
    bump()
    np.testing.assert_array_equal(before, np.ones(5))
    np.testing.assert_array_equal(w.get_value(), np.full(5, 3.0))


def test_outputs_never_share_memory_with_inputs_or_each_other():
    x = T.dmatrix("x")
    fn = mlcore.function([x], [x.T, x.T, x + 0], backend="numpy")
    value = np.arange(6.0).reshape(2, 3)
    first, second, third = fn(value)
    assert not np.shares_memory(first, value) and not np.shares_memory(first, second)
    first[0, 0] = 99
    np.testing.assert_array_equal(value, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(second, value.T)
    np.testing.assert_array_equal(third, value)


def test_a_buffer_still_viewed_later_is_not_overwritten():
    x = T.dmatrix("x")
    e = T.exp(x)
    view = e.T                     # a view of e's buffer, read after e's last elementwise use
    fn = mlcore.function([x], T.dot(view, e + 1), backend="numpy")
    value = np.random.default_rng(1).standard_normal((3, 4))
    np.testing.assert_allclose(fn(value), np.exp(value).T @ (np.exp(value) + 1))


def test_user_inputs_are_never_written():
    x = T.dvector("x")
    fn = mlcore.function([x], T.tanh(x * 2 + 1), backend="numpy")
    value = np.linspace(-1, 1, 7)
    copy = value.copy()
    np.testing.assert_allclose(fn(value), np.tanh(copy * 2 + 1))
    np.testing.assert_array_equal(value, copy)


def test_the_analysis_picks_a_dying_temporary_and_not_an_input():
    x = T.dvector("x")
    fn = mlcore.function([x], T.exp(x) * 3 - T.log(x + 2), backend="numpy", rewrites=["canonicalize"])
    plan = fn._fn.plan
    raw = [lower.kernel(node) for _, _, _, node in plan.steps]
    targets = inplace_targets(plan, raw, donated=set(), protected=set(plan.output_slots))
    input_slots = set(range(plan.n_inputs))
    assert targets and all(plan.steps[k][1][pos] not in input_slots for k, pos in targets.items())


@pytest.mark.parametrize("size", [1, 1000, fused.BLOCK, 2 * fused.BLOCK + 17])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_blocked_fusion_matches_numpy_across_block_edges(size, dtype, numpy_blocks_only):
    a, b = T.vector("a", dtype=dtype), T.vector("b", dtype=dtype)
    fn = mlcore.function([a, b], [a ** 2 + b ** 2 + 2 * a * b, 2 * a + b ** 10, T.tanh(a) * T.exp(-b) - a / (b + 1)],
                         backend="numpy")
    rng = np.random.default_rng(size)
    va, vb = (rng.uniform(0, 1, size).astype(dtype) for _ in range(2))
    tol = 1e-5 if dtype == "float32" else 1e-12
    for got, want in zip(fn(va, vb), [va ** 2 + vb ** 2 + 2 * va * vb, 2 * va + vb ** 10,
                                      np.tanh(va) * np.exp(-vb) - va / (vb + 1)]):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_small_programs_run_as_written_out_numpy_calls():
    """A Composite's whole-array path is one Python function of numpy calls (fused.whole_array_function):
    its last ufunc writes into `out` where one is given, and its result has the node's dtype."""
    a, b, c = T.fvector("a"), T.fvector("b"), T.fvector("c")
    fn = mlcore.function([a, b, c], c - T.tanh(a) * b, backend="numpy")
    (node,) = [n for _, _, _, n in fn._fn.plan.steps]
    kernels = [getattr(np, {"tanh": "tanh", "mul": "multiply", "sub": "subtract"}[o.name]) for o, _ in node.op.program]
    whole = fused.whole_array_function(node.op, kernels, node.outputs[0].dtype, into_out=True)
    assert whole.source.count("\n") == len(node.op.program) + 3   # def, one line a step, out=, return
    va, vb, vc = (np.linspace(-1, 1, 7, dtype="float32") * k for k in (1, 2, 3))
    want = vc - np.tanh(va) * vb
    out = np.empty(7, "float32")
    assert whole(va, vb, vc, out=out) is out
    np.testing.assert_allclose(out, want, rtol=1e-6)
    fresh = whole(va, vb, vc)
    assert fresh.dtype == np.float32 and fresh is not out
    np.testing.assert_allclose(fresh, want, rtol=1e-6)
    np.testing.assert_allclose(fn(va, vb, vc), want, rtol=1e-6)


def test_a_long_program_needs_few_scratch_buffers(numpy_blocks_only):
    a = T.dvector("a")
    expr = a
    for k in range(12):
        expr = T.tanh(expr) * 1.5 + 0.25
    fn = mlcore.function([a], expr, backend="numpy")
    (node,) = [n for _, _, _, n in fn._fn.plan.steps]
    step_dtypes = ["float64"] * len(node.op.program)
    slots, dtypes = fused.buffer_plan(node.op, step_dtypes)
    assert len(node.op.program) >= 24 and len(dtypes) <= 2
    value = np.linspace(-2, 2, 3 * fused.BLOCK + 5)
    want = value
    for k in range(12):
        want = np.tanh(want) * 1.5 + 0.25
    np.testing.assert_allclose(fn(value), want, rtol=1e-12)


def test_blocked_programs_with_steps_of_several_dtypes(numpy_blocks_only):
    """Comparisons make booleans mid-program: each scratch buffer keeps one dtype."""
    a, b = T.dvector("a"), T.dvector("b")
    expr = T.switch(T.gt(a, b), a * 2.0, b - 1.0) + T.cast(T.lt(a, 0.5), "float64") * T.exp(-b)
    fn = mlcore.function([a, b], expr, backend="numpy")
    rng = np.random.default_rng(3)
    va, vb = rng.uniform(0, 1, 3 * fused.BLOCK + 11), rng.uniform(0, 1, 3 * fused.BLOCK + 11)
    want = np.where(va > vb, va * 2.0, vb - 1.0) + (va < 0.5) * np.exp(-vb)
    np.testing.assert_allclose(fn(va, vb), want, rtol=1e-12)


@pytest.mark.parametrize("strides, padding", [((1, 1), "valid"), ((2, 1), "same"), ((2, 2), ((1, 0), (2, 1)))])
def test_filter_gradient_from_lent_patches_matches_jax(require_backend, strides, padding):
    """The numpy backend pairs each convolution with its filter gradient (backends/numpy/patches.py);
    the gradients must be XLA's, also when the caller changes the input array in place between calls."""
    require_backend("jax")
    rng = np.random.default_rng(0)
    x, w = T.tensor("float64", shape=(None, None, None, 3), name="x"), T.tensor("float64", shape=(3, 2, 3, 4), name="w")
    y = conv2d(x, w, strides=strides, padding=padding)
    cost = T.sum(T.tanh(y) * T.arange(4).astype("float64"))
    outputs = [cost] + mlcore.grad(cost, [x, w])
    by_numpy, by_jax = (mlcore.function([x, w], outputs, backend=b) for b in ("numpy", "jax"))
    assert len(lending_pairs(by_numpy._fn.plan.nodes)) == 2
    data, kernel = rng.standard_normal((2, 9, 8, 3)), rng.standard_normal((3, 2, 3, 4))
    for _ in range(2):
        for got, expected in zip(by_numpy(data, kernel), by_jax(data, kernel)):
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
        data *= -0.5       # the same array object, new numbers
