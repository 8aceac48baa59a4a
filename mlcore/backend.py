"""keras.backend, imported as K: Keras 3's settings and helpers (floatx, epsilon,
image_data_format, clear_session, is_keras_tensor, standardize_dtype, ...), and the functions
Keras 1/2 code calls through it (K.sum, K.square, K.epsilon(), K.function, K.int_shape,
K.set_image_dim_ordering("th"), ...), as the mlcore.ops and mlcore.function they are."""
import numpy as np

from mlcore import config, ops, random
from mlcore.graph.basic import SharedVariable, TensorType, Variable
from mlcore.graph.gradient import grad
from mlcore.graph.ops import constant as graph_constant
from mlcore.graph.ops.common import is_float_dtype as graph_is_float_dtype
from mlcore.layers.base import clear_session as _forget_layer_names
from mlcore.layers.merging import batch_dot as _batch_dot
from mlcore.losses.ctc import ctc_batch_cost as _ctc_batch_cost
from mlcore.dtype_promotion import result_type  # noqa: F401
from mlcore.ops.eager import on_values

floatx, set_floatx = config.floatx, config.set_floatx
epsilon, set_epsilon = config.epsilon, config.set_epsilon
image_data_format, set_image_data_format = config.image_data_format, config.set_image_data_format
backend = config.backend

# Keras 1/2 functions that are mlcore.ops under the same name
_OPS = ("abs all any arange argmax argmin cast clip concatenate cos dot equal exp expand_dims greater "
        "greater_equal less less_equal log max maximum mean min minimum not_equal one_hot ones_like prod "
        "relu repeat reshape round sigmoid sign sin softmax softplus softsign sqrt square squeeze stack std "
        "stop_gradient sum tanh tile var zeros_like").split()
globals().update({name: getattr(ops, name) for name in _OPS})
pow = ops.power  # noqa: A001
switch = ops.where
permute_dimensions = ops.transpose
shape = ops.shape        # K.shape(x)[0]: the batch size, symbolic where it is unknown
random_normal = random.normal
random_uniform = random.uniform


def gradients(loss, variables):
    """Keras 2's K.gradients: the list of gradients, one per variable, a list for one variable too (as
    Keras 2's TensorFlow backend gives it, which Keras 2's `K.gradients(loss, model.input)[0]` expects)."""
    return grad(loss, list(variables) if isinstance(variables, (list, tuple)) else [variables])


def clear_session(free_memory=True):
    """Forget the automatic layer names, so that the next Dense is "dense" again."""
    _forget_layer_names()


def is_keras_tensor(x):
    """Whether x is a symbolic tensor made by Input or a layer call."""
    return isinstance(x, Variable) and "keras_history" in x.tag


def standardize_dtype(dtype):
    """A dtype's name as Keras spells it ("float32"); None is floatx."""
    return config.floatx() if dtype is None else np.dtype(getattr(dtype, "name", dtype)).name


def is_float_dtype(dtype):
    return graph_is_float_dtype(standardize_dtype(dtype))      # bfloat16 too


def is_int_dtype(dtype):
    return np.dtype(standardize_dtype(dtype)).kind in "iu"


def int_shape(x):
    """The static shape, None where unknown (Keras 2)."""
    return tuple(x.type.shape) if isinstance(x, Variable) else np.shape(x)


def ndim(x):
    return x.ndim if isinstance(x, Variable) else np.ndim(x)


def dtype(x):
    return standardize_dtype(x.dtype)


def image_dim_ordering():
    """Keras 1's name: "th" for channels_first, "tf" for channels_last."""
    return "th" if config.image_data_format() == "channels_first" else "tf"


def set_image_dim_ordering(ordering):
    if ordering not in ("th", "tf"):
        raise ValueError("image dim ordering must be 'th' or 'tf', got %r" % (ordering,))
    config.set_image_data_format("channels_first" if ordering == "th" else "channels_last")


def flatten(x):
    return ops.reshape(x, (-1,))


def batch_flatten(x):
    """(batch, everything else), as Keras 2's batch_flatten."""
    return ops.reshape(x, (ops.shape(x)[0], -1))


batch_dot = on_values(_batch_dot)     # Keras 2's K.batch_dot, which the Dot layer uses
ctc_batch_cost = on_values(_ctc_batch_cost)


def get_uid(prefix=""):
    """Keras's counter per prefix: 1, 2, ... on successive calls.  It is the counter of automatic layer
    names (after a layer "dense", get_uid("dense") is 2, as in Keras), so clear_session resets it."""
    from mlcore.layers import base
    base._name_counts[prefix] = base._name_counts.get(prefix, 0) + 1
    return base._name_counts[prefix]


def l2_normalize(x, axis=None):
    return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=True), config.epsilon()))


def variable(value, dtype=None, name=None):
    """A shared variable holding value (in floatx unless dtype says otherwise)."""
    return SharedVariable(np.asarray(value, dtype=standardize_dtype(dtype)), name=name, shape=np.shape(value))


def constant(value, dtype=None, shape=None, name=None):
    value = np.asarray(value, dtype=standardize_dtype(dtype))
    return graph_constant(value if shape is None else np.broadcast_to(value, shape).copy())


def placeholder(shape=None, ndim=None, dtype=None, name=None):
    """A symbolic input of shape (None for unknown dims), or of ndim unknown dims."""
    shape = tuple(shape) if shape is not None else (None,) * (ndim or 0)
    return TensorType(standardize_dtype(dtype), shape)(name)


def get_value(x):
    return x.get_value() if isinstance(x, SharedVariable) else ops.convert_to_numpy(x)


def set_value(x, value):
    x.set_value(np.asarray(value, dtype=x.dtype))


def batch_get_value(xs):
    return [get_value(x) for x in xs]


def eval(x):  # noqa: A001
    return get_value(x)


def count_params(x):
    return int(np.prod(int_shape(x)))


def function(inputs, outputs, updates=None, name=None, **kwargs):
    """Keras 2's K.function: called with a list of arrays, returns the list of outputs' values,
    e.g. K.function([model.input], [model.layers[1].output])([x])[0]."""
    from mlcore.function import function as compile_function
    single = not isinstance(outputs, (list, tuple))
    compiled = compile_function(list(inputs), [outputs] if single else list(outputs), updates=updates,
                                name=name, allow_input_downcast=True, on_unused_input="ignore")

    def run(values):
        results = compiled(*values)
        return results[0] if single else list(results)
    return run
