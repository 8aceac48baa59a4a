"""theano.tensor.xlogx: x * log(x) and x * log(y), taken as 0 where x is 0 (their limit), as the
entropy terms of information-theoretic costs need."""
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import and_, eq, log, switch


def xlogx(x):
    """x * log(x), 0 where x == 0.  The log reads 1 there, so no 0 * -inf turns the value or the
    gradient into NaN (the gradient at 0 comes out 0, where Theano's is -inf)."""
    x = as_tensor_variable(x)
    return x * log(switch(eq(x, 0), 1, x))


def xlogy0(x, y):
    """x * log(y), 0 where x == 0 (whatever y is); the gradient wrt x is log(y), as Theano's."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    return x * log(switch(and_(eq(x, 0), eq(y, 0)), 1, y))
