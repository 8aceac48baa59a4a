"""mlcore.function as theano.function: inputs, outputs, updates (after the outputs, all at once),
givens, profile, dtypes kept on every backend, pickling; debugprint and to_dot."""
import pickle
import sys

import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from backends import get_backend
from mlcore import Out, function, shared
from mlcore.function import MissingInputError, UnusedInputError
from mlcore.printing import debugprint, to_dot


def test_updates_apply_after_the_outputs_all_at_once(backend):
    a, b = shared(np.array([1.0, 2.0]), name="a"), shared(np.array([3.0, 4.0]), name="b")
    swap = function([], [a + 0, b * 1], updates=[(a, b), (b, a)], backend=backend)
    outputs = swap()
    assert [o.tolist() for o in outputs] == [[1, 2], [3, 4]]          # values before the updates
    assert a.get_value().tolist() == [3, 4] and b.get_value().tolist() == [1, 2]
    swap()
    assert a.get_value().tolist() == [1, 2] and b.get_value().tolist() == [3, 4]


def test_one_new_value_given_to_two_shared_variables_leaves_each_its_own_buffer(backend):
    """updates={a: b, c: b}: each variable gets a buffer of its own (Theano's DeepCopyOp), so a later
    in-place update of one leaves the others alone."""
    a, b, c = (shared(np.full(3, k, "float32"), name=n) for k, n in ((0, "a"), (1, "b"), (2, "c")))
    function([], [], updates={a: b, c: b}, backend=backend)()
    assert len({id(v.container_value) for v in (a, b, c)}) == 3
    bump = function([], [], updates={a: a + 1, c: c * 5}, backend=backend)
    bump()
    assert [v.get_value().tolist() for v in (a, b, c)] == [[2.0] * 3, [1.0] * 3, [5.0] * 3]
    bump()
    assert [v.get_value().tolist() for v in (a, b, c)] == [[3.0] * 3, [1.0] * 3, [25.0] * 3]


def test_new_shared_values_come_in_the_order_of_the_inputs_they_replace(backend):
    """Momentum-style updates listed slot first: the compiled outputs still follow the shared inputs'
    order (jax gives a donated buffer to the first output of its shape), and each variable gets its value."""
    x = T.dvector("x")
    w, m, v = (shared(np.full(3, k, "float64"), name=n) for k, n in ((1.0, "w"), (2.0, "m"), (3.0, "v")))
    cost = T.sum(w * x) + T.sum(m * x) + T.sum(v * x)
    step = function([x], cost, updates=[(m, m + 1), (v, v * 2), (w, w - m)], backend=backend)
    assert [t.name for t in step.update_targets] == [t.name for t in step.shared] == ["w", "m", "v"]
    for _ in range(2):
        step(np.ones(3))
    assert [p.get_value().tolist() for p in (w, m, v)] == [[-4.0] * 3, [4.0] * 3, [12.0] * 3]


def test_accumulating_updates_are_seen_by_other_functions(backend):
    x = T.fvector("x")
    total = shared(np.float32(0), name="total")
    add = function([x], total, updates={total: total + x.sum()}, backend=backend)
    read = function([], total * 1, backend="numpy")
    assert add(np.ones(3, "float32")) == 0 and add(np.ones(3, "float32")) == 3
    assert total.get_value() == 6 and total.get_value().dtype == np.float32 and read() == 6
    total.set_value(1.5)
    assert add(np.zeros(1, "float32")) == 1.5


def test_givens_replace_variables(backend):
    x, y = T.dvector("x"), T.dvector("y")
    data = shared(np.arange(10.0), name="data")
    i = T.lscalar("i")
    f = function([x], x + y, givens={y: x * 2}, backend=backend)
    assert f(np.ones(2)).tolist() == [3, 3]
    batch = function([i], x.sum(), givens=[(x, data[i * 2:(i + 1) * 2])], backend=backend)
    assert [float(batch(k)) for k in range(3)] == [1, 5, 9]


