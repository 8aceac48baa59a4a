"""keras.ops' control flow on graphs: cond (Theano's ifelse, both branches computed), loops as
the graph's scan (fori_loop, scan, map, associative_scan), while_loop as the graph's While op, and
custom_gradient (an OpFromGraph whose gradient is the one the function gives).  The loops take
nested states and inputs (tuples, lists, dicts of tensors) as Keras's do, flattened to the graph's
lists of tensors and packed back for the functions and results."""
import functools
import re

import numpy as np

from mlcore import tree
from mlcore.compile.builders import OpFromGraph
from mlcore.graph import scan as graph_scan
from mlcore.graph.autocast import autocast_inputs
from mlcore.graph.basic import Constant, TensorType, Variable, clone, graph_inputs
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import shape as sh
from mlcore.graph.ops.scan import apply_while
from mlcore.ifelse import ifelse
from mlcore.graph.ops.extra_ops import dims
from mlcore.ops.arrays import broadcast_to, moveaxis, reshape
from mlcore.ops.core import as_tensor
from mlcore.ops.eager import evaluate


def _variables(structure):
    return [v for v in tree.flatten(structure) if isinstance(v, Variable)]


def at_once_on_values(calls_functions):
    """An op that calls functions, its result computed at once where it reads nothing but constants
    (called on values, with functions that close over no graph variable), as Keras's eager ops
    give arrays; where the functions read graph variables, the result stays symbolic."""
    @functools.wraps(calls_functions)
    def run(*args, **kwargs):
        out = calls_functions(*args, **kwargs)
        if all(isinstance(v, Constant) for v in graph_inputs(_variables(out))):
            return evaluate(out)
        return out
    return run


@at_once_on_values
def cond(pred, true_fn, false_fn):
    """true_fn()'s result where the scalar pred holds, else false_fn()'s (both of one structure)."""
    return ifelse(as_tensor(pred), true_fn(), false_fn())


@at_once_on_values
def switch(index, branches, *operands):
    """branches[index](*operands), the index clipped to the branches (as Keras's switch): every branch
    is built and ifelse picks one, the first for index <= 0, the last for index >= len(branches) - 1."""
    if not branches:
        raise ValueError("switch: `branches` must hold at least one function")
    index = as_tensor(index)
    result = branches[-1](*operands)
    for k in range(len(branches) - 2, -1, -1):
        result = ifelse(ew.le(index, k), branches[k](*operands), result)
    return result


def _flat(structure):
    """(the leaves of a nested structure (a tensor, a list, a tuple or a dict of them, as Keras's
    loops take) as tensors, a function that packs a list of tensors back in that structure)."""
    leaves = [as_tensor(v) for v in tree.flatten(structure)]
    return leaves, lambda flat: tree.pack_sequence_as(structure, list(flat))


def _leaves_like(name, what, structure, expected):
    """The leaves of what a loop function returned, as tensors; a ValueError unless they sit where
    the loop state's do (a list for a tuple is fine)."""
    try:
        tree.assert_same_paths(structure, expected)
    except ValueError as error:
        raise ValueError("%s: %s must keep the structure of the loop variables, %r; got %r (%s)"
                         % (name, what, expected, structure, error)) from None
    return [as_tensor(v) for v in tree.flatten(structure)]


def _callable(name, f):
    if not callable(f):
        raise TypeError("%s: `f` should be a callable. Received: f=%r" % (name, f))


@at_once_on_values
def fori_loop(lower, upper, body_fun, init_val):
    """val = body_fun(i, val) for i from lower to upper - 1; the last val (of init_val's structure)."""
    states, rebuild = _flat(init_val)

    def step(i, *previous):
        return _leaves_like("fori_loop", "body_fun", body_fun(i, rebuild(previous)), init_val)
    stacked, _ = graph_scan.scan(step, sequences=[sh.arange(lower, upper)], outputs_info=states,
                                 return_list=True)
    return rebuild([s[-1] for s in stacked])


