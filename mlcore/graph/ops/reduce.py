"""Reductions over axes: sum, prod, max, min, argmax; mean, var and std are built from sum."""
import numpy as np

from mlcore.graph.basic import Apply, Op, TensorType
from mlcore.graph.ops.common import as_float_dtype, as_tensor_variable, normalize_axis


class Reduce(Op):
    __props__ = ("axis", "keepdims")

    def __init__(self, axis, keepdims=False):
        self.axis = None if axis is None else tuple(axis)
        self.keepdims = bool(keepdims)

    def axes(self, ndim):
        return tuple(range(ndim)) if self.axis is None else self.axis

    def output_dtype(self, dtype):
        return dtype

    def make_node(self, x):
        x = as_tensor_variable(x)
        axes = self.axes(x.ndim)
        if any(not 0 <= a < x.ndim for a in axes):
            raise ValueError("%s: axis %s out of range for %s" % (self, self.axis, x.type))
        shape = [1 if i in axes else s for i, s in enumerate(x.type.shape)] if self.keepdims else \
            [s for i, s in enumerate(x.type.shape) if i not in axes]
        return Apply(self, [x], [TensorType(self.output_dtype(x.dtype), shape)])

    def expand(self, g, x):
        """g with the reduced dims put back as size-1 dims, ready to broadcast against x."""
        if self.keepdims:
            return g
        from mlcore.graph.ops.shape import DimShuffle
        axes, order, k = self.axes(x.ndim), [], 0
        for i in range(x.ndim):
            if i in axes:
                order.append("x")
            else:
                order.append(k)
                k += 1
        return DimShuffle(order)(g)

    def __str__(self):
        return "%s{%s%s}" % (type(self).__name__, "all" if self.axis is None else ",".join(map(str, self.axis)),
                             ", keepdims" if self.keepdims else "")


def accumulator_dtype(dtype):
    """Sums and products of bools and small ints are 64-bit, as in numpy, Theano and JAX."""
    kind = np.dtype(dtype).kind
    return "int64" if kind in "bi" else "uint64" if kind == "u" else dtype


class Sum(Reduce):
    def output_dtype(self, dtype):
        return accumulator_dtype(dtype)

    def pullback(self, inputs, outputs, output_grads):
        from mlcore.graph.ops.elemwise import second
        x = inputs[0]
        return [second(x, self.expand(output_grads[0], x))]


class Prod(Reduce):
    def output_dtype(self, dtype):
        return accumulator_dtype(dtype)

    def pullback(self, inputs, outputs, output_grads):
        """d prod / d x_i is the product of the other entries, zeros included (as Theano's
        default): prod / x_i when there is no zero; with one zero, the rest's product at it."""
        from mlcore.graph.ops.elemwise import eq, switch
        x = inputs[0]
        is_zero = eq(x, 0)
        zeros = self.expand(Sum(self.axis, self.keepdims)(is_zero), x)
        nonzero = switch(is_zero, 1, x)
        others = self.expand(Prod(self.axis, self.keepdims)(nonzero), x)
        local = switch(is_zero, others * eq(zeros, 1), others / nonzero * eq(zeros, 0))
        return [self.expand(output_grads[0], x) * local]


class Max(Reduce):
    def pullback(self, inputs, outputs, output_grads):
        from mlcore.graph.ops.elemwise import eq
        x = inputs[0]
        return [self.expand(output_grads[0], x) * eq(x, self.expand(outputs[0], x))]


class Min(Max):
    pass


class Argmax(Reduce):
    def output_dtype(self, dtype):
        return "int64"

    def pullback(self, inputs, outputs, output_grads):
        return [None]


class Argmin(Argmax):
    pass


def _reducer(cls):
    def reduce(x, axis=None, keepdims=False):
        x = as_tensor_variable(x)
        axes = normalize_axis(axis, x.ndim, cls.__name__.lower())
        if not axes and not keepdims:
            return x
        return cls(None if axis is None else axes, keepdims)(x)
    reduce.__name__ = cls.__name__.lower()
    reduce.__doc__ = "%s over axis (None: all), as numpy, keeping reduced dims if keepdims." % cls.__name__
    return reduce


