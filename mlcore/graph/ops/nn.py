"""Neural-network ops: softmax, log-softmax, 2-d convolution and pooling (NHWC), and 3-d pooling
(NDHWC) made of two 2-d poolings.

Convolution is cross-correlation with (h, w, in // groups, out) kernels, with the parameters
of jax.lax.conv_general_dilated (groups is its feature_group_count: each of `groups` slices of the
input channels has its own out // groups filters, so a depthwise convolution is groups == channels);
its gradients are two ops of their own whose kernels are again convolutions (as JAX derives them).
Padding may be "same", which depends on the input size, so it is resolved by the kernels at run time.
"""
import numbers

from mlcore.graph.basic import Apply, Op, TensorType
from mlcore.graph.ops.common import as_tensor_variable, upcast
from mlcore.graph.ops.reduce import sum_
from mlcore.graph.ops.shape import reshape


class Softmax(Op):
    __props__ = ("axis",)

    def __init__(self, axis=-1):
        self.axis = axis

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type])

    def pullback(self, inputs, outputs, output_grads):
        (sm,), (g,) = outputs, output_grads
        return [sm * (g - sum_(g * sm, axis=self.axis, keepdims=True))]


class LogSoftmax(Softmax):
    def pullback(self, inputs, outputs, output_grads):
        from mlcore.graph.ops.elemwise import exp
        (out,), (g,) = outputs, output_grads
        return [g - exp(out) * sum_(g, axis=self.axis, keepdims=True)]


def softmax(x, axis=-1):
    x = as_tensor_variable(x)
    return Softmax(axis % x.ndim)(x)


def log_softmax(x, axis=-1):
    x = as_tensor_variable(x)
    return LogSoftmax(axis % x.ndim)(x)


# --- padding arithmetic, shared by shape inference and the kernels ------------------------------
def dilated(size, dilation):
    return 0 if size == 0 else 1 + dilation * (size - 1)


