"""Reverse-mode symbolic differentiation (Theano's grad).

The chain rule over the graph, in reverse topological order: each node's op
turns the gradients of its outputs into gradients of its inputs (its pullback),
and contributions to a variable used twice are added.  The result is graph
variables, so gradients can be differentiated again.
"""

import warnings

from mlcore.graph.basic import Apply, Op, Variable, toposort
from mlcore.graph.ops.common import as_tensor_variable, is_complex, is_inexact
from mlcore.graph.ops.elemwise import add, cast, clip, ones_like, zeros_like


class DisconnectedInputError(ValueError):
    pass


class NullTypeGradError(TypeError):
    """grad() was asked for a gradient that is undefined (Theano's error for undefined_grad)."""


class NullGradient:
    """A gradient an op declares undefined or not implemented (Theano's grad_undefined and
    grad_not_implemented): grad() raises NullTypeGradError where the cost needs it, or with
    null_gradients="return" gives this object back for the inputs it reaches."""

    def __init__(self, why):
        self.why = why

    def __repr__(self):
        return "NullGradient(%s)" % self.why

    @property
    def type(self):
        """Its NullType, as the type of Theano's undefined gradient (isinstance(g.type, NullType))."""
        return NullType(self.why)

    def __array__(self, *args, **kwargs):
        """Refuse to become a value: compiling a function of an undefined gradient is an error
        when it is built, as in Theano, not a crash (or a nonsense number) when it runs."""
        raise TypeError("%r cannot be computed: %s" % (self, self.why))


class NullType:
    """Theano's NullType: NullType(why_null)() is an undefined gradient, which an op's grad (or
    grad's known_grads) may give for a variable; grad() raises NullTypeGradError where it is needed."""

    def __init__(self, why_null="(no explanation given)"):
        self.why_null = why_null

    def __call__(self, name=None):
        return NullGradient(self.why_null)


def grad_undefined(op, x_pos, x, comment=""):
    """What an op's grad returns for an input its outputs are not differentiable in (Theano's)."""
    return NullGradient("the gradient of %s with respect to its input %d (%s) is undefined%s"
                        % (op, x_pos, x, ": " + comment if comment else ""))


def grad_not_implemented(op, x_pos, x, comment=""):
    """What an op's grad returns for an input whose gradient it does not compute (Theano's)."""
    return NullGradient("the gradient of %s with respect to its input %d (%s) is not implemented%s"
                        % (op, x_pos, x, ": " + comment if comment else ""))


class DisconnectedType:
    """Theano's DisconnectedType: an op's grad returns DisconnectedType()() for an input its
    outputs do not depend on, which here is None, mlcore's "no gradient"."""

    def __call__(self, name=None):
        return None


disconnected_type = DisconnectedType()      # Theano's instance: disconnected_type() is "no gradient"


class GradientBlock(Op):
    """The identity forward; backward, zero (zero_grad), nothing at all (disconnected_grad) or an
    error (undefined_grad)."""
    __props__ = ("mode",)

    def __init__(self, mode):
        self.mode = mode

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type])

    def pullback(self, inputs, outputs, output_grads):
        if self.mode == "undefined":
            raise NullTypeGradError("grad: the cost depends on %s through undefined_grad(), whose gradient is "
                                    "undefined; wrap it in disconnected_grad() to leave that path out" % (inputs[0],))
        return [zeros_like(inputs[0]) if self.mode == "zero" else None]


class GradientClip(Op):
    """The identity forward; backward, the gradient clipped to [lower, upper] (Theano's grad_clip)."""
    __props__ = ("lower", "upper")

    def __init__(self, lower, upper):
        if lower > upper:
            raise ValueError("grad_clip: lower_bound %r is above upper_bound %r" % (lower, upper))
        self.lower, self.upper = float(lower), float(upper)

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type])

    def pullback(self, inputs, outputs, output_grads):
        return [clip(output_grads[0], self.lower, self.upper)]


def grad_clip(x, lower_bound, upper_bound):
    """x, whose gradient is clipped to [lower_bound, upper_bound] on its way back."""
    return GradientClip(lower_bound, upper_bound)(x)


def zero_grad(x):
    return GradientBlock("zero")(x)


def disconnected_grad(x):
    return GradientBlock("disconnected")(x)


def undefined_grad(x):
    """x, through which grad() refuses to differentiate (raises NullTypeGradError)."""
    return GradientBlock("undefined")(x)


