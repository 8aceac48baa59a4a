"""Turning Python values into graph variables, and the dtype rules ops share."""
import numpy as np

from mlcore import config
from mlcore.graph.basic import Constant, TensorType, Variable
from mlcore.graph.shape_tuple import ShapeTuple


def constant(value, dtype=None, name=None):
    data = np.asarray(value, dtype=dtype)
    if dtype is None and data.dtype == np.float64 and isinstance(value, float):
        data = data.astype(config.floatx())
    return Constant(TensorType(data.dtype, data.shape), data, name=name)


def as_tensor_variable(x, name=None, ndim=None):
    """A Variable for x: itself if already one, else a Constant.

    A bare Python number becomes a "weak" constant (as in JAX): in an elementwise
    op it takes the dtype of the tensors it meets, so 2 * x keeps x's float32.
    """
    if isinstance(x, Variable):
        var = x
    elif isinstance(x, ShapeTuple):         # x.shape
        var = x.vector
    elif isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in x):
        from mlcore.graph.ops.shape import stack
        var = stack([as_tensor_variable(e) for e in x])
    else:
        weak = isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic)
        if weak:
            kind = ("bool" if isinstance(x, bool) else "int64" if isinstance(x, int)
                    else "float64" if isinstance(x, float) else "complex128")
            var = constant(x, dtype=kind, name=name)
            var.tag["weak"] = True
        else:
            var = constant(x, name=name)
    if ndim is not None and var.ndim != ndim:
        var = _with_ndim(var, ndim)
    return var


def _with_ndim(var, ndim):
    """var with broadcastable dims added in front, or leading ones dropped, to have ndim dims
    (Theano's as_tensor_variable(x, ndim=)); an error where a dim that is not 1 stands in the way."""
    from mlcore.graph.ops.shape import DimShuffle
    surplus = var.ndim - ndim
    if surplus < 0:
        return DimShuffle(["x"] * -surplus + list(range(var.ndim)))(var)
    if any(d != 1 for d in var.type.shape[:surplus]):
        raise TypeError("Expected a %d-d tensor, got %s of type %s, whose leading dims are not all 1"
                        % (ndim, var, var.type))
    return DimShuffle(list(range(surplus, var.ndim)))(var)


def is_weak(var):
    return isinstance(var, Constant) and var.tag.get("weak", False)


def common_dtype(variables):
    """The dtype that mixing variables gives.  Weak Python scalars take the tensors' dtype (JAX's
    rule, so 2.5 * x keeps x's float32) unless their kind is wider: an int tensor with a float
    scalar gives floatx, a bool tensor with an int scalar int64; Python floats alone give floatx."""
    strong = [v.dtype for v in variables if not is_weak(v)]
    common = upcast(*strong) if strong else "bool"
    weak_kinds = {np.dtype(v.dtype).kind for v in variables if is_weak(v)}
    if "c" in weak_kinds and not is_complex(common):     # 1j * x: x's float width, made complex
        return complex_dtype(common if is_inexact(common) else config.floatx())
    if "f" in weak_kinds and not is_inexact(common):
        return config.floatx()
    if "i" in weak_kinds and common == "bool":
        return "int64"
    return common


def with_dtype(var, dtype):
    """var in dtype: a weak scalar becomes a constant of that dtype, anything else is cast."""
    if var.dtype == dtype:
        return var
    if is_weak(var):
        return constant(var.data, dtype=dtype)
    from mlcore.graph.ops.elemwise import cast
    return cast(var, dtype)


def upcast(*dtypes):
    """Result dtype of mixing dtypes: bool < ints < floats; int with float keeps the float."""
    dts = [np.dtype(d) for d in dtypes]
    floats = [d for d in dts if is_inexact(d)]
    if {"bfloat16", "float16"} <= {d.name for d in floats}:
        # numpy cannot mix them, even beside a float32; jax's lattice meets them at float32
        floats = [d for d in floats if d.name not in ("bfloat16", "float16")] + [np.dtype("float32")]
    if floats:
        return np.result_type(*floats).name
    ints = [d for d in dts if d.kind in "iu"]
    if ints:
        return np.result_type(*ints).name
    return "bool"


def is_float_dtype(dtype):
    """Whether dtype is a float (bfloat16 too: ml_dtypes's, which numpy files under kind "V")."""
    dtype = np.dtype(dtype)
    return dtype.kind == "f" or dtype.name == "bfloat16"


def is_inexact(dtype):
    """Float or complex: the dtypes gradients flow through."""
    return np.dtype(dtype).kind == "c" or is_float_dtype(dtype)


def is_complex(dtype):
    return np.dtype(dtype).kind == "c"


def real_dtype(dtype):
    """The dtype of a complex dtype's parts (complex64 -> float32); any other dtype itself."""
    return np.dtype(dtype).type(0).real.dtype.name


def complex_dtype(dtype):
    """The complex dtype whose parts have (at least) float dtype (float32 -> complex64)."""
    return np.result_type(dtype, np.complex64).name


def as_float_dtype(dtype):
    """Float ops on ints/bools compute in floatx (Keras's rule)."""
    return dtype if is_inexact(dtype) else config.floatx()


def broadcast_static_shapes(op, shapes):
    """Combine equal-ndim static shapes by broadcasting; a known mismatch fails here, naming op and shapes."""
    out = []
    for dims in zip(*shapes):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError("%s: incompatible shapes %s" % (op, " and ".join(_fmt(s) for s in shapes)))
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def _fmt(shape):
    return "(%s%s)" % (", ".join("?" if d is None else str(d) for d in shape), "," if len(shape) == 1 else "")


def normalize_axis(axis, ndim, op="op"):
    """Axis or axes as a sorted tuple of non-negative ints (None means all)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:   # numpy's AxisError: a ValueError (Keras's) and an IndexError (numpy's)
            raise np.exceptions.AxisError(a, ndim, op)
        out.append(a % ndim)
    return tuple(sorted(set(out)))