def same_padding(size, kernel, stride, dilation=1):
    """TensorFlow/Keras 'same': output ceil(size/stride), the odd pixel of padding at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilated(kernel, dilation) - size, 0)
    return (total // 2, total - total // 2)


def resolve_padding(padding, spatial, kernel, strides, dilation=(1, 1)):
    """Explicit ((top, bottom), (left, right)) padding for given concrete sizes."""
    if padding == "same":
        return tuple(same_padding(n, k, s, d) for n, k, s, d in zip(spatial, kernel, strides, dilation))
    if padding == "valid":
        return ((0, 0), (0, 0))
    return padding


def window_output_size(size, kernel, stride, pads, lhs_dilation=1, dilation=1):
    if size is None:
        return None
    return (dilated(size, lhs_dilation) + pads[0] + pads[1] - dilated(kernel, dilation)) // stride + 1


def _check_padding(padding):
    if padding in ("same", "valid"):
        return padding
    try:
        return tuple((int(a), int(b)) for a, b in padding)
    except (TypeError, ValueError):
        raise ValueError("padding must be 'valid', 'same' or ((top, bottom), (left, right)), got %r"
                         % (padding,)) from None


class Conv2D(Op):
    """Cross-correlation of x (N, H, W, C) with w (KH, KW, C // groups, O): output channel o reads
    only the input channels of its group, o // (O // groups)."""
    __props__ = ("strides", "padding", "lhs_dilation", "rhs_dilation", "groups")

    def __init__(self, strides=(1, 1), padding="valid", lhs_dilation=(1, 1), rhs_dilation=(1, 1), groups=1):
        self.strides = tuple(strides)
        self.padding = _check_padding(padding)
        self.lhs_dilation = tuple(lhs_dilation)
        self.rhs_dilation = tuple(rhs_dilation)
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
            raise ValueError("conv2d: groups must be a positive int, got %r" % (groups,))
        self.groups = int(groups)

    def output_spatial(self, spatial, kernel):
        if self.padding == "same" and self.lhs_dilation == (1, 1):
            return tuple(None if n is None else -(-n // s) for n, s in zip(spatial, self.strides))
        if None in kernel or (self.padding == "same" and None in spatial):
            return (None, None)
        pads = resolve_padding(self.padding, spatial, kernel, self.strides, self.rhs_dilation)
        return tuple(window_output_size(n, k, s, p, ld, d) for n, k, s, p, ld, d in
                     zip(spatial, kernel, self.strides, pads, self.lhs_dilation, self.rhs_dilation))

    def check_channels(self, x, w):
        """The input has groups times the kernel's input channels, and the filters split into the groups."""
        cin, kin, kout = x.type.shape[3], w.type.shape[2], w.type.shape[3]
        if cin is not None and kin is not None and cin != kin * self.groups:
            expects = "%d" % kin if self.groups == 1 else "%d groups of %d" % (self.groups, kin)
            raise ValueError("conv2d: input %s has %d channels but kernel %s expects %s"
                             % (x.type, cin, w.type, expects))
        if kout is not None and kout % self.groups:
            raise ValueError("conv2d: kernel %s has %d filters, which do not split into %d groups"
                             % (w.type, kout, self.groups))

    def make_node(self, x, w):
        x, w = as_tensor_variable(x), as_tensor_variable(w)
        if x.ndim != 4 or w.ndim != 4:
            raise ValueError("conv2d needs a 4-d input (N, H, W, C) and a 4-d kernel (KH, KW, C // groups, O); "
                             "got %s and %s" % (x.type, w.type))
        self.check_channels(x, w)
        kernel = w.type.shape[:2]
        h, wd = self.output_spatial(x.type.shape[1:3], kernel)
        if (h is not None and h <= 0) or (wd is not None and wd <= 0):
            raise ValueError("conv2d: kernel %s is larger than the (padded) input %s" % (w.type, x.type))
        dtype = upcast(x.dtype, w.dtype)
        return Apply(self, [x, w], [TensorType(dtype, (x.type.shape[0], h, wd, w.type.shape[3]))])

    def pullback(self, inputs, outputs, output_grads):
        x, w = inputs
        (g,) = output_grads
        params = self._props()
        return [Conv2DGradInput(*params)(x, w, g), Conv2DGradFilter(*params)(x, w, g)]


class Conv2DGradInput(Conv2D):
    """d conv2d / d x, given x (for its shape), w and the output gradient g."""

    def make_node(self, x, w, g):
        x, w, g = (as_tensor_variable(v) for v in (x, w, g))
        return Apply(self, [x, w, g], [TensorType(g.dtype, x.type.shape)])

    def pullback(self, inputs, outputs, output_grads):
        raise NotImplementedError("second derivatives through conv2d are not supported")


class Conv2DGradFilter(Conv2DGradInput):
    """d conv2d / d w, given x, w (for its shape) and the output gradient g."""

    def make_node(self, x, w, g):
        x, w, g = (as_tensor_variable(v) for v in (x, w, g))
        return Apply(self, [x, w, g], [TensorType(g.dtype, w.type.shape)])


def conv2d(x, w, strides=(1, 1), padding="valid", dilation=(1, 1), lhs_dilation=(1, 1), groups=1):
    return Conv2D(strides, padding, lhs_dilation, dilation, groups)(x, w)


class Pool2D(Op):
    """Max, sum or average pooling over (H, W) windows of an NHWC tensor.

    count_include_pad: whether average pooling divides by the whole window or only
    by the real (unpadded) pixels in it."""
    __props__ = ("ws", "strides", "padding", "mode", "count_include_pad")

    def __init__(self, ws, strides=None, padding="valid", mode="max", count_include_pad=True):
        if mode not in ("max", "sum", "average"):
            raise ValueError("pool mode must be 'max', 'sum' or 'average', got %r" % (mode,))
        self.ws = tuple(ws)
        self.strides = tuple(strides or ws)
        self.padding = _check_padding(padding)
        self.mode = mode
        self.count_include_pad = bool(count_include_pad)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim != 4:
            raise ValueError("pool2d needs a 4-d (N, H, W, C) input, got %s" % (x.type,))
        spatial = x.type.shape[1:3]
        if self.padding == "same":
            out = tuple(None if n is None else -(-n // s) for n, s in zip(spatial, self.strides))
        else:
            pads = resolve_padding(self.padding, spatial, self.ws, self.strides)
            out = tuple(window_output_size(n, k, s, p) for n, k, s, p in zip(spatial, self.ws, self.strides, pads))
        if any(o is not None and o <= 0 for o in out):
            raise ValueError("pool2d: window %s is larger than the input %s" % (self.ws, x.type))
        return Apply(self, [x], [TensorType(x.dtype, (x.type.shape[0],) + out + (x.type.shape[3],))])

    def pullback(self, inputs, outputs, output_grads):
        return [Pool2DGrad(*self._props())(inputs[0], outputs[0], output_grads[0])]


class Pool2DGrad(Pool2D):
    """d pool2d / d x, given x, the pooled output and its gradient."""

    def make_node(self, x, y, g):
        x, y, g = (as_tensor_variable(v) for v in (x, y, g))
        return Apply(self, [x, y, g], [x.type])

    def pullback(self, inputs, outputs, output_grads):
        raise NotImplementedError("second derivatives through pool2d are not supported")


def pool2d(x, ws, strides=None, padding="valid", mode="max", count_include_pad=True):
    return Pool2D(ws, strides, padding, mode, count_include_pad)(x)


def pool3d(x, ws, strides=None, padding="valid", mode="max", count_include_pad=True):
    """Pool2D over the (D, H, W) windows of an NDHWC tensor, without an op of its own: max, sum and
    average over a box are separable, so a 2-d pool over (H, W) then one over D gives them.  A box's
    real (unpadded) elements are the product of its real counts along each axis, so the average
    comes out right with padding counted or not.  padding: "valid", "same" or three (before, after)."""
    x = as_tensor_variable(x)
    if x.ndim != 5:
        raise ValueError("pool3d needs a 5-d (N, D, H, W, C) input, got %s" % (x.type,))
    ws, strides, padding = tuple(ws), tuple(strides or ws), _check_padding(padding)
    named = padding in ("valid", "same")
    pads = ((0, 0),) * 3 if named else padding
    if len(ws) != 3 or len(strides) != 3 or len(pads) != 3:
        raise ValueError("pool3d: ws, strides and explicit padding need three entries each; got %s, %s and %r"
                         % (ws, strides, padding))
    if padding != "same" and any(n is not None and n + sum(p) < k for n, p, k in zip(x.type.shape[1:4], pads, ws)):
        raise ValueError("pool3d: window %s is larger than the (padded) input %s" % (ws, x.type))
    depth_padding, plane_padding = (padding, padding) if named else ((pads[0], (0, 0)), pads[1:])
    n, depth, height, width, channels = x.shape
    planes = pool2d(reshape(x, [-1, height, width, channels]), ws[1:], strides[1:], plane_padding, mode,
                    count_include_pad)
    _, height, width, _ = planes.shape
    columns = reshape(planes, [n, depth, height * width, channels])
    pooled = pool2d(columns, (ws[0], 1), (strides[0], 1), depth_padding, mode, count_include_pad)
    return reshape(pooled, [n, pooled.shape[1], height, width, channels])
