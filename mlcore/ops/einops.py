"""keras.ops.rearrange: einops-style axis reordering, splitting and merging, written as a pattern such as
"b (h1 h) w c -> (b h1) h w c".  A pattern is one reshape that splits the grouped input axes, one transpose
into the output's order, and one reshape that merges the output's groups; lengths only the run knows
stay symbolic, so it works inside layers too."""
import re

from mlcore.graph.basic import Variable
from mlcore.ops.arrays import reshape, transpose
from mlcore.ops.core import as_tensor, shape

_TOKEN = re.compile(r"\w+|\(.*?\)")


def _groups(side, pattern):
    """One side of a pattern as a list of groups of axis names; a bare name is a group of one, "()" an
    empty group (an axis of length 1)."""
    groups = []
    for token in _TOKEN.findall(side):
        names = token[1:-1].split() if token.startswith("(") else [token]
        if not all(re.fullmatch(r"\w+", name) for name in names):
            raise ValueError("rearrange: invalid axis group %r in pattern %r" % (token, pattern))
        groups.append(names)
    names = [name for group in groups for name in group]
    if len(set(names)) != len(names):
        raise ValueError("rearrange: an axis name appears twice on one side of pattern %r" % (pattern,))
    return groups


def _product(lengths):
    total = 1
    for length in lengths:
        total = total * length
    return total


def _lengths(groups, dims, axes_lengths, pattern):
    """Each input axis name's length: a bare axis has its dim's; in a group, the names given in
    axes_lengths have theirs and one other name at most gets what is left of the dim."""
    lengths = {}
    for group, dim in zip(groups, dims):
        unknown = [name for name in group if name not in axes_lengths]
        if len(group) == 1 and unknown:
            lengths[group[0]] = dim
            continue
        if len(unknown) > 1:
            raise ValueError("rearrange: cannot infer the lengths of %s in pattern %r; give all but one of "
                             "them as keyword arguments" % (", ".join(unknown), pattern))
        known = _product(axes_lengths[name] for name in group if name in axes_lengths)
        if unknown:
            lengths[unknown[0]] = dim // known
        elif not isinstance(dim, Variable) and known != dim:
            raise ValueError("rearrange: axis group (%s) of pattern %r has length %s, but the tensor's axis "
                             "has %s" % (" ".join(group), pattern, known, dim))
        lengths.update((name, axes_lengths[name]) for name in group if name in axes_lengths)
    return lengths


def rearrange(tensor, pattern, **axes_lengths):
    """tensor's axes rearranged as pattern says ("b h w c -> b c h w", "b h w c -> (b h) w c",
    "b (h h1) (w w1) c -> b h w (c h1 w1)" with h1=2, w1=2): the names on the left label the tensor's
    axes, a parenthesized group splits one axis (lengths from axes_lengths, one of them inferred) or,
    on the right, merges axes into one."""
    tensor = as_tensor(tensor)
    sides = re.split(r"\s*->\s*", pattern)
    if len(sides) != 2:
        raise ValueError("rearrange: the pattern must be 'input axes -> output axes'. Received: pattern=%r"
                         % (pattern,))
    inputs, outputs = (_groups(side, pattern) for side in sides)
    if len(inputs) != tensor.ndim:
        raise ValueError("rearrange: pattern %r names %d axes, but the tensor has %d (shape %s)"
                         % (pattern, len(inputs), tensor.ndim, tensor.type.shape))
    in_names = [name for group in inputs for name in group]
    out_names = [name for group in outputs for name in group]
    if sorted(in_names) != sorted(out_names):
        raise ValueError("rearrange: pattern %r must name the same axes on both sides; only on one side: %s"
                         % (pattern, ", ".join(sorted(set(in_names) ^ set(out_names)))))
    stray = sorted(set(axes_lengths) - set(in_names))
    if stray:
        raise ValueError("rearrange: axes_lengths names %s, which pattern %r does not have" % (stray, pattern))
    lengths = _lengths(inputs, shape(tensor), axes_lengths, pattern)
    if any(len(group) != 1 for group in inputs):
        tensor = reshape(tensor, [lengths[name] for name in in_names])
    tensor = transpose(tensor, [in_names.index(name) for name in out_names])
    if any(len(group) != 1 for group in outputs):
        tensor = reshape(tensor, [_product(lengths[name] for name in group) for group in outputs])
    return tensor