def is_float(var):
    """Whether gradients flow through var (float or complex dtypes; ints and bools get none)."""
    return is_inexact(var.dtype)


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", add_names=True, known_grads=None,
         return_disconnected="zero", null_gradients="raise"):
    """Gradients of scalar `cost` wrt a variable or list of variables, with Theano's arguments.

    known_grads maps variables to given gradients (then cost may be None);
    consider_constant lists variables to treat as constants.
    disconnected_inputs: "raise" (Theano's default), "warn" or "ignore", for a wrt that cost does
    not depend on, whose gradient is then return_disconnected: "zero" (zeros), "None" or
    "Disconnected" (None, mlcore's disconnected gradient).  null_gradients: "raise" where an op
    declares the gradient undefined, or "return" to give its NullGradient back.  add_names names
    each gradient (d<cost>/d<wrt>) where cost and wrt have names.
    """
    _check_return_disconnected("grad", return_disconnected)
    if null_gradients not in ("raise", "return"):
        raise ValueError("grad: null_gradients must be 'raise' or 'return', got %r" % (null_gradients,))
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError("grad: disconnected_inputs must be 'raise', 'warn' or 'ignore', got %r"
                         % (disconnected_inputs,))
    if cost is None and not known_grads:
        raise ValueError("grad: cost and known_grads can't both be None")
    single = isinstance(wrt, Variable) or hasattr(wrt, "wrt_variable")
    stand_ins = [wrt] if single else list(wrt)
    wrt = [getattr(w, "wrt_variable", w) for w in stand_ins]     # a sparse matrix: its stored values
    for w in wrt:
        if not isinstance(w, Variable):
            raise TypeError("grad: wrt must hold symbolic variables, got %r" % (w,))
    # DisconnectedType()() is None: a known gradient of None says "no gradient comes from here"
    seeds = {v: g for v, g in (known_grads or {}).items() if g is not None}
    if cost is not None and cost not in (known_grads or {}):     # a known gradient of the cost replaces 1
        cost = as_tensor_variable(cost)
        if cost.ndim != 0:
            raise TypeError("grad: cost must be a scalar, got %s (take .sum() or .mean() first)" % (cost.type,))
        if is_complex(cost.dtype):
            raise TypeError("grad: the cost %s is complex (%s); gradients are those of a real cost "
                            "(take T.real, T.imag or abs of it)" % (cost, cost.dtype))
        seeds[_stabilized(cost, list(wrt) + list(consider_constant or ()) + list(seeds))] = _float_like(cost, 1)
    grads = _backpropagate(seeds, wrt, consider_constant or (), nulls=null_gradients)
    out = []
    for w, stand_in in zip(wrt, stand_ins):
        g = grads.get(w)
        if isinstance(g, NullGradient) and null_gradients == "raise":
            raise NullTypeGradError("grad: the gradient of %s is undefined: %s" % (w, g.why))
        if g is None:
            _report_disconnected(w, disconnected_inputs)
            g = _float_like(w, 0) if return_disconnected == "zero" else None
        elif add_names and cost is not None and cost.name and w.name and isinstance(g, Variable) and g.name is None:
            g.name = "(d%s/d%s)" % (cost.name, w.name)
        out.append(g if w is stand_in or g is None else stand_in.gradient_from(g))
    return out[0] if single else out


def _float_like(var, value):
    """Ones (value 1) or zeros (0) like var, in var's dtype if it is a float one, else in floatX:
    the gradient of (and with respect to) an integer variable is real-valued, as in Theano."""
    filled = ones_like(var) if value else zeros_like(var)
    return filled if is_float(var) else cast(filled, _floatx())


def _floatx():
    from mlcore.config import floatx
    return floatx()


def _report_disconnected(var, disconnected_inputs):
    """grad's disconnected_inputs for a wrt the cost does not depend on: raise, warn or ignore."""
    message = ("grad: the cost does not depend on %s; pass disconnected_inputs='ignore' to get zeros" % (var,))
    if disconnected_inputs == "raise":
        raise DisconnectedInputError(message)
    if disconnected_inputs == "warn":
        warnings.warn(message, stacklevel=3)


def _check_return_disconnected(caller, value):
    if value not in ("zero", "None", "Disconnected"):
        raise ValueError("%s: return_disconnected must be 'zero', 'None' or 'Disconnected', got %r" % (caller, value))


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """eval_points times the Jacobian of f wrt (a vector-Jacobian product), as Theano's Lop;
    f and eval_points may be lists of matching variables."""
    fs = list(f) if isinstance(f, (list, tuple)) else [f]
    points = list(eval_points) if isinstance(eval_points, (list, tuple)) else [eval_points]
    return grad(None, wrt, consider_constant, disconnected_inputs, known_grads=dict(zip(fs, points)))


