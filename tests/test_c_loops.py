"""The numpy backend's compiled elementwise loops (backends/numpy/c_loops.py): NumPy's numbers to
the bit, the right calls sent to C, and a clean fall back to numpy blocks without a compiler."""
import os
import subprocess

import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from backends.numpy import c_loops, fused
from backends.numpy.kernels import elemwise
from mlcore.graph.ops import elemwise as ew

# Without a compiler the numpy backend runs numpy blocks (their tests: test_numpy_inplace.py), and
# the tests that run a compiled loop have nothing to run.
needs_compiler = pytest.mark.skipif(c_loops.compiler() is None, reason="no C compiler (cc, gcc, clang or $CC)")

SIZE = c_loops.MIN_SIZE + 13   # large enough for C, and not a multiple of any vector width

# Each compiled op with NumPy's own function for it.
NUMPY_OF = {
    ew.Neg: np.negative, ew.Abs: np.abs, ew.Sqr: np.square, ew.Sqrt: np.sqrt,
    ew.Add: np.add, ew.Sub: np.subtract, ew.Mul: np.multiply, ew.TrueDiv: np.divide,
    ew.Maximum: np.maximum, ew.Minimum: np.minimum, ew.Relu: lambda x: np.maximum(x, 0),
    ew.Second: lambda x, y: np.broadcast_to(y, np.broadcast_shapes(x.shape, y.shape)),
}


def one_op_node(op_class, dtype):
    """A Composite of the one op on vectors, as the fusion rewrite would build it."""
    op = op_class()
    composite = ew.Composite([(op, tuple(range(op.nin)))], [op.nin], op.nin, [dtype])
    return composite, composite.make_node(*[T.vector("x%d" % k, dtype=dtype) for k in range(op.nin)])


def awkward_values(dtype, rng):
    """Random numbers with zeros of both signs, infinities and NaNs among them."""
    values = rng.standard_normal(SIZE).astype(dtype)
    values[:8] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5]
    return values


def test_every_compiled_op_has_a_numpy_counterpart_here():
    assert {cls().name for cls in NUMPY_OF} == set(c_loops.C_OPS)


@needs_compiler
@pytest.mark.parametrize("op_class", list(NUMPY_OF), ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_each_op_gives_numpys_numbers_to_the_bit(op_class, dtype, rng):
    composite, node = one_op_node(op_class, dtype)
    loop = c_loops.CompiledLoop.of(composite, node)
    inputs = [awkward_values(dtype, rng) for _ in node.inputs]
    inputs[-1] = np.roll(inputs[-1], 3)   # pair the special values with other numbers too
    assert loop.takes(inputs)
    with np.errstate(all="ignore"):
        expected = NUMPY_OF[op_class](*inputs)
    got = loop(inputs)
    assert got.dtype == dtype and got.shape == (SIZE,)
    np.testing.assert_array_equal(got, expected)   # NaN where NumPy has NaN
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


@needs_compiler
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size", [c_loops.MIN_SIZE - 1, c_loops.MIN_SIZE, 3 * fused.BLOCK + 5])
def test_a_function_sends_large_calls_to_c_and_small_ones_to_numpy(monkeypatch, dtype, size):
    calls = []
    real_call = c_loops.CompiledLoop.__call__
    monkeypatch.setattr(c_loops.CompiledLoop, "__call__",
                        lambda self, inputs, out=None: calls.append(len(inputs)) or real_call(self, inputs, out))
    a, b = T.vector("a", dtype=dtype), T.vector("b", dtype=dtype)
    fn = mlcore.function([a, b], a ** 2 + b ** 2 + 2 * a * b, backend="numpy")
    rng = np.random.default_rng(size)
    va, vb = (rng.uniform(-1, 1, size).astype(dtype) for _ in range(2))
    got = fn(va, vb)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, va ** 2 + vb ** 2 + 2 * va * vb)   # no fused multiply-add
    assert calls == ([3] if size >= c_loops.MIN_SIZE else [])   # a, b and the constant 2


def test_the_source_reads_scalar_inputs_once_before_the_loop():
    a = T.dvector("a")
    fn = mlcore.function([a], 3.0 * a - 1.5, backend="numpy")
    (node,) = fn.fgraph.toposort()
    loop = c_loops.CompiledLoop.of(node.op, node)
    constants = [k for k, x in enumerate(node.inputs) if x.type.shape == (1,)]
    assert len(constants) == 2 and loop.scalars == set(constants)
    body = loop.source.split("for (")[1]
    assert all("in%d[0]" % k in loop.source and "in%d[" % k not in body for k in constants)
    value = np.linspace(-1, 1, SIZE)
    np.testing.assert_array_equal(fn(value), 3.0 * value - 1.5)


@needs_compiler
def test_a_loop_may_write_over_one_of_its_inputs():
    a, b = T.dvector("a"), T.dvector("b")
    fn = mlcore.function([a, b], a * b - a / b, backend="numpy")
    (node,) = fn.fgraph.toposort()
    loop = c_loops.CompiledLoop.of(node.op, node)
    rng = np.random.default_rng(1)
    va, vb = rng.uniform(1, 2, SIZE), rng.uniform(1, 2, SIZE)
    expected = va * vb - va / vb
    assert loop([va, vb], out=va) is va
    np.testing.assert_array_equal(va, expected)