sum_, prod, max_, min_ = map(_reducer, (Sum, Prod, Max, Min))


def _arg_reducer(cls):
    def reduce(x, axis=None, keepdims=False):
        x = as_tensor_variable(x)
        if axis is None:    # numpy's: the index into the flattened x
            from mlcore.graph.ops.shape import DimShuffle, flatten
            flat = cls((0,), False)(flatten(x) if x.ndim != 1 else x)
            return DimShuffle(("x",) * x.ndim)(flat) if keepdims else flat
        axes = normalize_axis(axis, x.ndim, cls.__name__.lower())
        if len(axes) != 1:
            raise ValueError("%s takes one axis, as numpy's does; got %s" % (cls.__name__.lower(), axis))
        return cls(axes, keepdims)(x)
    reduce.__name__ = cls.__name__.lower()
    reduce.__doc__ = "Index of the %s along one axis (None: of the flattened x), as numpy." % cls.__name__[3:]
    return reduce


argmax, argmin = map(_arg_reducer, (Argmax, Argmin))


def count(x, axis=None):
    """Number of elements reduced over axis, as a float scalar (symbolic when shapes are unknown)."""
    from mlcore.graph.ops.elemwise import cast
    from mlcore.graph.ops.shape import shape
    axes = normalize_axis(axis, x.ndim)
    static = [x.type.shape[a] for a in axes]
    dtype = as_float_dtype(x.dtype)
    if None not in static:
        return as_tensor_variable(np.asarray(np.prod(static), dtype=dtype))
    s = shape(x)
    if len(axes) == 1:   # x.shape[a]: one node, which merges with the graph's other reads of it
        return cast(s[axes[0]], dtype)
    return cast(prod(s[list(axes)]) if len(axes) else 1, dtype)


def mean(x, axis=None, keepdims=False):
    x = as_tensor_variable(x)
    from mlcore.graph.ops.elemwise import cast
    total = sum_(x, axis, keepdims)
    return cast(total, as_float_dtype(x.dtype)) / count(x, axis)


def var(x, axis=None, keepdims=False, ddof=0):
    x = as_tensor_variable(x)
    centred = x - mean(x, axis, keepdims=True)
    n = count(x, axis)
    return sum_(centred * centred, axis, keepdims) / (n - ddof)


def std(x, axis=None, keepdims=False, ddof=0):
    from mlcore.graph.ops.elemwise import sqrt
    return sqrt(var(x, axis, keepdims, ddof))


def with_dtypes(reduce, default_dtype):
    """reduce with Theano's dtype= (the result's) and acc_dtype= (the accumulation's), as T.sum,
    T.prod and T.mean take them: x is cast to acc_dtype (or dtype) before reducing, the result to
    dtype, or back to the dtype reduce gives x (default_dtype) when only acc_dtype is set."""
    def reduced(input, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        from mlcore.graph.ops.elemwise import cast
        x = as_tensor_variable(input)
        out = reduce(x if (acc_dtype or dtype) is None else cast(x, acc_dtype or dtype), axis, keepdims)
        wanted = dtype or default_dtype(x.dtype)
        return out if out.dtype == wanted else cast(out, wanted)
    reduced.__name__ = reduce.__name__.rstrip("_")
    return reduced


theano_sum = with_dtypes(sum_, accumulator_dtype)
theano_mean = with_dtypes(mean, as_float_dtype)
_theano_prod = with_dtypes(prod, accumulator_dtype)


def theano_prod(input, axis=None, dtype=None, keepdims=False, acc_dtype=None, no_zeros_in_input=False):
    """Theano's prod.  no_zeros_in_input only chose a simpler gradient there: Prod's gradient is
    right with or without zeros, so it changes nothing here."""
    return _theano_prod(input, axis, dtype, keepdims, acc_dtype)