def test_inputs_are_checked():
    x, y = T.dvector("x"), T.dvector("y")
    with pytest.raises(ValueError, match="depend on y, which is not among"):
        function([x], x + y)
    with pytest.raises(UnusedInputError, match="y"):
        function([x, y], x * 2)
    assert function([x, y], x * 2, on_unused_input="ignore", backend="numpy")(np.ones(1), np.ones(1)) == 2
    with pytest.raises(UnusedInputError):     # an intermediate input cuts the graph there, as in Theano
        function([x + 1], x)
    with pytest.raises(MissingInputError, match="depend on x"):
        function([x + 1], x, on_unused_input="ignore")
    with pytest.raises(TypeError, match="symbolic variables"):
        function([T.constant(1.0)], x)
    f = function([x], x * 2, backend="numpy")
    with pytest.raises(TypeError, match="missing required input"):
        f()
    with pytest.raises(TypeError, match="x expects dtype float64 but got complex128"):
        f(np.zeros(2, "complex128"))
    assert f(x=[1, 2]).tolist() == [2, 4]
    with pytest.raises(TypeError, match="Unknown input name 'z'"):
        f(z=[1])


def test_input_downcasts_follow_theano():
    x = T.fvector("x")
    f = function([x], x * 2, backend="numpy")
    assert f([1, 2]).dtype == np.float32               # exact Python values are converted
    with pytest.raises(TypeError, match="allow_input_downcast"):
        f(np.array([0.1, 0.2]))                        # a float64 array would lose precision
    g = function([x], x * 2, backend="numpy", allow_input_downcast=True)
    assert g(np.array([0.1])).dtype == np.float32


def test_update_errors():
    w = shared(np.zeros(3), name="w")
    with pytest.raises(TypeError, match="not a shared variable"):
        function([], updates=[(T.dvector(), w)])
    with pytest.raises(ValueError, match="does not match"):
        function([], updates=[(w, T.dmatrix())])
    with pytest.raises(ValueError, match="updated twice"):
        function([], updates=[(w, w + 1), (w, w + 2)])


def test_outputs_of_every_kind(backend):
    x = T.dvector("x")
    s = shared(np.arange(3.0), name="s")
    count = shared(np.int64(0), name="count")
    f = function([x], [x, s, T.constant(3.0), x * 2, x * 2], updates=[(count, count + 1)], backend=backend)
    got = f(np.ones(2))
    assert [g.tolist() for g in got] == [[1, 1], [0, 1, 2], 3.0, [2, 2], [2, 2]]
    assert function([], updates=[(count, count + 1)], backend=backend)() == [] and count.get_value() == 2
    assert function([x], x.sum(), backend=backend)(np.ones(2)).shape == ()


def test_a_plain_call_returns_numpy_arrays_shaped_as_the_outputs_were_given(backend):
    """A function without shared values goes straight to its compiled code (on jax, jit's own
    callable for one output): still a numpy array for one output, a list for a list of one."""
    x = T.fvector("x")
    value = np.linspace(-1, 1, 10, dtype="float32")
    one = function([x], T.tanh(x * 2 + 1), backend=backend)(value)
    listed = function([x], [T.tanh(x * 2 + 1)], backend=backend)(value)
    assert type(one) is np.ndarray and one.dtype == np.float32
    assert isinstance(listed, list) and len(listed) == 1 and type(listed[0]) is np.ndarray
    np.testing.assert_allclose(one, np.tanh(value * 2 + 1), rtol=1e-6)
    np.testing.assert_array_equal(listed[0], one)
    np.testing.assert_allclose(function([x], T.tanh(x), backend=backend)([0.5, 1.0]), np.tanh([0.5, 1.0]), rtol=1e-6)


