"""Convolutions that lend their patch matrix to their filter gradient.

conv2d unfolds its input into a patch matrix P (one row per output pixel) and
multiplies it by the kernel; the filter gradient of the same convolution is
P^T @ dy.  Lowered on its own, that gradient is a second convolution that
unfolds the same input again.  Here each Conv2DGradFilter that runs after a
Conv2D of the same input and parameters takes the forward's P instead, as the
hand-written numpy program keeps its `cols` for the backward pass.
"""
import functools

from backends import array_api as xk
from backends.numpy import nn
from backends.numpy.kernels import lower
from mlcore.graph.ops import nn as nn_ops


def lending_pairs(nodes):
    """{node: PatchMemo}, one memo shared by each Conv2D and the first Conv2DGradFilter of the same
    input and parameters after it in `nodes` (the order the plan runs them in)."""
    memos, forwards = {}, {}
    for node in nodes:
        if type(node.op) not in (nn_ops.Conv2D, nn_ops.Conv2DGradFilter):
            continue
        key = (id(node.inputs[0]), node.op._props())
        if type(node.op) is nn_ops.Conv2D:
            forwards[key] = node
        elif key in forwards:
            memos[forwards.pop(key)] = memos[node] = nn.PatchMemo()
    return memos


def lending_kernel(node, memo):
    """The kernel of one half of a pair: the forward keeps P in the memo, the gradient takes it (and
    runs its usual kernel where P was too big to keep whole)."""
    op = node.op
    if type(op) is nn_ops.Conv2D:
        conv = functools.partial(nn.conv2d, memo=memo)
        return lambda x, w: xk.conv_forward(conv, op, x, w)

    usual = lower.kernel(node)

    def grad_filter(x, w, g):
        patches = memo.take(x)
        if patches is None:
            return usual(x, w, g)
        return nn.conv2d_grad_filter_from_patches(patches, w.shape, g, op.groups)
    return grad_filter
