"""Elementwise ops.  Each is a name (the key backends look up) plus a dtype rule
and a one-line gradient written as math, as in HIPS autograd."""
import numpy as np

from mlcore.graph.basic import Apply, Op, TensorType
from mlcore.graph.ops.common import (as_float_dtype, as_tensor_variable, broadcast_static_shapes, common_dtype,
                                     is_complex, is_inexact, is_weak, real_dtype, upcast, with_dtype)


class Elemwise(Op):
    """Applies a scalar function to every element; inputs broadcast (Theano rules:
    missing leading dims are added, and only dims statically equal to 1 broadcast)."""

    nin = 1
    dtype_rule = "upcast"          # "upcast" | "float" | "bool"
    holomorphic = True             # grad's rule is g * f'(x), to be conjugated on complex values

    @property
    def name(self):
        return type(self).__name__.lower()

    def output_dtype(self, dtypes):
        dtype = upcast(*dtypes)
        if self.dtype_rule == "float":
            return as_float_dtype(dtype)
        if self.dtype_rule == "bool":
            return "bool"
        return dtype

    def make_node(self, *inputs):
        if len(inputs) != self.nin:
            raise TypeError("%s takes %d inputs, got %d" % (self, self.nin, len(inputs)))
        inputs, shape = aligned_inputs(self, inputs)
        if self.dtype_rule == "float":     # exp(int8) computes in floatx, not in numpy's float16
            dtype = self.output_dtype([x.dtype for x in inputs])
            inputs = [with_dtype(x, dtype) for x in inputs]
        dtype = self.output_dtype([x.dtype for x in inputs])
        return Apply(self, inputs, [TensorType(dtype, shape)])

    def pullback(self, inputs, outputs, output_grads):
        (g,) = output_grads
        if self.holomorphic and is_complex(outputs[0].dtype):
            # Theano's convention for complex values wants g * conj(f'(x)) (elemwise_complex.py):
            # the rule applied to conj(g), conjugated
            from mlcore.graph.ops.elemwise_complex import conj
            grads = [None if gi is None else conj(gi) for gi in self.grad(inputs, outputs[0], conj(g))]
        else:
            grads = self.grad(inputs, outputs[0], g)
        return [None if gi is None else unbroadcast(gi, x) for gi, x in zip(grads, inputs)]

    def grad(self, inputs, out, g):
        """Math of the gradient, before reducing over broadcast dims."""
        raise NotImplementedError("%s has no gradient" % self.name)


def aligned_inputs(op, inputs):
    """An elementwise op's inputs as tensors of one rank (a weak Python number in the others' dtype,
    missing leading dims added) and the static shape they broadcast to, by Theano's rules."""
    from mlcore.graph.ops.shape import pad_left
    inputs = [as_tensor_variable(x) for x in inputs]
    common = common_dtype(inputs)
    ndim = max(x.ndim for x in inputs)
    inputs = [pad_left(with_dtype(x, common) if is_weak(x) else x, ndim) for x in inputs]
    return inputs, broadcast_static_shapes(op, [x.type.shape for x in inputs])


def unbroadcast(g, x):
    """Sum g over the dims where x was broadcast, so it has x's shape (and dtype: of a complex g
    for a real x, the real part, the cost's slope along x).  Of an integer x, the slope stays
    real-valued (Theano's gradient wrt an integer equals the one wrt the same values as floats)."""
    if is_complex(g.dtype) and not is_complex(x.dtype):
        from mlcore.graph.ops.elemwise_complex import real
        g = real(g)
    axes = [i for i, (sx, sg) in enumerate(zip(x.type.shape, g.type.shape)) if sx == 1 and sg != 1]
    if axes:
        from mlcore.graph.ops.reduce import Sum
        g = Sum(tuple(axes), keepdims=True)(g)
    return cast(g, x.dtype) if g.dtype != x.dtype and is_inexact(x.dtype) else g


class Unary(Elemwise):
    nin = 1


class Binary(Elemwise):
    nin = 2


class FloatUnary(Unary):
    dtype_rule = "float"


# --- unary ---------------------------------------------------------------------------------------
class Neg(Unary):
    def grad(self, i, out, g): return [-g]

class Abs(Unary):
    """|x|; of a complex x, its (real) modulus."""
    def output_dtype(self, dtypes): return real_dtype(super().output_dtype(dtypes))

    def grad(self, i, out, g):
        if is_complex(i[0].dtype):    # |z| grows along z / |z| (0 at z = 0)
            return [g * i[0] / switch(eq(out, 0), 1, out)]
        return [g * sign(i[0])]

class Sign(Unary):
    def grad(self, i, out, g): return [zeros_like(i[0])]

class Floor(Unary):
    def grad(self, i, out, g): return [zeros_like(i[0])]

class Ceil(Unary):
    def grad(self, i, out, g): return [zeros_like(i[0])]

class Round(Unary):
    def grad(self, i, out, g): return [zeros_like(i[0])]

class Sqr(Unary):
    def grad(self, i, out, g): return [g * 2 * i[0]]

class Exp(FloatUnary):
    def grad(self, i, out, g): return [g * out]

class Log(FloatUnary):
    def grad(self, i, out, g): return [g / i[0]]

class Log1p(FloatUnary):
    def grad(self, i, out, g): return [g / (1 + i[0])]

class Expm1(FloatUnary):
    def grad(self, i, out, g): return [g * (out + 1)]

class Sqrt(FloatUnary):
    def grad(self, i, out, g): return [g * 0.5 / out]