@at_once_on_values
def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """(carry, ys): carry, y = f(carry, x) for each x in xs (or `length` times with x None), in
    reverse order if asked; ys stacks the y's, in xs's order.  init, xs and y may be nested (as
    jax.lax.scan's pytrees); a y of None gives ys None.  unroll is checked as Keras checks it; the
    graph's loop runs one step at a time whatever its value."""
    _callable("scan", f)
    if not (isinstance(unroll, bool) or isinstance(unroll, (int, np.integer)) and unroll >= 1):
        raise ValueError("scan: `unroll` must be an positive integer or boolean. Received: unroll=%r" % (unroll,))
    if xs is None and length is None:
        raise ValueError("scan: got no `xs` to scan over and `length` not provided.")
    carries, rebuild = _flat(init)
    rows, rebuild_x = _flat(xs) if xs is not None else ([], lambda _: None)

    def call(args):
        carry, y = f(rebuild(args[len(rows):]), rebuild_x(args[:len(rows)]))
        return _leaves_like("scan", "f's carry", carry, init), y
    # the loop's outputs are fixed before its step is built: a first call on stand-ins tells y's structure
    _, y_structure = call([TensorType(r.dtype, r.type.shape[1:])() for r in rows] + [c.type() for c in carries])
    y_count = sum(v is not None for v in tree.flatten(y_structure))

    def step(*args):
        carry, y = call(args)
        return carry + [as_tensor(v) for v in tree.flatten(y) if v is not None]
    stacked, _ = graph_scan.scan(step, sequences=rows or None, outputs_info=carries + [None] * y_count,
                                 n_steps=length, go_backwards=reverse, return_list=True)
    ys = iter([y[::-1] if reverse else y for y in stacked[len(carries):]])
    return (rebuild([s[-1] for s in stacked[:len(carries)]]),
            tree.map_structure(lambda v: None if v is None else next(ys), y_structure))


@at_once_on_values
def map(f, xs):  # noqa: A001
    """f of each entry of xs along its first axis, stacked; xs and f's result may be nested (a dict
    of arrays, as Keras allows), each array stacked in the result's structure."""
    results = []

    def step(*rows):
        results.append(f(tree.pack_sequence_as(xs, list(rows))))
        return [as_tensor(y) for y in tree.flatten(results[-1])]
    stacked, _ = graph_scan.scan(step, sequences=[as_tensor(x) for x in tree.flatten(xs)], return_list=True)
    return tree.pack_sequence_as(results[0], stacked)


@at_once_on_values
def vectorized_map(function, elements):
    """function of each entry of elements along its first axis, stacked, as map does it (a loop: the
    graph has no batching transform such as jax.vmap)."""
    return map.__wrapped__(function, elements)


@at_once_on_values
def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """loop_vars = body(*loop_vars) while cond(*loop_vars) holds, at most maximum_iterations times;
    the last loop_vars (a tuple where loop_vars is a list or tuple, as Keras gives them).  loop_vars
    that is not a list or tuple (a tensor, a dict) is passed whole; any of them may be nested."""
    many = isinstance(loop_vars, (list, tuple))
    loop_vars = tuple(loop_vars) if many else (loop_vars,)
    initials, rebuild = _flat(loop_vars)
    given = [v.type() for v in initials]
    going = cond(*rebuild(given))
    if not isinstance(going, Variable):     # a loop that never or always runs: surely a mistake
        raise TypeError("while_loop: cond returned %r, not a tensor of the loop variables (on mlcore's "
                        "tensors == and != compare identity, as in Theano: use ops.equal and ops.not_equal)"
                        % (going,))
    going = ew.cast(going, "bool")
    new = body(*rebuild(given))
    new = _leaves_like("while_loop", "body", tuple(new) if many else (new,), loop_vars)
    new = [ew.cast(v, i.dtype) for v, i in zip(new, initials)]
    out = rebuild(apply_while(going, new, initials, given, maximum_iterations))
    return out if many else out[0]


def _moved(x, axis, reverse):
    x = moveaxis(x, axis, 0)
    return x[::-1] if reverse else x


