"""theano.tensor.elemwise: the op classes of elementwise maps, dimension shuffles and reductions.

Elemwise and CAReduce are Theano's classes as user code meets them: isinstance(node.op,
T.Elemwise) holds for every elementwise op of a graph, and Elemwise(theano.scalar.add) or
CAReduce(theano.scalar.add, axis=0) make the tensor op of a scalar op (mlcore/scalar/).
"""
import functools

from mlcore.graph.basic import Op, op_made_by
from mlcore.graph.ops import elemwise as ew, reduce as _reduce
from mlcore.graph.ops.reduce import Max, Min, Prod, Sum  # noqa: F401
from mlcore.graph.ops.shape import DimShuffle  # noqa: F401
from mlcore.scalar.elemwise import BITWISE_FOLDS, ScalarElemwise, ScalarReduce
from mlcore.scalar.op import Composite, ScalarOp


class TheanoOpClass(type):
    """A class standing for several of mlcore's op classes: isinstance and issubclass accept any of
    them (op_classes), and calling it as Theano code calls the class gives the op (make)."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, cls.op_classes)

    def __subclasscheck__(cls, subclass):
        return issubclass(subclass, cls.op_classes)

    def __call__(cls, *args, **kwargs):
        return cls.make(*args, **kwargs)


def _is_graph_function(value):
    return callable(value) and getattr(value, "__module__", "").startswith("mlcore.")


class Elemwise(metaclass=TheanoOpClass):
    """Elemwise(scalar_op): scalar_op applied to each element of tensors, broadcast together."""

    op_classes = (ew.Elemwise, ScalarElemwise)

    @staticmethod
    def make(scalar_op, inplace_pattern=None, name=None, nfunc_spec=None):
        """The tensor op: a user's ScalarOp mapped by ScalarElemwise; a Composite, or a built-in scalar op
        (an elementwise op already), as it is.  inplace_pattern is the backends' choice here."""
        if isinstance(scalar_op, Composite) or isinstance(scalar_op, ew.Elemwise):
            return scalar_op
        if isinstance(scalar_op, ScalarOp):
            return ScalarElemwise(scalar_op)
        if _is_graph_function(scalar_op) and not isinstance(scalar_op, (Op, type)):
            return scalar_op        # theano.scalar.add, clip, ...: functions of elementwise ops
        raise TypeError("Elemwise takes a scalar op (theano.scalar.add, a ScalarOp subclass's instance, a "
                        "Composite), not %r of type %s" % (scalar_op, type(scalar_op).__name__))


# the graph's reductions of the built-in scalar ops; other binary ops fold on the host (ScalarReduce)
_REDUCERS = {ew.Add: _reduce.sum_, ew.Mul: _reduce.prod, ew.Maximum: _reduce.max_, ew.Minimum: _reduce.min_}


class CAReduce(metaclass=TheanoOpClass):
    """CAReduce(scalar_op, axis=None): a binary scalar op folded along axis (None: all axes)."""

    op_classes = (_reduce.Reduce, ScalarReduce)

    @staticmethod
    def make(scalar_op, axis=None):
        op = op_made_by(scalar_op) if _is_graph_function(scalar_op) and not isinstance(scalar_op, Op) else scalar_op
        if type(op) in _REDUCERS:
            return functools.partial(_REDUCERS[type(op)], axis=axis)
        if (isinstance(op, ScalarOp) and op.nin in (-1, 2)) or type(op) in BITWISE_FOLDS:
            return ScalarReduce(op, axis)
        raise TypeError("CAReduce takes a binary scalar op (theano.scalar.add, mul, maximum, minimum, and_, or_, "
                        "xor, or a BinaryScalarOp), not %r" % (scalar_op,))
