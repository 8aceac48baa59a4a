"""Theano's convolution arguments, read once for every convolution of T.nnet (shared, unshared,
causal, transposed): border_mode as (before, after) padding, the filters' window, the ranks, and
zero padding by amounts that may be known only at run time."""
import numbers

from mlcore.graph.ops.indexing import set_subtensor
from mlcore.graph.ops.nn import dilated
from mlcore.graph.ops.shape import pad, zeros

FLIP = slice(None, None, -1)


def border_padding(border_mode, window, dilation, name="conv2d"):
    """Theano's border_mode ('valid', 'full', 'half', an int, or per spatial dim an int or a
    (before, after) pair) as (before, after) padding per spatial dim; window holds the filter
    sizes: None where unknown (refused for 'full' and 'half'), or a symbolic size, which makes
    that padding symbolic."""
    rank = len(window)
    if border_mode == "valid":
        return ((0, 0),) * rank
    if border_mode in ("full", "half"):
        if any(k is None for k in window):
            raise ValueError("T.nnet.%s(border_mode=%r): the filters' spatial size must be known; pass "
                             "filter_shape=" % (name, border_mode))
        spans = [dilated(k, d) for k, d in zip(window, dilation)]     # symbolic sizes too
        return tuple((s - 1, s - 1) if border_mode == "full" else (s // 2, s // 2) for s in spans)
    if isinstance(border_mode, int):
        border_mode = (border_mode,) * rank
    if isinstance(border_mode, tuple) and len(border_mode) == rank:
        pads = tuple(tuple(int(p) for p in m) if isinstance(m, tuple) else (int(m), int(m)) for m in border_mode)
        if all(len(p) == 2 and min(p) >= 0 for p in pads):    # Theano refuses negative padding
            return pads
    raise ValueError("%s: border_mode must be 'valid', 'full', 'half', an int, or (before, after) pairs or %d "
                     "ints, got %r" % (name, rank, border_mode))


def filter_window(filters, filter_shape, rank=2):
    """The filters' spatial sizes (their last `rank` dims): from their static shape, else from
    filter_shape, else None."""
    window = filters.type.shape[-rank:]
    return tuple(filter_shape[-rank:]) if None in window and filter_shape is not None else window


def check_ranks(name, ndim, **tensors):
    for role, tensor in tensors.items():
        if tensor.ndim != ndim:
            raise ValueError("T.nnet.%s needs %d-d %s, got %s" % (name, ndim, role, tensor.type))


def is_static(pads):
    return all(isinstance(p, numbers.Integral) for pair in pads for p in pair)


def zero_pad(x, pads):
    """x with (before, after) zeros on each of its last len(pads) dims; amounts known only at run
    time are written into zeros of the padded size."""
    lead = x.ndim - len(pads)
    if is_static(pads):
        return pad(x, [(0, 0)] * lead + list(pads)) if any(p != (0, 0) for p in pads) else x
    sizes = [x.shape[d] for d in range(x.ndim)]
    padded = sizes[:lead] + [n + a + b for n, (a, b) in zip(sizes[lead:], pads)]
    inside = (slice(None),) * lead + tuple(slice(a, a + n) for n, (a, _) in zip(sizes[lead:], pads))
    return set_subtensor(zeros(padded, x.dtype)[inside], x)