class Tanh(FloatUnary):
    def grad(self, i, out, g): return [g * (1 - sqr(out))]

class Sin(FloatUnary):
    def grad(self, i, out, g): return [g * cos(i[0])]

class Cos(FloatUnary):
    def grad(self, i, out, g): return [-g * sin(i[0])]

class Sigmoid(FloatUnary):
    def grad(self, i, out, g): return [g * out * (1 - out)]

class Softplus(FloatUnary):
    """log(1 + exp(x)), computed without overflow."""
    def grad(self, i, out, g): return [g * sigmoid(i[0])]

class Relu(Unary):
    def grad(self, i, out, g): return [g * gt(i[0], 0)]

class ZerosLike(Unary):
    def grad(self, i, out, g): return [None]

class OnesLike(Unary):
    def grad(self, i, out, g): return [None]


class Cast(Unary):
    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype).name

    def output_dtype(self, dtypes):
        return self.dtype

    def __str__(self):
        return "Cast{%s}" % self.dtype

    def grad(self, i, out, g):      # to a float: the slope passes, also to an integer input (Theano's)
        return [g if is_inexact(out.dtype) else None]


# --- binary --------------------------------------------------------------------------------------
class Add(Binary):
    def grad(self, i, out, g): return [g, g]

class Sub(Binary):
    def grad(self, i, out, g): return [g, -g]

class Mul(Binary):
    def grad(self, i, out, g): return [g * i[1], g * i[0]]

class TrueDiv(Binary):
    dtype_rule = "float"
    def grad(self, i, out, g): return [g / i[1], -g * out / i[1]]

class IntDiv(Binary):
    def grad(self, i, out, g): return [zeros_like(i[0]), zeros_like(i[1])]

class Mod(Binary):
    def grad(self, i, out, g): return [g, -g * floor(i[0] / i[1])]

class Pow(Binary):
    def grad(self, i, out, g):
        x, y = i
        gx = g * y * (x ** (y - 1))
        gy = g * out * log(switch(gt(x, 0), x, 1))  # defined where x > 0, 0 elsewhere as in Theano
        return [gx, gy]

class Maximum(Binary):
    def grad(self, i, out, g): return [g * ge(i[0], i[1]), g * lt(i[0], i[1])]

class Minimum(Binary):
    def grad(self, i, out, g): return [g * le(i[0], i[1]), g * gt(i[0], i[1])]

class Second(Binary):
    """The second input broadcast to the shape of both (Theano's fill/second)."""
    def output_dtype(self, dtypes): return dtypes[1]
    def grad(self, i, out, g): return [None, g]


class Compare(Binary):
    dtype_rule = "bool"
    def grad(self, i, out, g): return [None, None]

class Eq(Compare): pass
class Neq(Compare): pass
class Lt(Compare): pass
class Le(Compare): pass
class Gt(Compare): pass
class Ge(Compare): pass
class And(Compare): pass
class Or(Compare): pass


class Switch(Elemwise):
    """where(cond, a, b): a where cond is true, else b."""
    nin = 3

    def output_dtype(self, dtypes):
        return upcast(dtypes[1], dtypes[2])

    def grad(self, i, out, g):
        z = zeros_like(g)
        return [None, switch(i[0], g, z), switch(i[0], z, g)]


class Composite(Elemwise):
    """Several elementwise ops fused into one node (built by the fusion rewrite).

    program: steps (op, argument slots); slots 0..nin-1 are the inputs, each step
    appends one slot; outputs names the result slots.  Backends run the program,
    the numpy one in cache-sized blocks.
    """
    __props__ = ("program", "outputs", "nin")

    def __init__(self, program, outputs, nin, dtypes):
        self.program = tuple(program)
        self.outputs = tuple(outputs)
        self.nin = nin
        self.dtypes = tuple(dtypes)

    name = "composite"

    def __str__(self):
        return "Composite{%s}" % ", ".join(str(op) for op, _ in self.program)

    def make_node(self, *inputs):
        inputs = [as_tensor_variable(x) for x in inputs]
        shape = broadcast_static_shapes(self, [x.type.shape for x in inputs])
        return Apply(self, inputs, [TensorType(d, shape) for d in self.dtypes])


def op_function(op_class):
    """The function applying one shared instance of op_class (what ops and T export)."""
    op = op_class()
    return lambda *args: op(*args)


neg, abs_, sign, floor, ceil, round_, sqr = map(op_function, (Neg, Abs, Sign, Floor, Ceil, Round, Sqr))
exp, log, log1p, expm1, sqrt, tanh, sin, cos = map(op_function, (Exp, Log, Log1p, Expm1, Sqrt, Tanh, Sin, Cos))
sigmoid, softplus, relu, zeros_like, ones_like = map(op_function, (Sigmoid, Softplus, Relu, ZerosLike, OnesLike))
add, sub, mul, true_div, int_div, mod, pow_ = map(op_function, (Add, Sub, Mul, TrueDiv, IntDiv, Mod, Pow))
maximum, minimum, second = map(op_function, (Maximum, Minimum, Second))
eq, neq, lt, le, gt, ge, and_, or_ = map(op_function, (Eq, Neq, Lt, Le, Gt, Ge, And, Or))
switch = op_function(Switch)


def cast(x, dtype):
    x = as_tensor_variable(x)
    return x if x.dtype == np.dtype(dtype).name else Cast(dtype)(x)


def clip(x, lo, hi):
    return minimum(maximum(x, lo), hi)
