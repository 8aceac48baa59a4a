"""Theano's graph optimization API ("Extending Theano: graph optimization"): a global Optimizer with
replace_validate, merge_optimizer, a LocalOptimizer under a TopoOptimizer, OpSub, OpRemove,
PatternSub, EquilibriumOptimizer, and registering optimizers so that compiled functions use them."""
import copy

import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore import gof
from mlcore.gof import toolbox
from mlcore.gof.opt import merge_optimizer
from mlcore.graph.rewrite import PASSES, PRESETS
from mlcore.graph.rewrite import registry

div, mul, add = T.true_div, T.mul, T.add


class Simplify(gof.Optimizer):
    """The tutorial's global optimization: (a * b) / b is a, (a * b) / a is b."""

    def add_requirements(self, fgraph):
        fgraph.attach_feature(toolbox.ReplaceValidate())

    def apply(self, fgraph):
        for node in fgraph.toposort():
            if node.op == div:                 # T.true_div stands for its op, as in Theano
                x, y = node.inputs
                z = node.outputs[0]
                if x.owner and x.owner.op == mul:
                    a, b = x.owner.inputs
                    if y == a:
                        fgraph.replace_validate(z, b)
                    elif y == b:
                        fgraph.replace_validate(z, a)


class LocalSimplify(gof.LocalOptimizer):
    def transform(self, node):
        if node.op == div:
            x, y = node.inputs
            if x.owner and x.owner.op == mul:
                a, b = x.owner.inputs
                if y == a:
                    return [b]
                if y == b:
                    return [a]
        return False


@pytest.fixture
def scalars():
    return T.dscalars("x", "y", "z")


def test_a_global_optimizer_and_merge(scalars):
    x, y, z = scalars
    e = gof.FunctionGraph([x, y, z], [add(z, mul(div(mul(y, x), y), div(z, x)))])
    assert str(e) == "[add(z, mul(truediv(mul(y, x), y), truediv(z, x)))]"
    Simplify().optimize(e)
    assert str(e) == "[add(z, mul(x, truediv(z, x)))]"
    e = gof.FunctionGraph([x, y, z], [div(mul(add(y, z), x), add(y, z))])
    Simplify().optimize(e)
    assert str(e) == "[truediv(mul(add(y, z), x), add(y, z))]"     # two add(y, z) nodes, not one
    merge_optimizer.optimize(e)
    Simplify().optimize(e)
    assert str(e) == "[x]"


def test_local_optimizers_under_navigators(scalars):
    x, y, z = scalars
    a = add(z, mul(div(mul(y, x), y), div(z, x)))
    for navigator in (gof.TopoOptimizer(LocalSimplify()), gof.TopoOptimizer(LocalSimplify(), order="out_to_in"),
                      gof.in2out(LocalSimplify()), gof.EquilibriumOptimizer([LocalSimplify()])):
        e = gof.FunctionGraph([x, y, z], [a])
        navigator.optimize(e)
        assert str(e) == "[add(z, mul(x, truediv(z, x)))]"
    assert str(gof.FunctionGraph([x, y, z], [a])) == "[add(z, mul(truediv(mul(y, x), y), truediv(z, x)))]"


def test_opsub_opremove_and_patternsub(scalars):
    x, y, z = scalars
    e = gof.FunctionGraph([x, y, z], [add(z, mul(div(mul(y, x), y), div(z, x)))])
    gof.TopoOptimizer(gof.OpSub(add, mul)).optimize(e)
    assert str(e) == "[mul(z, mul(truediv(mul(y, x), y), truediv(z, x)))]"
    first, second = gof.PatternSub((div, (mul, "x", "y"), "y"), "x"), gof.PatternSub((div, (mul, "x", "y"), "x"), "y")
    gof.TopoOptimizer(gof.LocalOptGroup(first, second)).optimize(e)
    assert str(e) == "[mul(z, mul(x, truediv(z, x)))]"
    e = gof.FunctionGraph([x, y], [T.neg(T.neg(x)) + y])
    gof.TopoOptimizer(gof.OpRemove(T.neg)).optimize(e)
    assert str(e) == "[add(x, y)]"
    times_one = gof.PatternSub((mul, "x", 1), "x")
    e = gof.FunctionGraph([x], [mul(x, 1.0) + mul(x, 2.0)])
    gof.TopoOptimizer(times_one).optimize(e)
    assert str(e).startswith("[add(x, mul(x, ")
    constrained = gof.PatternSub((div, {"pattern": "a", "constraint": lambda v: v.name == "x"}, "b"), (mul, "a", "b"))
    e = gof.FunctionGraph([x, y], [div(x, y) + div(y, x)])
    gof.TopoOptimizer(constrained).optimize(e)
    assert str(e) == "[add(mul(x, y), truediv(y, x))]"


@pytest.fixture
def registrations():
    """Put the rewrite tables back as they were: registering changes every later compile."""
    saved = (dict(PASSES), copy.deepcopy(PRESETS), copy.deepcopy(registry.PRESET_ORDERS),
             {k: list(v) for k, v in registry.LOCAL_GROUPS.items()})
    yield
    passes, presets, orders, groups = saved
    PASSES.clear(), PASSES.update(passes)
    for table, old in ((PRESETS, presets), (registry.PRESET_ORDERS, orders)):
        for key in table:
            table[key][:] = old[key]
    for key, rules in registry.LOCAL_GROUPS.items():
        rules[:] = groups[key]


def _ops(fn):
    return [type(node.op).__name__ for node in fn.maker.fgraph.toposort()]


def test_registered_optimizers_run_when_functions_compile(registrations, scalars):
    from mlcore.compile import optdb
    from mlcore.tensor.opt import register_canonicalize
    x, y, _ = scalars
    unfused = mlcore.Mode().excluding("fusion")        # the ops as they are, not fused into one loop
    before = mlcore.function([x, y], div(mul(x, y), y), backend="numpy", mode=unfused)
    assert "TrueDiv" in _ops(before)

    @register_canonicalize
    @gof.local_optimizer([div])
    def local_cancel(node):
        numerator, denominator = node.inputs
        if numerator.owner and numerator.owner.op == mul and denominator in numerator.owner.inputs:
            others = [v for v in numerator.owner.inputs if v is not denominator]
            return others if len(others) == 1 else False
        return False

    after = mlcore.function([x, y], div(mul(x, y), y), backend="numpy", mode=unfused)
    with np.errstate(invalid="ignore"):
        assert "TrueDiv" not in _ops(after) and float(after(3.0, 0.0)) == 3.0 and np.isnan(before(3.0, 0.0))
    seen = []

    class Count(gof.Optimizer):
        def apply(self, fgraph):
            seen.append(len(fgraph.toposort()))

    optdb.register("count_nodes", Count(), 49.7, "fast_run")
    assert PRESETS["fast_run"][-1] == "count_nodes" and "count_nodes" in optdb
    mlcore.function([x, y], x + y, backend="numpy")
    mlcore.function([x, y], x + y, backend="numpy", mode="FAST_RUN")
    mlcore.function([x, y], x + y, backend="numpy", mode="FAST_COMPILE")
    assert seen == [1, 1]
    with pytest.raises(ValueError, match="exists already"):
        optdb.register("merge", Count(), 0, "fast_run")


def test_replace_validate_refuses_another_type(scalars):
    x, y, _ = scalars
    e = gof.FunctionGraph([x, y], [x + y])
    with pytest.raises(TypeError, match="cannot replace"):
        e.replace_validate(e.outputs[0], T.dvector("v"))
