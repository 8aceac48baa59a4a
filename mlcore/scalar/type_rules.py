"""Theano's output type rules for scalar ops (output_types_preference=): each takes the input
types and gives the tuple of output types.  A user's ScalarOp names one; Elemwise applies it to
the inputs' dtypes."""
import numpy as np

from mlcore.scalar.type import ScalarType, complex_types, float64, int64, upcast

# ints widen to the float that holds them exactly enough, as Theano's upgrade_to_float
_FLOAT_OF = {"bool": "float32", "int8": "float32", "int16": "float32", "uint8": "float32", "uint16": "float32",
             "int32": "float64", "int64": "float64", "uint32": "float64", "uint64": "float64"}


def upcast_out(*types):
    """One output of the inputs' common dtype."""
    return (ScalarType(upcast(*(t.dtype for t in types))),)


def upcast_out_nobool(*types):
    """upcast_out, with bools computed as int8 (so that a + b of bools counts)."""
    (out,) = upcast_out(*types)
    return (ScalarType("int8") if out.dtype == "bool" else out,)


def upcast_out_no_complex(*types):
    _refuse_complex("upcast_out_no_complex", types)
    return upcast_out(*types)


def upgrade_to_float(*types):
    """One float output: the inputs' common dtype, ints first made float32 or float64."""
    return (ScalarType(upcast(*(_FLOAT_OF.get(t.dtype, t.dtype) for t in types))),)


def upgrade_to_float_no_complex(*types):
    _refuse_complex("upgrade_to_float_no_complex", types)
    return upgrade_to_float(*types)


def same_out(type):
    """One output of the (one) input's type."""
    return (type,)


def same_out_nocomplex(type):
    _refuse_complex("same_out_nocomplex", (type,))
    return (type,)


def same_out_float_only(type):
    if np.dtype(type.dtype).kind != "f":
        raise TypeError("same_out_float_only: only float types are supported, not %s" % type)
    return (type,)


def int_out(*types):
    return (int64,)


def float_out(*types):
    return (float64,)


def real_out(type):
    """The type of a complex input's real part; any other input's own."""
    return (ScalarType(np.dtype(type.dtype).type(0).real.dtype),)


class transfer_type:
    """transfer_type(1, None): output k has the type of input transfer[k], or the inputs' upcast
    where that is None, or the dtype named by a string."""

    def __init__(self, *transfer):
        if not all(t is None or isinstance(t, (int, str)) for t in transfer):
            raise TypeError("transfer_type takes input positions, None or dtype names, not %r" % (transfer,))
        self.transfer = transfer

    def __call__(self, *types):
        (common,) = upcast_out(*types)
        return tuple(common if t is None else ScalarType(t) if isinstance(t, str) else types[t]
                     for t in self.transfer)

    def __eq__(self, other):
        return type(self) is type(other) and self.transfer == other.transfer

    def __hash__(self):
        return hash(self.transfer)

    def __str__(self):
        return "transfer_type{%s}" % (self.transfer,)


class specific_out:
    """specific_out(float32): the outputs have these types whatever the inputs."""

    def __init__(self, *spec):
        self.spec = spec

    def __call__(self, *types):
        return self.spec

    def __eq__(self, other):
        return type(self) is type(other) and self.spec == other.spec

    def __hash__(self):
        return hash(self.spec)


def _refuse_complex(rule, types):
    if any(t in complex_types for t in types):
        raise TypeError("%s: complex inputs are not supported (got %s)" % (rule, ", ".join(map(str, types))))