def Rop(f, wrt, eval_points, disconnected_outputs="raise", return_disconnected="zero"):
    """The Jacobian of f wrt times eval_points (a Jacobian-vector product), as Theano's Rop, from
    two reverse passes: d/du <Lop(f, wrt, u), v> = J v for a stand-in u, which J v does not depend
    on and which is then replaced by f (any value of its type would do).  An f that depends on
    none of wrt: disconnected_outputs "raise" (DisconnectedInputError), "warn" or "ignore", and its
    product is return_disconnected: "zero" (zeros of f's type) or "None"/"Disconnected" (None)."""
    from mlcore.graph.basic import clone
    if disconnected_outputs not in ("raise", "warn", "ignore"):
        raise ValueError("Rop: disconnected_outputs must be 'raise', 'warn' or 'ignore', got %r"
                         % (disconnected_outputs,))
    _check_return_disconnected("Rop", return_disconnected)
    single = isinstance(f, Variable)
    fs = [f] if single else list(f)
    wrts = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    points = list(eval_points) if isinstance(eval_points, (list, tuple)) else [eval_points]
    connected = _depends_on(fs, wrts)
    for y, linked in zip(fs, connected):
        if not linked and disconnected_outputs != "ignore":
            message = "Rop: %s does not depend on any of %s" % (y, wrts)
            if disconnected_outputs == "raise":
                raise DisconnectedInputError(message + "; pass disconnected_outputs='ignore' to get zeros")
            warnings.warn(message)
    us = [y.type() for y in fs]
    pulled = Lop(fs, wrts, us, disconnected_inputs="ignore")
    inner = sum((g * v).sum() for g, v in zip(pulled, points))
    out = clone(grad(inner, us, disconnected_inputs="ignore"), dict(zip(us, fs)))
    out = [o if linked or return_disconnected == "zero" else None for o, linked in zip(out, connected)]
    return out[0] if single else out