@at_once_on_values
def associative_scan(f, elems, reverse=False, axis=0):
    """The running f-combination of elems along axis (f associative: the running sum for add),
    from the end where reverse; elems may be nested (a tuple or dict of arrays, of one length
    along axis), which f takes alike."""
    _callable("associative_scan", f)
    rows, rebuild = _flat(elems)
    lengths = {x.type.shape[axis] for x in rows} - {None}
    if len(lengths) > 1:
        raise ValueError("associative_scan: array inputs must have the same first dimension (the length "
                         "along axis %d). (saw: %s)" % (axis, [x.type.shape for x in rows]))
    rows = [_moved(x, axis, reverse) for x in rows]

    def step(*args):
        x, carry = rebuild(args[:len(rows)]), rebuild(args[len(rows):])
        return _leaves_like("associative_scan", "f", f(carry, x), elems)
    stacked, _ = graph_scan.scan(step, sequences=[r[1:] for r in rows], outputs_info=[r[0] for r in rows],
                                 return_list=True)
    running = [sh.concatenate([r[:1], y], 0) for r, y in zip(rows, stacked)]
    return rebuild([moveaxis(r[::-1] if reverse else r, 0, axis) for r in running])


def _core_ranks(signature, count):
    """How many trailing (core) axes each of `count` arguments has in a gufunc signature such as
    "(m,n),(n)->(m)"; none without a signature."""
    if signature is None:
        return [0] * count
    inputs = signature.replace(" ", "").split("->")[0]
    ranks = [len([d for d in core.split(",") if d]) for core in re.findall(r"\(([^)]*)\)", inputs)]
    if len(ranks) != count:
        raise ValueError("vectorize: signature %r has %d inputs, the call gives %d" % (signature, len(ranks), count))
    return ranks


def vectorize(pyfunc, *, excluded=None, signature=None):
    """pyfunc over the leading (loop) axes of its positional arguments, broadcast against each
    other, as numpy.vectorize: on scalars, or on the core axes signature names; arguments whose
    positions are in excluded, and keyword arguments, pass as they are.  The loop is a map (scan)
    over the loop axes flattened, whose sizes must be known when the graph is built."""
    excluded = set(excluded or ())

    @at_once_on_values
    @functools.wraps(pyfunc)
    def vectorized(*args, **kwargs):
        mapped = [k for k in range(len(args)) if k not in excluded]
        tensors = [as_tensor(args[k]) for k in mapped]
        splits = [t.ndim - r for t, r in zip(tensors, _core_ranks(signature, len(tensors)))]
        loops = [t.type.shape[:split] for t, split in zip(tensors, splits)]
        if any(None in shape for shape in loops):
            raise ValueError("vectorize: the loop axes' sizes must be known; received %s"
                             % ([t.type for t in tensors],))
        loop = tuple(np.broadcast_shapes(*loops))
        if not loop:
            return pyfunc(*args, **kwargs)
        cores = [tuple(dims(t)[split:]) for t, split in zip(tensors, splits)]
        rows = [reshape(broadcast_to(t, loop + core), (-1,) + core) for t, core in zip(tensors, cores)]

        def step(*row):
            call = list(args)
            for k, value in zip(mapped, row):
                call[k] = value
            return pyfunc(*call, **kwargs)
        out, _ = graph_scan.map(step, rows)
        many = isinstance(out, (list, tuple))
        out = [reshape(o, loop + tuple(dims(o)[1:])) for o in (out if many else [out])]
        return tuple(out) if many else out[0]
    return vectorized


def custom_gradient(f):
    """f with the gradient it gives: f(*args) returns (y, grad_fn), grad_fn(upstream) the gradient
    of each argument (or of the only one) given y's.  Called on values, f runs as it is."""
    def call(*args):
        if not any(isinstance(a, Variable) for a in args):
            return f(*args)[0]
        # an autocast weight enters as it is read in the scope (bfloat16 under mixed_bfloat16): the op's
        # call would cast it there, and the inner graph must take that type
        args = autocast_inputs([as_tensor(a) for a in args])
        inner = [a.type() for a in args]
        y, grad_fn = f(*inner)

        def gradient(inputs, output_grads):
            grads = grad_fn(output_grads[0])
            grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
            return clone(grads, list(zip(inner, inputs)))
        return OpFromGraph(inner, [y], grad_overrides=gradient)(*args)
    call.__name__ = call.__qualname__ = getattr(f, "__name__", "custom_gradient")
    call.__doc__ = f.__doc__
    return call