FLOAT_OUTPUTS = [lambda x: x * 2, lambda x: x + 1.5, lambda x: x / 3, lambda x: x ** 2, lambda x: 2 ** x,
                 lambda x: T.exp(x) * 0.5, lambda x: x.mean(), lambda x: (x * 2).sum(), lambda x: x.var(),
                 lambda x: T.nnet.sigmoid(x) - 1, lambda x: T.maximum(x, 0.5), lambda x: T.clip(x, 0, 1),
                 lambda x: T.switch(x > 0, x, 0.1), lambda x: T.nnet.softmax(x) * 3,
                 lambda x: T.grad((x * 0.5).sum() + x.mean(), x), lambda x: T.cast(x > 0, x.dtype) * 0.5,
                 lambda x: T.dot(x, x.T) + 1, lambda x: x // 2, lambda x: x.std(axis=0)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_dtypes_are_kept_with_python_scalars(dtype, backend):
    if backend == "theano" and dtype == "float64":
        pytest.skip("theano is tested in float32 only, to keep the suite fast")
    x = T.matrix("x", dtype=dtype)
    w = shared(np.ones(2, dtype), name="w")
    outputs = [fn(x) for fn in FLOAT_OUTPUTS]
    assert all(o.dtype == dtype for o in outputs)
    cost = ((T.dot(x, w) - 1.0) ** 2).mean()
    f = function([x], outputs, updates=[(w, w - 0.1 * T.grad(cost, w))], backend=backend)
    for got in f(np.ones((2, 2), dtype)):
        assert got.dtype == dtype
    assert w.get_value().dtype == dtype


def test_integer_graphs_stay_integer(backend):
    i = T.ivector("i")
    got = function([i], [i * 2, i + 1, i // 2, i % 3, -i, abs(i), T.maximum(i, 1), i.sum(), i.prod()],
                   backend=backend)(np.arange(3, dtype="int32"))
    assert [g.dtype for g in got] == ["int32"] * 7 + ["int64"] * 2     # sums accumulate in int64, as numpy


def test_float_functions_of_ints_compute_in_floatx(backend):
    b = T.bvector("b")                                 # int8: numpy alone would compute in float16
    outs = [T.tanh(b), T.nnet.sigmoid(b), T.nnet.softplus(b), b / 3, T.exp(b) * 0.5, T.sqrt(b), b.mean()]
    v = np.arange(5, dtype="int8")
    f = v.astype("float32")
    expected = [np.tanh(f), 1 / (1 + np.exp(-f)), np.logaddexp(0, f), f / 3, np.exp(f) * 0.5, np.sqrt(f), f.mean()]
    for got, want in zip(function([b], outs, backend=backend)(v), expected):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_profile_prints_a_theano_like_table(capsys):
    x = T.dvector("x")
    f = function([x], T.exp(x).sum() + T.tanh(x).sum(), profile=True, backend="numpy", name="f", rewrites="none")
    f(np.ones(3))
    f(np.ones(3))
    text = f.profile.summary(file=None)
    assert "Function profiling" in text and "Message: f (backend numpy)" in text
    assert "Time in 2 calls to Function.__call__" in text
    assert "<% time> <sum %> <apply time> <time per call> <#call> <#apply> <Class name>" in text
    for name in ("Exp", "Tanh", "Sum", "Add"):
        assert name in text
    f.profile.summary(file=sys.stdout)
    assert "Class" in capsys.readouterr().out


def test_profile_on_jax_times_each_node():
    x = T.dvector("x")
    f = function([x], T.exp(x).sum(), profile=True, backend="jax")
    f(np.ones(3))
    assert "Exp" in f.profile.summary() and f.profile.calls == 1


# --- printing ------------------------------------------------------------------------------------
def test_debugprint_before_and_after_rewrites():
    x, y = T.dvector("x"), T.dvector("y")
    e = T.exp(x)
    out = (e * y + e).sum()
    assert debugprint(out, file="str") == "\n".join([          # Theano's layout, trailing spaces included
        "Sum{all} [id A] ''   ",
        " |Elemwise{add,no_inplace} [id B] ''   ",
        "   |Elemwise{mul,no_inplace} [id C] ''   ",
        "   | |Elemwise{exp,no_inplace} [id D] ''   ",
        "   | | |x [id E]",
        "   | |y [id F]",
        "   |Elemwise{exp,no_inplace} [id D] ''   "]) + "\n"
    f = function([x, y], out, backend="numpy")
    assert debugprint(f, file="str") == "\n".join([        # a compiled node ends with its toposort position
        "Sum{all} [id A] ''   1",
        " |Elemwise{Composite{exp, mul, add}} [id B] ''   0",
        "   |x [id C]",
        "   |y [id D]"]) + "\n"
    assert debugprint(out, file="str", print_type=True, depth=2).splitlines() == [
        "Sum{all} [id A] <TensorType(float64, scalar)> ''   ",
        " |Elemwise{add,no_inplace} [id B] <TensorType(float64, vector)> ''   "]


def test_debugprint_writes_to_a_file_or_stdout(capsys, tmp_path):
    x = T.dvector("x")
    debugprint(x * 2)
    assert capsys.readouterr().out == "Elemwise{mul,no_inplace} [id A] ''   \n |x [id B]\n |TensorConstant{[2.]} [id C]\n"
    with open(tmp_path / "graph.txt", "w") as handle:
        assert debugprint([x + 1, x - 1], file=handle) is handle
    assert (tmp_path / "graph.txt").read_text().splitlines()[0] == "Elemwise{add,no_inplace} [id A] ''   "


def test_to_dot():
    x = T.dvector("x")
    dot = to_dot(T.exp(x) + 1)
    assert dot.startswith("digraph mlcore {") and dot.endswith("}")
    assert '[label="exp", shape=box' in dot and '[label="x", shape=ellipse]' in dot
    assert "shape=box, style=dashed" in dot              # the constant
    assert dot.count("->") == 5
    f = function([x], T.exp(x) + 1, backend="numpy")
    assert 'label="Composite{exp, add}"' in to_dot(f)


# --- pickling ------------------------------------------------------------------------------------
def test_pickled_functions_still_work_and_see_shared_values(backend):
    x = T.dvector("x") if backend != "theano" else T.fvector("x")
    w = shared(np.array([1.0, 2.0], x.dtype), name="w")
    step = function([x], (x * w).sum(), updates=[(w, w + 1)], backend=backend)
    step(np.ones(2, x.dtype))
    f2, w2 = pickle.loads(pickle.dumps((step, w)))
    assert w2.get_value().tolist() == [2, 3]
    assert f2(np.ones(2, x.dtype)) == 5 and w2.get_value().tolist() == [3, 4]
    assert w.get_value().tolist() == [2, 3]                   # the original is separate
    w2.set_value(np.zeros(2, x.dtype))
    assert f2(np.ones(2, x.dtype)) == 0
    alone = pickle.loads(pickle.dumps(step))
    assert alone(np.ones(2, x.dtype)) == 5                    # its own copy of w as it was pickled


def test_pickled_functions_with_symbolic_slice_bounds(backend):
    x, n = T.dvector("x"), T.lscalar("n")
    head = pickle.loads(pickle.dumps(function([x, n], x[:n] * 2, backend=backend)))
    assert head(np.arange(5.0), 3).tolist() == [0.0, 2.0, 4.0]


def test_pickled_random_functions_continue_the_stream():
    srng = T.random.RandomStreams(5)
    f = function([], srng.uniform((3,)), backend="numpy")
    f()
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g(), f())


def test_only_dims_typed_1_broadcast_at_run_time(backend):
    x, y = T.matrix("x", "float32"), T.matrix("y", "float32")
    f = function([x, y], x + y, backend=backend)
    assert f(np.ones((4, 3), "float32"), np.ones((4, 3), "float32")).shape == (4, 3)
    with pytest.raises(ValueError, match="broadcast"):       # as in Theano: x's dim 0 may not be 1
        f(np.ones((1, 3), "float32"), np.ones((4, 3), "float32"))
    row = T.matrix("row", "float32", shape=(1, None))
    assert function([row, y], row + y, backend=backend)(np.ones((1, 3), "float32"),
                                                         np.ones((4, 3), "float32")).shape == (4, 3)


def test_jax_cpu_options_follow_the_programs_arrays_and_loops():
    """On the CPU: a loop over small arrays (a batch dim counted as 1) gets XLA's loop emitters (an
    LSTM(64)'s inference 0.95x of Keras's speed with them, 0.88x without), a program holding a huge array
    YNNPACK fusions off, any other program XLA's defaults (a Conv1D net's training step 0.76x of
    Keras's with the loop emitters, 1.06x with the defaults); each computes the same numbers."""
    pytest.importorskip("jax")
    from backends.jax.compiler import (HUGE_ARRAY_ELEMENTS, SMALL_ARRAY_ELEMENTS, compiler_options, largest_array,
                                       program_options)
    rng = np.random.default_rng(0)
    x, xs = T.fmatrix("x"), T.ftensor3("xs")
    small = shared(rng.normal(0, 0.1, (60, 60)).astype("float32"), name="small")
    large = shared(np.ones((784, 500), "float32"), name="large")
    assert 60 * 60 <= SMALL_ARRAY_ELEMENTS < 784 * 500 <= HUGE_ARRAY_ELEMENTS
    dense = function([x], T.tanh(T.dot(x, small)), backend="jax")
    states, _ = mlcore.scan(lambda row, h: T.tanh(row + T.dot(h, small)), sequences=xs,
                            outputs_info=T.zeros_like(xs[0]))
    loop = function([xs], states[-1], backend="jax")
    wide = function([x], T.tanh(T.dot(x, large)), backend="jax")
    nodes = [f.fgraph.toposort() for f in (dense, loop, wide)]
    assert [largest_array(n) for n in nodes] == [3600, 3600, 784 * 500]
    assert [program_options("cpu", n) for n in nodes] == [None, compiler_options("cpu", True), None]
    small_options = compiler_options("cpu", True)
    if small_options is not None and "xla_cpu_use_fusion_emitters" in small_options:
        assert small_options["xla_cpu_use_fusion_emitters"] is False
    else:   # an XLA without the option (the probe's error): the options it does know, no more
        assert small_options == compiler_options("cpu")
    value = np.linspace(-1, 1, 5 * 60, dtype="float32").reshape(5, 60)
    np.testing.assert_allclose(dense(value), np.tanh(value @ small.get_value()), rtol=1e-5, atol=1e-6)
    h = np.zeros((5, 60), "float32")
    for row in np.stack([value, -value]):
        h = np.tanh(row + h @ small.get_value())
    np.testing.assert_allclose(loop(np.stack([value, -value])), h, rtol=1e-5, atol=1e-6)


def test_jax_compiler_options_are_those_this_xla_knows():
    """The options probe compiles a tiny program with them: an option this XLA lacks makes the
    compilation fail, and the functions then compile with XLA's defaults instead of failing."""
    pytest.importorskip("jax")
    from backends.jax.compiler import GPU_COMPILER_OPTIONS, xla_knows
    assert xla_knows("cpu", {"xla_cpu_use_fusion_emitters": False})
    assert xla_knows("cpu", GPU_COMPILER_OPTIONS)          # one set of debug options for every XLA
    assert not xla_knows("cpu", {"xla_no_such_option": 1})


def test_jax_cpu_functions_turn_ynnpack_fusions_off_only_behind_a_huge_array(monkeypatch):
    """XLA's YNNPACK fusions made VGG16's classifier (a 25088x4096 weight) 56x slower at batch 8 and
    other programs faster (a convnet's inference 2x, an LSTM(256)'s training 1.8x): the jax backend turns
    them off on the CPU only for a program holding an array of more than HUGE_ARRAY_ELEMENTS (lowered
    here, so that a 256x128 weight is huge); the numbers are the same either way."""
    pytest.importorskip("jax")
    import backends.jax.compiler as compiler
    x, w = T.fmatrix("x"), shared(np.linspace(-0.1, 0.1, 256 * 128, dtype="float32").reshape(256, 128), name="w")
    assert compiler.SMALL_ARRAY_ELEMENTS < w.get_value().size <= compiler.HUGE_ARRAY_ELEMENTS
    value = np.linspace(0, 1, 8 * 256, dtype="float32").reshape(8, 256)
    logits = value @ w.get_value()
    expected = np.exp(logits - logits.max(1, keepdims=True))
    for huge, fused in ((compiler.HUGE_ARRAY_ELEMENTS, True), (w.get_value().size - 1, False)):
        monkeypatch.setattr(compiler, "HUGE_ARRAY_ELEMENTS", huge)
        fn = function([x], T.nnet.softmax(T.dot(x, w)), backend="jax")
        compiled = fn._fn.jitted.lower(value, w.get_value()).compile().as_text()
        assert ("ynn_fusion" in compiled) is fused
        np.testing.assert_allclose(fn(value), expected / expected.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)


def test_a_jax_cpu_program_with_a_loop_keeps_ynnpack_library_fusions(rng):
    """A recurrent layer's steps multiply the same matrices over and over, which YNNPACK does faster than
    XLA's own dot (an LSTM(256)'s training step 1.8x): a CPU program with a scan over large arrays keeps
    XLA's defaults, and its values and gradients are those of the loop written in numpy."""
    pytest.importorskip("jax")
    from backends.jax.compiler import SMALL_ARRAY_ELEMENTS
    w = shared((rng.normal(size=(256, 256)) * 0.05).astype("float32"), name="w")
    assert w.get_value().size > SMALL_ARRAY_ELEMENTS
    xs = T.ftensor3("xs")
    states, _ = mlcore.scan(lambda x, h: T.tanh(x + T.dot(h, w)), sequences=xs,
                            outputs_info=T.zeros_like(xs[0]))
    cost = (states[-1] ** 2).sum()
    fn = function([xs], [cost, mlcore.grad(cost, w)], backend="jax")
    value = rng.normal(size=(4, 2, 256)).astype("float32")
    compiled = fn._fn.jitted.lower(value, w.get_value()).compile().as_text()
    assert "ynn_fusion" in compiled
    h, hs, wv = np.zeros((2, 256)), [], w.get_value().astype("float64")
    for x in value.astype("float64"):
        hs.append(h)
        h = np.tanh(x + h @ wv)
    grad_h, grad_w = 2 * h, np.zeros_like(wv)
    for x, h_prev in zip(value[::-1].astype("float64"), hs[::-1]):
        h_new = np.tanh(x + h_prev @ wv)
        grad_z = grad_h * (1 - h_new ** 2)
        grad_w += h_prev.T @ grad_z
        grad_h = grad_z @ wv.T
    got_cost, got_grad = fn(value)
    np.testing.assert_allclose(got_cost, (h ** 2).sum(), rtol=1e-4)
    np.testing.assert_allclose(got_grad, grad_w, rtol=1e-3, atol=1e-4)


def test_jax_functions_take_device_arrays_as_they_are():
    jax = pytest.importorskip("jax")
    x = T.fvector("x")
    fn = function([x], T.tanh(x * 2 + 1), backend="jax")
    value = jax.device_put(np.linspace(-1, 1, 5, dtype="float32"))
    assert x.type.filter(value, x, False, fn.backend.native_arrays) is value
    np.testing.assert_allclose(fn(value), np.tanh(np.linspace(-1, 1, 5, dtype="float32") * 2 + 1), rtol=1e-6)
    with pytest.raises(TypeError, match="expects dtype float32"):
        fn(jax.device_put(np.full(5, 0.1, dtype="float64")))
    theano_like = function([x], x + 1, backend="numpy")
    np.testing.assert_array_equal(theano_like(value), np.asarray(value) + 1)   # other backends convert


def test_jax_device_arrays_skip_filter_and_are_checked_as_jit_traces(monkeypatch):
    """A training step fed jax arrays goes straight to jit (filter's Python is time on a GPU's host);
    the traced function still casts what casts safely and refuses the rest, naming the input."""
    jax = pytest.importorskip("jax")
    x, y = T.fvector("x"), T.lvector("y")
    w = shared(np.float32(2.0), name="w")
    fn = function([x, y], (x * w).sum() + y.sum(), updates=[(w, w + 1)], backend="jax")
    monkeypatch.setattr(fn, "_filtered", lambda args: pytest.fail("jax arrays were filtered"))
    labels = jax.device_put(np.array([1, 2], dtype="int32"))     # int32 casts safely to int64
    assert fn(jax.device_put(np.ones(3, dtype="float32")), labels) == pytest.approx(3 * 2.0 + 3)
    assert fn(jax.device_put(np.ones(3, dtype="float32")), labels) == pytest.approx(3 * 3.0 + 3)
    with pytest.raises(TypeError, match="Input x expects dtype float32 but got float64"):
        fn(jax.device_put(np.ones(3, dtype="float64")), labels)
    with pytest.raises(TypeError, match="Input x expects 1 dimensions"):
        fn(jax.device_put(np.ones((3, 1), dtype="float32")), labels)
    assert w.get_value() == 4.0   # the refused calls changed nothing


def test_jax_results_are_copied_to_numpy_by_the_copier_of_the_functions_device(monkeypatch):
    """np.array on the CPU (a copy: the buffer protocol's view is read-only, and Theano's outputs are
    the caller's to write); __array__(copy=True) elsewhere, since a GPU array refuses that protocol
    with an error that costs more than a small copy.  Every call path (one output, several,
    borrowed ones, shared updates) converts with the function's copier."""
    jax = pytest.importorskip("jax")
    backend = get_backend("jax")
    assert backend.host_copier("cpu") is np.array
    value = jax.device_put(np.arange(6, dtype="float32").reshape(2, 3))
    copied = backend.host_copier("gpu")(value)
    assert type(copied) is np.ndarray and copied.flags.writeable
    np.testing.assert_array_equal(copied, np.arange(6).reshape(2, 3))

    copies = []

    def recording_copier(self, device):
        return lambda array: copies.append(device) or np.asarray(array)
    monkeypatch.setattr(type(backend), "host_copier", recording_copier)
    x = T.fvector("x")
    w = shared(np.float32(1.0), name="w")
    data = np.array([1, 2, 3], dtype="float32")
    calls = [(function([x], x * 2, backend="jax"), [data * 2]),
             (function([x], [x * 2, x.sum()], backend="jax"), [data * 2, 6]),
             (function([x], [x * 2, Out(x + 1, borrow=True)], backend="jax"), [data * 2, data + 1]),
             (function([x], (x * w).sum(), updates=[(w, w + 1)], backend="jax"), [6])]
    for fn, expected in calls:
        del copies[:]
        results = fn(data)
        results = results if isinstance(results, list) else [results]
        for result, want in zip(results, expected):
            np.testing.assert_allclose(result, want)
        assert copies == ["cpu"] * (len(expected) - any(fn.borrowed)), fn.outputs


def test_jax_checks_numpy_inputs_when_it_traces_with_the_rules_of_filter():
    """numpy arrays go to jax.jit unchecked; the traced function applies filter's rules once per
    signature, so errors and casts are those of every other backend."""
    pytest.importorskip("jax")
    x = T.fvector("x")
    fn = function([x], x * 2, backend="jax")
    assert fn._checks_inputs
    with pytest.raises(TypeError, match="expects dtype float32 but got float64"):
        fn(np.full(3, 0.1))
    with pytest.raises(TypeError, match="expects 1 dimensions"):
        fn(np.zeros((2, 2), dtype="float32"))
    np.testing.assert_array_equal(fn(np.arange(3, dtype="int16")), [0, 2, 4])   # a safe cast
    assert fn(np.ones(3, dtype="float32")).dtype == np.float32
    lenient = function([x], x * 2, backend="jax", allow_input_downcast=True)
    got = lenient(np.full(3, 0.1))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.full(3, 0.2, dtype="float32"))
    m = T.tensor("float32", shape=(2, 3), name="m")
    fixed = function([m], m + 1, backend="jax")
    with pytest.raises(ValueError, match=r"expects shape"):
        fixed(np.zeros((3, 3), dtype="float32"))