def test_programs_c_would_not_speed_up_or_cannot_type_stay_in_numpy():
    a, b = T.fvector("a"), T.fvector("b")
    for expression in (T.tanh(a) * b + a,                 # a library function: NumPy's SIMD tanh is faster
                       a * T.cast(b, "float64") + 1.0,      # two dtypes
                       T.switch(T.gt(a, b), a, b) * 2.0):   # a comparison's booleans mid-program
        (node,) = [n for n in mlcore.function([a, b], expression, backend="numpy").fgraph.toposort()
                   if isinstance(n.op, ew.Composite)]
        assert c_loops.CompiledLoop.of(node.op, node) is None, node.op


def test_strided_or_broadcast_inputs_run_in_numpy_with_the_same_numbers():
    x, row = T.dmatrix("x"), T.drow("row")
    fn = mlcore.function([x, row], x * x + 2.0 * row - x, backend="numpy")
    (node,) = fn.fgraph.toposort()
    loop = c_loops.CompiledLoop.of(node.op, node)
    rng = np.random.default_rng(2)
    vx, vrow = rng.standard_normal((300, 100)), rng.standard_normal((1, 100))
    for value in (vx, vx.T.copy().T):   # C-contiguous and not
        inputs = [{"x": value, "row": vrow}.get(i.name, getattr(i, "data", None)) for i in node.inputs]
        assert not loop.takes(inputs)
        np.testing.assert_allclose(fn(value, vrow), value * value + 2.0 * vrow - value, rtol=1e-15)


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    """An empty MLCORE_HOME, no loop loaded in this process yet, and no warning given yet."""
    monkeypatch.setenv("MLCORE_HOME", str(tmp_path))
    monkeypatch.setattr(c_loops, "_libraries", {})
    monkeypatch.setattr(c_loops, "_warned", set())
    return tmp_path


def test_without_a_compiler_the_numbers_come_from_numpy_blocks(fresh_home, monkeypatch):
    monkeypatch.setenv("MLCORE_CC", "")
    a, b = T.dvector("a"), T.dvector("b")
    fn = mlcore.function([a, b], a ** 2 + b ** 2 + 2 * a * b, backend="numpy")
    va, vb = np.linspace(0, 1, SIZE), np.linspace(1, 2, SIZE)
    np.testing.assert_allclose(fn(va, vb), va ** 2 + vb ** 2 + 2 * va * vb, rtol=1e-15)
    assert not (fresh_home / "c_loops").exists()


def test_a_compiler_that_fails_warns_once_and_numpy_takes_over(fresh_home, monkeypatch):
    monkeypatch.setenv("MLCORE_CC", "false")   # a command that exits 1
    a, b = T.dvector("a"), T.dvector("b")
    fn = mlcore.function([a, b], a * a - 3.0 * b, backend="numpy")
    va, vb = np.linspace(0, 1, SIZE), np.linspace(1, 2, SIZE)
    with pytest.warns(RuntimeWarning, match="could not compile .*MLCORE_CC"):
        first = fn(va, vb)
    np.testing.assert_allclose(first, va * va - 3.0 * vb, rtol=1e-15)
    assert os.listdir(fresh_home / "c_loops") == []   # nothing half-written left behind


@needs_compiler
def test_a_compiled_loop_is_kept_on_disk_and_loaded_without_compiling_again(fresh_home, monkeypatch):
    source = c_loops.c_source(one_op_node(ew.Mul, "float64")[0], "float64", set())
    loop = c_loops.build(source, 2)
    files = sorted(os.listdir(fresh_home / "c_loops"))
    assert [f.rsplit(".", 1)[1] for f in files] == ["c", "so"]   # the source sits beside the library
    assert (fresh_home / "c_loops" / files[0]).read_text() == source

    def no_compiler(*args, **kwargs):
        raise AssertionError("compiled again")
    monkeypatch.setattr(subprocess, "run", no_compiler)
    monkeypatch.setattr(c_loops, "_libraries", {})   # as a new process would start
    again = c_loops.build(source, 2)
    x, y, out = np.arange(5.0), np.arange(5.0) + 1, np.empty(5)
    again(5, *map(c_loops.address, (x, y, out)))
    np.testing.assert_array_equal(out, x * y)
    assert loop is not again


@needs_compiler
def test_a_kept_library_that_will_not_load_is_built_again(fresh_home):
    source = c_loops.c_source(one_op_node(ew.Add, "float64")[0], "float64", set())
    library = c_loops.library_path(source, c_loops.compiler())
    os.makedirs(os.path.dirname(library))
    with open(library, "wb") as f:
        f.write(b"not a shared library")   # as a truncated or foreign file would be
    loop = c_loops.build(source, 2)
    x, y, out = np.arange(5.0), np.arange(5.0) + 1, np.empty(5)
    loop(5, *map(c_loops.address, (x, y, out)))
    np.testing.assert_array_equal(out, x + y)