def _depends_on(outputs, variables):
    """For each output, whether its graph reads any of variables."""
    wanted = {id(v) for v in variables}
    return [id(y) in wanted or any(id(i) in wanted for node in toposort([y]) for i in node.inputs) for y in outputs]


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Jacobian of a vector expression wrt a variable or a list or tuple of them, returned in
    the same form (Theano's): row i is grad(expression[i], wrt), computed by a scan over i.  A
    scalar expression gives grad itself."""
    from mlcore.graph.ops.shape import arange
    from mlcore.graph.scan import scan
    if not isinstance(expression, Variable):
        raise TypeError("jacobian expects a Variable as `expression`, got %r" % (expression,))
    if expression.ndim > 1:
        raise ValueError("jacobian expects a 1 dimensional variable as `expression`, got %s; "
                         "flatten it to make it a vector" % (expression.type,))
    wrts = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    options = dict(consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
    if expression.ndim == 0:
        return _as_given(wrt, grad(expression, wrts, **options))
    rows, _ = scan(lambda i, y, *xs: grad(y[i], list(xs), **options), sequences=arange(expression.shape[0]),
                   non_sequences=[expression] + wrts, return_list=True)
    return _as_given(wrt, rows)


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Hessian of a scalar cost wrt a vector or a list or tuple of vectors, returned in the same
    form (Theano's): the Jacobian of the gradient, one per vector."""
    if not isinstance(cost, Variable):
        raise TypeError("hessian expects a Variable as `cost`, got %r" % (cost,))
    if cost.ndim != 0:
        raise ValueError("hessian expects a 0 dimensional variable as `cost`, got %s" % (cost.type,))
    hessians = []
    for x in list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]:
        if not isinstance(x, Variable):
            raise TypeError("hessian expects a (list of) Variable as `wrt`, got %r" % (x,))
        if x.ndim != 1:
            raise ValueError("hessian expects a (list of) 1 dimensional variable as `wrt`, got %s" % (x.type,))
        g = grad(cost, x, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
        hessians.append(jacobian(g, x, consider_constant, disconnected_inputs="ignore"))
    return _as_given(wrt, hessians)


def _as_given(wrt, values):
    """values as a list, a tuple or one variable, as wrt was given (Theano's format_as)."""
    if isinstance(wrt, (list, tuple)):
        return tuple(values) if isinstance(wrt, tuple) else list(values)
    return values[0]


def backpropagate(known_grads, wrt):
    """The gradients of the variables wrt, given the gradients of others (a dict), None where
    wrt does not reach them: a scan's backward step is built from it."""
    grads = _backpropagate(known_grads, wrt, ())
    return [grads[w] for w in wrt]


def _stabilized(cost, keep):
    """cost with the stabilize rewrites applied first (log(softmax) -> log_softmax, ...),
    so that the gradient graph, built from it, is stable too (Theano rewrote the
    gradient graph afterwards instead).  Merged first, so that a pattern written with
    a repeated subexpression (x - x.max() twice) is seen as one.  The variables in keep
    (wrt, consider_constant, known_grads) stay in the rewritten graph as they are, so
    grad still finds them."""
    from mlcore.graph.basic import graph_inputs
    from mlcore.graph.fgraph import FunctionGraph
    from mlcore.graph.rewrite import rewrite
    fgraph = FunctionGraph(keep + graph_inputs([cost]), [cost])
    return rewrite(fgraph, ["merge", "stabilize"]).outputs[0]


def _backpropagate(seeds, wrt, constants, nulls="raise"):
    """Map each variable between wrt and the seeds to its total gradient.  The variables in
    constants (consider_constant) get their own gradient but pass none on.  An op's NullGradient
    for an input on the way raises NullTypeGradError, or with nulls="return" is that input's
    gradient and the gradient of everything before it.  Integer variables take part as in Theano:
    an integer wrt gets the real-valued gradient an op gives it, and behind an integer made from
    the wrt (argmax(x), i * 2) the slope is zero: such a wrt gets zeros, not a disconnected error,
    without zeros being added where a real gradient flows too (the integer x.shape[0] of a mean)."""
    nodes = toposort(list(seeds), blockers=constants)
    reaches = {id(w) for w in wrt}            # variables that depend on some wrt
    for node in nodes:
        if any(id(i) in reaches for i in node.inputs):
            reaches.update(id(o) for o in node.outputs)
    wanted = {id(w) for w in wrt}
    zero_slope = set()                        # reached by a gradient only through integers
    contributions = {}
    for var, g in seeds.items():
        contributions.setdefault(var, []).append(g if isinstance(g, NullGradient) else as_tensor_variable(g))
    totals = {}

    def total(var):
        parts = contributions.get(var)
        if not parts:
            return None
        nulls_here = [p for p in parts if isinstance(p, NullGradient)]
        if nulls_here:
            return nulls_here[0]
        if var not in totals:
            acc = parts[0]
            for p in parts[1:]:
                acc = add(acc, p)
            totals[var] = acc
        return totals[var]

    for node in reversed(nodes):
        if not any(id(o) in reaches for o in node.outputs):
            continue
        out_grads = [total(o) for o in node.outputs]
        undefined = any(isinstance(g, NullGradient) for g in out_grads)
        if all(g is None for g in out_grads) or not undefined and not any(is_float(o) for o in node.outputs):
            if any(g is not None or id(o) in zero_slope for g, o in zip(out_grads, node.outputs)):
                zero_slope.update(id(i) for i in node.inputs)
            continue
        for inp, g in zip(node.inputs, _pull_back_node(node, out_grads)):
            if g is None or id(inp) not in reaches:
                continue
            if isinstance(g, NullGradient):
                if nulls == "raise":
                    raise NullTypeGradError("grad: %s" % g.why)
                contributions.setdefault(inp, []).append(g)
                continue
            if g.type.shape != inp.type.shape and all(s is not None for s in g.type.shape + inp.type.shape):
                raise AssertionError("%s's pullback gave shape %s for input %s" % (node.op, g.type, inp.type))
            if is_float(inp) or id(inp) in wanted:
                contributions.setdefault(inp, []).append(g if is_float(g) else cast(g, _floatx()))
            else:
                zero_slope.add(id(inp))
    return {w: _float_like(w, 0) if total(w) is None and id(w) in zero_slope else total(w) for w in wrt}


def _pull_back_node(node, out_grads):
    """The gradients of node's inputs from those of its outputs (None for an output with none):
    the op's pullback, or a NullGradient reaching every input."""
    null = next((g for g in out_grads if isinstance(g, NullGradient)), None)
    if null is not None:
        return [null] * len(node.inputs)
    out_grads = [zeros_like(o) if g is None and is_float(o) else g for o, g in zip(node.outputs, out_grads)]
    return node.op.pullback(node.inputs, node.outputs, out_grads)