def test_out_borrow_returns_the_backends_own_array(backend):
    """theano.Out(variable, borrow=True): no conversion to numpy (a jax result stays a device array,
    which another jax function takes as it is); other outputs still come back as numpy arrays."""
    x = T.fvector("x")
    w = shared(np.ones(3, "float32"), name="w")
    f = function([x], [Out(x * 2, borrow=True), x + w], updates={w: w + 1}, backend=backend)
    borrowed, plain = f(np.arange(3, dtype="float32"))
    assert type(plain) is np.ndarray and plain.tolist() == [1, 2, 3]
    np.testing.assert_array_equal(np.asarray(borrowed), [0, 2, 4])
    if backend == "jax":
        import jax
        assert isinstance(borrowed, jax.Array)
        assert function([x], x + 1, backend="jax")(borrowed).tolist() == [1, 3, 5]
    single = function([x], Out(x - 1, borrow=True), backend=backend)
    np.testing.assert_array_equal(np.asarray(pickle.loads(pickle.dumps(single))(np.ones(3, "float32"))), 0)
    assert repr(Out(x)) == "Out(x, borrow=False)"


def test_jax_keeps_compiled_programs_under_mlcore_home(tmp_path):
    """As the theano backend keeps PyTensor's C modules: a second process loads the train step
    the first compiled (jax's persistent cache in $MLCORE_HOME/jax), unless the user chose a cache.
    The user's threshold (0 s here) is kept too, so even this small step is written."""
    pytest.importorskip("jax")
    import os
    import subprocess
    script = ("import sys, numpy as np, jax, mlcore, mlcore.tensor as T\n"
              "hits = []\n"
              "jax.monitoring.register_event_listener(lambda e, **k: hits.append(e.endswith('/cache_hits')))\n"
              "x = T.fmatrix('x'); w = mlcore.shared(np.ones((64, 64), 'float32'))\n"
              "h = x\n"
              "for _ in range(30): h = T.tanh(T.dot(h, w))\n"
              "f = mlcore.function([x], h.sum(), updates={w: w - 0.01 * T.grad(h.sum(), w)}, backend='jax')\n"
              "f(np.ones((8, 64), 'float32'))\n"
              "print(jax.config.jax_compilation_cache_dir, any(hits))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_COMPILATION", "JAX_PERSISTENT"))}
    env.update(MLCORE_HOME=str(tmp_path), JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0")
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.split()[-2:] == [str(tmp_path / "jax"), "False"]
    assert [p for p in (tmp_path / "jax").iterdir() if p.name.startswith("jit_")]
    again = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert again.returncode == 0 and again.stdout.split()[-1] == "True"    # loaded, not compiled
    chosen = tmp_path / "mine"
    mine = subprocess.run([sys.executable, "-c", script], env={**env, "JAX_COMPILATION_CACHE_DIR": str(chosen)},
                          capture_output=True, text=True)
    assert mine.returncode == 0 and mine.stdout.split()[-2] == str(chosen)


def test_jax_options_probe_is_loaded_from_the_cache_in_later_processes(tmp_path):
    """The probe of mlcore's CPU compiler options is one tiny compilation that every process makes:
    it is cached whatever its compile time, and the cache's threshold is put back after it."""
    pytest.importorskip("jax")
    import os
    import subprocess
    script = ("import jax\n"
              "hits = []\n"
              "jax.monitoring.register_event_listener(lambda e, **k: hits.append(e.endswith('/cache_hits')))\n"
              "from backends.jax.compiler import compiler_options\n"
              "compiler_options('cpu')\n"
              "print(jax.config.jax_persistent_cache_min_compile_time_secs, any(hits))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_COMPILATION", "JAX_PERSISTENT"))}
    env.update(MLCORE_HOME=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[-1].stderr[-2000:]
    assert [r.stdout.split() for r in runs] == [["0.1", "False"], ["0.1", "True"]]
