"""Every backend against the numpy reference, op by op, forward and gradient, in float32.

The reference runs each case's graph in float64 on the numpy backend without rewrites; each
backend runs the same graph built in float32 with its default rewrites, on the same numbers.
The tolerances are per op, from its numerics: float32 has eps = 1.2e-7, an elementwise
function is good to a few ulps, and sums and products of n terms to about n ulps.

Each backend compiles all the cases as one shared graph (PyTensor's C compilation is slow), and
falls back to one graph per case only when the shared one fails, so a failure names its op.
"""
import importlib
import inspect

import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.graph import gradient
from mlcore.graph import ops as ops_package
from mlcore.graph.basic import Op, toposort
from mlcore.graph.ops import elemwise as ew, elemwise_math as em
from mlcore.graph.ops import nlinalg, nn, reduce, slinalg
from op_cases import CASES, concrete_shapes, draw, float_positions, symbolic_inputs

BACKENDS = ["numpy", "jax", "theano"]
# Where each backend runs the suite: "backend" on the CPU, "backend/gpu" on a GPU (gpu-marked).
TARGETS = BACKENDS + [pytest.param(b + "/gpu", marks=pytest.mark.gpu) for b in ("jax", "theano")]
GRAD_FACTOR = 4      # a gradient graph rounds about as often as three or four forward ones
OP_MODULES = ["along_axis", "barrier", "common", "elemwise", "elemwise_math", "indexing", "linalg", "nn", "random", "reduce",
              "scan", "shape", "nlinalg", "linalg_decompositions", "slinalg", "fourier"]
ABSTRACT = {ew.Elemwise, ew.Unary, ew.Binary, ew.FloatUnary, ew.Compare, reduce.Reduce, nlinalg.MatrixOp,
            slinalg.SolveOp}


def draw_case(case):
    """The case's float32 input values (one broadcasting shape pattern, when it has several)."""
    rng = np.random.default_rng(sum(map(ord, case.name)))
    patterns = case.patterns[1] if len(case.patterns) > 1 else tuple(p for _, p in case.inputs)
    shapes = concrete_shapes(rng, patterns)
    return [draw(rng, kind, s, "float32") for (kind, _), s in zip(case.inputs, shapes)], rng


def case_graph(case, dtype, values, weights):
    """Inputs and outputs: the case's output, then the gradients of sum(output * weights)."""
    inputs = symbolic_inputs(case, [v.shape for v in values], dtype)
    out = case.build(*inputs)
    outputs = [out]
    if case.grad:
        cost = (out * np.asarray(weights, dtype)).sum()
        outputs += T.grad(cost, [inputs[k] for k in float_positions(case)], disconnected_inputs="ignore")
    return inputs, outputs


def as_float64(values):
    return [v.astype("float64") if v.dtype == np.float32 else v for v in values]


class Reference:
    """Values, weights and the float64 numpy results of every case, computed once."""

    def __init__(self):
        self.values, self.weights, self.expected = {}, {}, {}
        for case in CASES:
            values, rng = draw_case(case)
            inputs = symbolic_inputs(case, [v.shape for v in values], "float64")
            shape = np.shape(case.ref(*as_float64(values)))
            weights = rng.normal(size=shape).astype("float32")
            inputs, outputs = case_graph(case, "float64", values, weights)
            fn = mlcore.function(inputs, outputs, backend="numpy", rewrites="none", on_unused_input="ignore")
            self.values[case.name], self.weights[case.name] = values, weights
            self.expected[case.name] = fn(*as_float64(values))


def compile_on(target, inputs, outputs):
    """mlcore.function on a target: "jax" (on the CPU) or "jax/gpu"."""
    backend, _, device = target.partition("/")
    return mlcore.function(inputs, outputs, backend=backend, device=device or "cpu", on_unused_input="ignore")


def run_shared(target, reference, cases):
    """Every case in one function (one compilation); {case name: outputs}."""
    inputs, outputs, spans = [], [], {}
    for case in cases:
        ins, outs = case_graph(case, "float32", reference.values[case.name], reference.weights[case.name])
        spans[case.name] = (len(inputs), len(ins), len(outputs), len(outs))
        inputs += ins
        outputs += outs
    fn = compile_on(target, inputs, outputs)
    results = fn(*[v for case in cases for v in reference.values[case.name]])
    return {name: results[o:o + n_out] for name, (_, _, o, n_out) in spans.items()}


@pytest.fixture(scope="module")
def reference():
    return Reference()


