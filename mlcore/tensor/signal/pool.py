"""T.signal.pool.pool_2d with Theano's semantics: pools the last two dims of any >= 2-d input."""
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import maximum
from mlcore.graph.ops.nn import Pool2D
from mlcore.graph.ops.shape import concatenate, reshape, shape, stack

MODES = {"max": ("max", True), "sum": ("sum", True), "average_inc_pad": ("average", True),
         "average_exc_pad": ("average", False), "average": ("average", True)}


def _ceil_count(size, ws, stride):
    """Theano's ignore_border=False output size (partial windows kept); size an int or symbolic."""
    if stride >= ws:
        return (size - 1) // stride + 1
    first = (size - 1 - ws + stride) // stride
    return (max(0, first) if isinstance(first, int) else maximum(first, 0)) + 1


def _ceil_extra(size, ws, stride):
    """End padding giving the ignore_border=False windows: exact for a known size; for an unknown
    one the most any size needs, the extra windows it may give being cut off afterwards."""
    if size is None:
        return max(ws, stride) - 1
    return max(0, (_ceil_count(size, ws, stride) - 1) * stride + ws - size)


def pool_2d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0), mode="max", ds=None, st=None,
            padding=None):
    """Pool the last two dims with window ws, stride (default ws) and zero padding pad.

    mode: "max", "sum", "average_inc_pad" or "average_exc_pad".  ignore_border=False
    keeps partial windows at the end (Theano's default when None); it needs pad=(0, 0).
    """
    x = as_tensor_variable(input)
    ws = tuple(ws if ws is not None else ds)
    stride = tuple(stride if stride is not None else (st if st is not None else ws))
    pad = tuple(padding if padding is not None else pad)
    if mode not in MODES:
        raise ValueError("pool_2d: mode must be one of %s, got %r" % (sorted(MODES), mode))
    if ignore_border is None:
        ignore_border = False
    if not ignore_border and pad != (0, 0):
        raise NotImplementedError("pool_2d: padding works only with ignore_border=True (as in Theano)")
    kind, include_pad = MODES[mode]
    if ignore_border:
        pads = ((pad[0], pad[0]), (pad[1], pad[1]))
    else:
        h, w = x.type.shape[-2:]
        pads = ((0, _ceil_extra(h, ws[0], stride[0])), (0, _ceil_extra(w, ws[1], stride[1])))
        include_pad = include_pad and kind != "average"  # partial windows average their real pixels
    lead = shape(x)[:-2]
    s = shape(x)
    flat = reshape(x, stack([-1, s[x.ndim - 2], s[x.ndim - 1], 1]), ndim=4)
    pooled = Pool2D(ws, stride, pads, kind, include_pad)(flat)
    if not ignore_border and None in x.type.shape[-2:]:
        pooled = pooled[:, :_ceil_count(s[x.ndim - 2], ws[0], stride[0]), :_ceil_count(s[x.ndim - 1], ws[1], stride[1])]
    ps = shape(pooled)
    return reshape(pooled, concatenate([lead, ps[1:3]]), ndim=x.ndim)
