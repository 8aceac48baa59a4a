"""keras.ops' control flow on graphs: cond (Theano's ifelse, both branches computed), loops as
the graph's scan (fori_loop, scan, map), and custom_gradient (an OpFromGraph whose gradient is
the one the function gives).  while_loop is missing: a loop whose number of steps the data
decides has no place in graphs of fixed length, as Theano's scan has none."""
from mlcore.compile.builders import OpFromGraph
from mlcore.graph import scan as graph_scan
from mlcore.graph.basic import Variable, clone
from mlcore.graph.ops import shape as sh
from mlcore.ifelse import ifelse
from mlcore.ops.core import as_tensor


def cond(pred, true_fn, false_fn):
    """true_fn()'s result where the scalar pred holds, else false_fn()'s (both of one structure)."""
    return ifelse(as_tensor(pred), true_fn(), false_fn())


def _one_or_many(values):
    """(the values as a list of tensors, a function that gives them back in the caller's structure)."""
    if isinstance(values, (list, tuple)):
        return [as_tensor(v) for v in values], type(values)
    return [as_tensor(values)], lambda outs: outs[0]


def fori_loop(lower, upper, body_fun, init_val):
    """val = body_fun(i, val) for i from lower to upper - 1; the last val."""
    states, rebuild = _one_or_many(init_val)

    def step(i, *previous):
        out, _ = _one_or_many(body_fun(i, rebuild(list(previous))))
        return out
    stacked, _ = graph_scan.scan(step, sequences=[sh.arange(lower, upper)], outputs_info=states,
                                 return_list=True)
    return rebuild([s[-1] for s in stacked])


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """(carry, ys): carry, y = f(carry, x) for each x in xs (or `length` times with x None), in
    reverse order if asked; ys stacks the y's, in xs's order."""
    if xs is None and length is None:
        raise ValueError("scan: give xs or length")
    carries, rebuild = _one_or_many(init)
    count = len(carries)

    def step(*args):
        x, previous = (None, args) if xs is None else (args[0], args[1:])
        carry, y = f(rebuild(list(previous)), x)
        return _one_or_many(carry)[0] + [as_tensor(y)]
    stacked, _ = graph_scan.scan(step, sequences=None if xs is None else [as_tensor(xs)],
                                 outputs_info=carries + [None], n_steps=length, go_backwards=reverse,
                                 return_list=True)
    ys = stacked[count][::-1] if reverse else stacked[count]
    return rebuild([s[-1] for s in stacked[:count]]), ys


def map(f, xs):  # noqa: A001
    """f of each entry of xs along its first axis, stacked."""
    out, _ = graph_scan.map(f, [as_tensor(xs)])
    return out


def custom_gradient(f):
    """f with the gradient it gives: f(*args) returns (y, grad_fn), grad_fn(upstream) the gradient
    of each argument (or of the only one) given y's.  Called on values, f runs as it is."""
    def call(*args):
        if not any(isinstance(a, Variable) for a in args):
            return f(*args)[0]
        args = [as_tensor(a) for a in args]
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
