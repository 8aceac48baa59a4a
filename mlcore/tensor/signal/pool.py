"""T.signal.pool.pool_2d and pool_3d with Theano's semantics: they pool the last two (three) dims of
any input of at least two (three) dims; max_pool_2d_same_size keeps each patch's maximum in place.
Theano's op classes Pool, MaxPoolGrad and AveragePoolGrad build the same graphs, for code that makes them."""
from mlcore.graph.gradient import Lop
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import eq, maximum, switch, zeros_like
from mlcore.graph.ops.extra_ops import repeat
from mlcore.graph.ops.indexing import set_subtensor
from mlcore.graph.ops.nn import pool2d, pool3d
from mlcore.graph.ops.shape import concatenate, reshape, shape, stack
from mlcore.tensor.function_ops import FunctionOp

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
    one ws - 1, which gives every window that starts inside the input (so none is all padding, which
    an average could not divide by), the extra ones being cut off afterwards."""
    if size is None:
        return ws - 1
    return max(0, (_ceil_count(size, ws, stride) - 1) * stride + ws - size)


def pool_2d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0), mode="max", ds=None, st=None,
            padding=None):
    """Pool the last two dims with window ws, stride (default ws) and zero padding pad.

    mode: "max", "sum", "average_inc_pad" or "average_exc_pad".  ignore_border=False
    keeps partial windows at the end (Theano's default when None); it needs pad=(0, 0).
    """
    return _pool("pool_2d", input, ws if ws is not None else ds, ignore_border,
                 stride if stride is not None else st, padding if padding is not None else pad, mode)


def pool_3d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0, 0), mode="max", ds=None, st=None,
            padding=None):
    """pool_2d over the last three dims (e.g. the depth, rows and columns of volumes)."""
    return _pool("pool_3d", input, ws if ws is not None else ds, ignore_border,
                 stride if stride is not None else st, padding if padding is not None else pad, mode)


def _pool(name, input, ws, ignore_border, stride, pad, mode):
    """Theano's pooling of the last len(ws) (2 or 3) dims, as a pool2d or pool3d of the other dims
    flattened into the batch."""
    x = as_tensor_variable(input)
    nd = len(ws)
    ws, stride, pad = tuple(ws), tuple(ws if stride is None else stride), tuple(pad)
    if mode not in MODES:
        raise ValueError("%s: mode must be one of %s, got %r" % (name, sorted(MODES), mode))
    if x.ndim < nd or len(stride) != nd or len(pad) != nd:
        raise ValueError("%s: ws, stride and pad need %d entries each and the input at least %d dims; got ws=%s, "
                         "stride=%s, pad=%s and an input of shape %s" % (name, nd, nd, ws, stride, pad, x.type))
    if ignore_border is None:
        ignore_border = False
    if not ignore_border and any(pad):
        raise NotImplementedError("%s: padding works only with ignore_border=True (as in Theano)" % name)
    if any(p >= w for p, w in zip(pad, ws)):
        raise NotImplementedError("%s: padding %s must be smaller than the window %s (as in Theano)" % (name, pad, ws))
    kind, include_pad = MODES[mode]
    spatial = x.type.shape[-nd:]
    if ignore_border:
        pads = tuple((p, p) for p in pad)
    else:
        pads = tuple((0, _ceil_extra(n, w, s)) for n, w, s in zip(spatial, ws, stride))
        include_pad = include_pad and kind != "average"  # partial windows average their real pixels
    s = shape(x)
    sizes = [s[x.ndim - nd + i] for i in range(nd)]
    flat = reshape(x, stack([-1] + sizes + [1]), ndim=nd + 2)
    pooled = (pool2d if nd == 2 else pool3d)(flat, ws, stride, pads, kind, include_pad)
    if not ignore_border and None in spatial:
        pooled = pooled[(slice(None),) + tuple(slice(None, _ceil_count(n, w, st)) for n, w, st in
                                              zip(sizes, ws, stride))]
    return reshape(pooled, concatenate([s[:-nd], shape(pooled)[1:nd + 1]]), ndim=x.ndim)


def max_pool_2d_same_size(input, patch_size):
    """input with every entry of each non-overlapping patch_size patch of its last two dims set to
    zero but the patch's maximum (each entry equal to it, on a tie), as Theano's: the shape is
    kept, and rows and columns past the last whole patch become zero.  The gradient flows to the
    kept entries."""
    x = as_tensor_variable(input)
    rows, cols = patch_size
    pooled = pool_2d(x, (rows, cols), ignore_border=True)
    maxima = repeat(repeat(pooled, rows, axis=-2), cols, axis=-1)     # each patch's max over the patch
    covered = (Ellipsis, slice(None, shape(maxima)[-2]), slice(None, shape(maxima)[-1]))
    patches = x[covered]
    return set_subtensor(zeros_like(x)[covered], switch(eq(patches, maxima), patches, 0))


class Pool(FunctionOp):
    """Theano's Pool op, for code that makes one: Pool(ignore_border, mode, ndim)(input, ws,
    stride=None, pad=None) is pool_2d (ndim=2) or pool_3d (ndim=3) of input."""
    __props__ = ("ignore_border", "mode", "ndim")

    def __init__(self, ignore_border=False, mode="max", ndim=2):
        self.ignore_border, self.mode, self.ndim = ignore_border, mode, ndim

    def pooled(self, x, ws, stride, pad):
        pad = (0,) * self.ndim if pad is None else pad
        return _pool("Pool", x, tuple(ws), self.ignore_border, stride, pad, self.mode)

    def build(self, x, ws, stride=None, pad=None):
        return self.pooled(x, ws, stride, pad)


class MaxPoolGrad(Pool):
    """Theano's MaxPoolGrad: (x, maxout, gz, ws, stride=None, pad=None) -> the gradient wrt x of
    pooling x, given gz, the gradient wrt its output maxout."""

    def build(self, x, maxout, gz, ws, stride=None, pad=None):
        x = as_tensor_variable(x)
        return Lop(self.pooled(x, ws, stride, pad), x, gz)


class AveragePoolGrad(Pool):
    """Theano's AveragePoolGrad: (x, gz, ws, stride=None, pad=None) -> the gradient wrt x of
    pooling x (mode 'sum', 'average_inc_pad' or 'average_exc_pad'), given gz."""

    def __init__(self, ignore_border=False, mode="average_inc_pad", ndim=2):
        super().__init__(ignore_border, mode, ndim)

    def build(self, x, gz, ws, stride=None, pad=None):
        x = as_tensor_variable(x)
        return Lop(self.pooled(x, ws, stride, pad), x, gz)
