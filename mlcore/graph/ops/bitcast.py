"""Bitcast: a tensor's bytes read as another dtype (numpy's x.view(dtype), keras.ops.view).

No arithmetic happens, so no existing op can express it: each backend reinterprets the buffer (numpy's and
jax's .view).  Where the item sizes differ, the last axis absorbs the difference, as in numpy: four uint8
become one int32, one float64 two float32."""
import numpy as np

from mlcore.graph.basic import Apply, Op, TensorType
from mlcore.graph.ops.common import as_tensor_variable


def bitcast_shape(shape, old_dtype, new_dtype):
    """The shape of an array of `shape` and old_dtype viewed as new_dtype (None: a length unknown)."""
    old, new = np.dtype(old_dtype).itemsize, np.dtype(new_dtype).itemsize
    if old == new:
        return tuple(shape)
    if not shape:
        raise ValueError("Cannot view a scalar as a different dtype if item sizes are different "
                         "(%s is %d bytes, %s is %d)." % (old_dtype, old, new_dtype, new))
    last = shape[-1]
    if last is not None:
        if last * old % new:
            raise ValueError("Cannot view array of shape %s and dtype %s as dtype %s because the total number "
                             "of bytes is not divisible by the new itemsize." % (tuple(shape), old_dtype, new_dtype))
        last = last * old // new
    return tuple(shape[:-1]) + (last,)


class Bitcast(Op):
    """x's bytes as `dtype`: same shape for the same item size, else the last axis rescaled."""
    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype).name

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType(self.dtype, bitcast_shape(x.type.shape, x.dtype, self.dtype))])

    def pullback(self, inputs, outputs, output_grads):
        return [None]     # a reinterpretation of bits has no derivative


def bitcast(x, dtype):
    """x's bytes read as dtype (x itself when the dtype is its own)."""
    x = as_tensor_variable(x)
    return x if np.dtype(dtype).name == x.dtype else Bitcast(dtype)(x)