@pytest.fixture(scope="module")
def shared_results(reference):
    """{backend: {case: outputs}} filled on first use; None where the shared graph failed."""
    cache = {}

    def get(target):
        if target not in cache:
            try:
                cache[target] = run_shared(target, reference, CASES)
            except Exception:
                cache[target] = None          # each case then compiles on its own and shows its error
        return cache[target]
    return get


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("target", TARGETS)
def test_backend_matches_the_numpy_reference(target, case, reference, shared_results, require_backend):
    require_backend(target.partition("/")[0])
    results = shared_results(target)
    got = results[case.name] if results is not None else run_shared(target, reference, [case])[case.name]
    expected = reference.expected[case.name]
    for k, (g, e) in enumerate(zip(got, expected)):
        what = "forward" if k == 0 else "gradient %d" % k
        assert g.shape == e.shape, what
        assert g.dtype == (e.dtype if e.dtype.kind not in "f" else np.float32), what
        rtol = case.rtol32 * (1 if k == 0 else GRAD_FACTOR)
        scale = np.abs(e).max() if e.size else 1.0
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * scale, err_msg="%s %s" % (case.name, what))


# --- random ops: the same distributions everywhere ---------------------------------------------
@pytest.mark.parametrize("target", TARGETS)
def test_random_draws_follow_their_distributions(target, require_backend):
    require_backend(target.partition("/")[0])
    srng = T.random.RandomStreams(11)
    n = 20000
    x = T.fvector("x")
    draws = [srng.uniform((n,), -2.0, 2.0, dtype="float32"), srng.normal((n,), 1.0, 3.0, dtype="float32"),
             srng.binomial(x.shape, 3, 0.4, dtype="int64")]
    f = compile_on(target, [x], draws)
    u, g, b = f(np.zeros(n, "float32"))
    se = 1 / np.sqrt(n)                      # a mean's standard error, per unit of standard deviation
    assert u.dtype == np.float32 and -2 <= u.min() and u.max() <= 2
    assert abs(u.mean()) < 5 * se * 4 / np.sqrt(12) and abs(u.var() - 16 / 12) < 0.05
    assert abs(g.mean() - 1) < 5 * se * 3 and abs(g.std() - 3) < 0.06
    assert set(np.unique(b)) <= {0, 1, 2, 3} and abs(b.mean() - 1.2) < 5 * se * np.sqrt(0.72)
    assert not np.array_equal(f(np.zeros(n, "float32"))[0], u)


# --- every op has a kernel on every backend, and a case here ------------------------------------
def op_classes():
    modules = [importlib.import_module("mlcore.graph.ops." + m) for m in OP_MODULES] + [gradient]
    found = set()
    for module in modules + [ops_package]:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Op) and cls is not Op and cls.__module__.startswith("mlcore.graph"):
                found.add(cls)
    pending = list(found)
    while pending:                                    # and the subclasses defined elsewhere in the core
        for sub in pending.pop().__subclasses__():
            if sub.__module__.startswith("mlcore.graph") and sub not in found:
                found.add(sub)
                pending.append(sub)
    return sorted(found - ABSTRACT, key=lambda c: (c.__module__, c.__name__))


def example_node(cls):
    """A node of elementwise op class cls, so the backend's kernel for it can be built."""
    op = cls("float32") if cls is ew.Cast else cls()
    if cls is em.Polygamma:                  # its order n is an integer
        return op.make_node(T.ivector(), T.fvector())
    return op.make_node(*[T.fvector() for _ in range(op.nin)])


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_op_class_has_a_kernel(backend, require_backend):
    require_backend(backend)
    lower = importlib.import_module("backends.%s.kernels" % backend).lower
    classes = op_classes()
    assert len(classes) > 50
    missing = [cls.__name__ for cls in classes if lower.lookup(cls) is None]
    assert not missing, "the %s backend has no kernel for %s" % (backend, ", ".join(missing))
    for cls in classes:
        if issubclass(cls, ew.Elemwise) and cls is not ew.Composite:
            lower.kernel(example_node(cls))       # an unknown elementwise name fails here


def test_every_op_class_is_exercised_by_a_case(reference):
    seen = {ew.Composite, ops_package.random.RandomVariable}   # fusion and the random test above
    for case in CASES:
        _, outputs = case_graph(case, "float32", reference.values[case.name], reference.weights[case.name])
        seen.update(type(node.op) for node in toposort(outputs))
    untested = [cls.__name__ for cls in op_classes() if cls not in seen]
    assert not untested, "no conformance case exercises %s" % ", ".join(untested)
    assert nn.Conv2DGradFilter in seen and nn.Pool2DGrad in seen
