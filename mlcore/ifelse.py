"""Theano's ifelse: `from mlcore.ifelse import ifelse`, as `from theano.ifelse import ifelse`.

Theano's IfElse is lazy: it computes only the branch the condition picks.  mlcore's computes both
and picks with a switch on the scalar condition.  Results and gradients are Theano's (the branch not
taken gets a zero gradient), but both branches cost their time, and both must have the same shape
(a switch picks elements, not shapes).
"""
from mlcore.graph.ops.common import as_tensor_variable, is_weak, with_dtype
from mlcore.graph.ops.elemwise import switch
from mlcore.tensor.function_ops import FunctionOp


def ifelse(condition, then_branch, else_branch, name=None):
    """then_branch where the scalar condition is nonzero, else else_branch.  The branches are each a
    variable, or lists (tuples) of the same length, which give a list (tuple); name names the results."""
    condition = as_tensor_variable(condition)
    if condition.ndim != 0:
        raise TypeError("ifelse: the condition must be a scalar (0 for False, anything else for True), "
                        "got %s" % condition.type)
    several = isinstance(then_branch, (list, tuple))
    thens = list(then_branch) if several else [then_branch]
    elses = list(else_branch) if isinstance(else_branch, (list, tuple)) else [else_branch]
    if len(thens) != len(elses):
        raise ValueError("ifelse: the then branch has %d values and the else branch %d"
                         % (len(thens), len(elses)))
    results = [pick(condition, then, other) for then, other in zip(thens, elses)]
    for result in results:
        result.name = name or result.name
    if not several:
        return results[0]
    return list(results) if isinstance(then_branch, list) else tuple(results)


def pick(condition, then, other):
    """switch(condition, then, other) for branches of one type (Theano's rule; a Python number takes
    the other branch's dtype), which a scalar condition cannot broadcast into another shape."""
    then, other = as_tensor_variable(then), as_tensor_variable(other)
    if is_weak(then) and then.ndim == other.ndim:
        then = with_dtype(then, other.dtype)
    if is_weak(other) and other.ndim == then.ndim:
        other = with_dtype(other, then.dtype)
    mixed = [d for d, (a, b) in enumerate(zip(then.type.shape, other.type.shape)) if (a == 1) != (b == 1)]
    if then.dtype != other.dtype or then.ndim != other.ndim or mixed:
        raise TypeError("ifelse: both branches must have the same type, got %s and %s%s"
                        % (then.type, other.type, " (one has length 1 on dims %s, where the other would "
                                                  "broadcast it)" % mixed if mixed else ""))
    return switch(condition, then, other)


class IfElse(FunctionOp):
    """Theano's IfElse(n_outs) as a callable: IfElse(2)(condition, x1, x2, y1, y2) is
    ifelse(condition, [x1, x2], [y1, y2]) (one variable when n_outs is 1).  as_view, gpu and
    name are accepted for Theano's signature; the graph holds the switches ifelse builds."""
    __props__ = ("n_outs", "as_view", "gpu", "name")

    def __init__(self, n_outs, as_view=False, gpu=False, name=None):
        self.n_outs, self.as_view, self.gpu, self.name = int(n_outs), as_view, gpu, name

    def build(self, condition, *branches):
        if len(branches) != 2 * self.n_outs:
            raise TypeError("IfElse(%d): expected the condition and %d branch values, got %d values"
                            % (self.n_outs, 2 * self.n_outs, len(branches)))
        results = ifelse(condition, list(branches[:self.n_outs]), list(branches[self.n_outs:]), self.name)
        return results[0] if self.n_outs == 1 else results
