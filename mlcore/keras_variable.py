"""mlcore.Variable: Theano's graph Variable class and Keras 3's keras.Variable under one name.

`import mlcore as theano` and `import mlcore as keras` both reach it, and the two libraries mean
different things by it: Theano's theano.Variable(type, owner=None, index=None, name=None) is the
class of every graph variable (isinstance checks, subclasses), Keras's keras.Variable(initializer,
shape=None, dtype=None, trainable=True, ...) makes a model variable, which in mlcore is a layer
Weight (a shared variable, itself a graph Variable).  So the name is an object that acts as the
graph class for isinstance, issubclass and subclassing, and whose call dispatches on its first
argument: a graph type (TensorType) builds Theano's Variable, anything else a Keras variable.

One difference stays: isinstance(keras.Input(...), keras.Variable) is True here (Keras says False),
since every symbolic tensor is a graph Variable in Theano's sense.
"""
import numpy as np

from mlcore.graph import basic

_AGGREGATIONS = (None, "none", "mean", "sum", "only_first_replica")
_SYNCHRONIZATIONS = (None, "none", "on_read", "on_write", "auto")


def keras_variable(initializer, shape=None, dtype=None, trainable=True, autocast=True, aggregation="none",
                   synchronization="auto", name=None, layout=None):
    """Keras 3's keras.Variable: a Weight made from a value, or from an initializer (a name or a
    callable) and a shape, with the path of the name scopes open around it (keras.name_scope).
    layout: a keras.distribution.TensorLayout (or jax Sharding) to hold the value in."""
    from mlcore import initializers
    from mlcore.layers.base import unique_name
    from mlcore.layers.layer_state import current_path
    from mlcore.layers.weight import Weight
    name = name or unique_name("variable")
    if not isinstance(name, str) or "/" in name:
        raise ValueError("Argument `name` must be a string and cannot contain character `/`. Received: name=%s"
                         % (name,))
    if aggregation not in _AGGREGATIONS:
        raise ValueError("Invalid value for argument `aggregation`. Expected one of %s. Received: aggregation=%r"
                         % (_AGGREGATIONS, aggregation))
    if synchronization not in _SYNCHRONIZATIONS:
        raise ValueError("Invalid value for argument `synchronization`. Expected one of %s. Received: "
                         "synchronization=%r" % (_SYNCHRONIZATIONS, synchronization))
    if isinstance(initializer, str):
        initializer = initializers.get(initializer)
    if callable(initializer):
        if shape is None:
            raise ValueError("When creating a Variable from an initializer, the `shape` argument should be "
                             "specified. Received: initializer=%s and shape=%s" % (initializer, shape))
        if any(d is None for d in shape):
            raise ValueError("Shapes used to initialize variables must be fully-defined (no `None` dimensions). "
                             "Received: shape=%s for variable path='%s'" % (tuple(shape), name))
        dtype = _standard_dtype(dtype)
        value = initializer(tuple(int(d) for d in shape), dtype=dtype)
    else:
        value = _value_of(initializer, dtype)
        dtype = str(value.dtype)
    path = "/".join(p for p in (current_path(), name) if p)
    return Weight(np.asarray(value, dtype=dtype), name, path, trainable=bool(trainable), autocast=bool(autocast),
                  layout=layout)


def _standard_dtype(dtype):
    from mlcore import config
    from mlcore.backend import standardize_dtype
    return standardize_dtype(dtype or config.floatx())


def _value_of(initializer, dtype):
    """A value given as the initializer, as an array: Python floats in floatx, as Keras converts them."""
    from mlcore.ops.eager import evaluate
    value = np.asarray(evaluate(initializer), dtype=None if dtype is None else _standard_dtype(dtype))
    if dtype is None and value.dtype == np.float64 and not isinstance(initializer, np.ndarray):
        value = value.astype(_standard_dtype(None))
    return value


class _VariableName:
    """Variable(type, owner=None, index=None, name=None): Theano's graph variable (the class of every one,
    for isinstance and subclassing).  Variable(initializer, shape=None, dtype=None, trainable=True,
    autocast=True, aggregation="none", synchronization="auto", name=None): Keras's model variable."""

    def __call__(self, *args, **kwargs):
        first = args[0] if args else kwargs.get("type", kwargs.get("initializer"))
        if isinstance(first, basic.TensorType) or "type" in kwargs or "owner" in kwargs or "index" in kwargs:
            return basic.Variable(*args, **kwargs)
        return keras_variable(*args, **kwargs)

    def __instancecheck__(self, obj):
        return isinstance(obj, basic.Variable)

    def __subclasscheck__(self, cls):
        return issubclass(cls, basic.Variable)

    def __mro_entries__(self, bases):
        """class MyVariable(mlcore.Variable) subclasses the graph's Variable, as in Theano."""
        return (basic.Variable,)

    def __getattr__(self, name):
        return getattr(basic.Variable, name)

    def __repr__(self):
        return repr(basic.Variable)


Variable = _VariableName()
