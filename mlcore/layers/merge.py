"""Keras 2's module path keras.layers.merge, kept so that `from mlcore.layers.merge import concatenate`
(as Keras 2 code writes it) imports: the layers live in mlcore/layers/merging.py, Keras 3's name for
the module.  Keras 1's `merge(inputs, mode=...)` function (removed in Keras 2.2) is here too, as the
layer each mode became; Keras 1's `Merge` layer of whole Sequential models is not."""
from mlcore.layers.core import Lambda
from mlcore.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,  # noqa: F401
                                   Subtract, add, average, concatenate, dot, maximum, minimum, multiply,
                                   subtract)

_BY_MODE = {"sum": Add, "mul": Multiply, "ave": Average, "max": Maximum}


def merge(inputs, mode="sum", concat_axis=-1, dot_axes=-1, output_shape=None, output_mask=None, arguments=None,
          name=None):
    """Keras 1's merge of a list of tensors: mode 'sum', 'mul', 'ave', 'max', 'concat' (along
    concat_axis), 'dot' or 'cos' (the normalized dot, along dot_axes), or a function of the list
    (a Lambda, with output_shape and arguments)."""
    if callable(mode):
        return Lambda(mode, output_shape=output_shape, arguments=arguments, name=name)(inputs)
    if mode == "concat":
        return Concatenate(axis=concat_axis, name=name)(inputs)
    if mode in ("dot", "cos"):
        return Dot(axes=dot_axes, normalize=mode == "cos", name=name)(inputs)
    if mode not in _BY_MODE:
        raise ValueError("merge: unknown mode %r; Keras 1's modes are 'sum', 'mul', 'concat', 'ave', 'cos', 'dot', "
                         "'max' or a function" % (mode,))
    return _BY_MODE[mode](name=name)(inputs)
