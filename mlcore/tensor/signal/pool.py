"""T.signal.pool.pool_2d with Theano's semantics: pools the last two dims of any >= 2-d input."""
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.nn import Pool2D
from mlcore.graph.ops.shape import reshape, shape, stack

MODES = {"max": ("max", True), "sum": ("sum", True), "average_inc_pad": ("average", True),
         "average_exc_pad": ("average", False), "average": ("average", True)}


def _ceil_extra(size, ws, stride):
    """Extra end padding giving Theano's ignore_border=False output size (partial windows kept)."""
    if size is None:
        raise ValueError("pool_2d(ignore_border=False) needs the pooled dims' sizes to be known; "
                         "give the input a static shape or use ignore_border=True")
    if stride >= ws:
        out = (size - 1) // stride + 1
    else:
        out = max(0, (size - 1 - ws + stride) // stride) + 1
    return max(0, (out - 1) * stride + ws - size)


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
    ps = shape(pooled)
    from mlcore.graph.ops.shape import concatenate
    return reshape(pooled, concatenate([lead, ps[1:3]]), ndim=x.ndim)
