"""PyTensor Ops for convolution and pooling, which PyTensor itself no longer has.

Each Op is a thin shell around the kernel of the same name: ``perform`` runs backends/numpy/nn.py (the C
linker calls it like any Python Op) and, registered with ``jax_funcify``, PyTensor's JAX linker runs
backends/jax/nn.py. Static parameters are ``__props__``, which PyTensor uses for equality, hashing and
printing, and which are passed to the kernel as keyword arguments.
"""
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from backends.numpy import nn as numpy_nn

try:  # note: importing PyTensor's JAX dispatch sets jax_enable_x64 to match pytensor.config.floatX
    from pytensor.link.jax.dispatch import jax_funcify

    from backends.jax import nn as jax_nn
except ImportError:  # no jax installed: the C linker still works
    jax_funcify = None


class KernelOp(Op):
    """An Op whose computation is the kernel named `kernel` in backends.{numpy,jax}.nn."""

    kernel = None

    def kernel_params(self):
        """The Op's static parameters as the kernel's keyword arguments."""
        return {name: getattr(self, name) for name in self.__props__}

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = getattr(numpy_nn, self.kernel)(*inputs, **self.kernel_params())

    def pullback(self, inputs, outputs, cotangents):
        raise NotImplementedError(
            f"{type(self).__name__} has no PyTensor gradient: mlcore differentiates its own graph "
            "(mlcore.graph.gradient) before lowering it to PyTensor."
        )


def _tensor4(x, dtype=None):
    """x as a 4-d tensor variable, checked against an expected dtype."""
    x = pt.as_tensor_variable(x)
    if x.type.ndim != 4:
        raise TypeError(f"expected a 4-d tensor, got {x.type}")
    if dtype is not None and x.type.dtype != dtype:
        raise TypeError(f"dtype mismatch: {x.type.dtype} and {dtype}")
    return x


def _ints(values):
    """A tuple of Python ints: hashable, comparable __props__ and static arguments for jax."""
    return tuple(int(v) for v in values)


def _known(*sizes):
    """True when every size is a known int (static shapes hold None for unknown)."""
    return all(s is not None for s in sizes)


class Conv2D(KernelOp):
    """y = conv2d(x, w): NHWC x, HWIO w, cross-correlation with lax.conv_general_dilated's parameters
    (groups: its feature_group_count)."""

    __props__ = ("strides", "padding", "lhs_dilation", "rhs_dilation", "groups")
    kernel = "conv2d"

    def __init__(self, strides=(1, 1), padding=((0, 0), (0, 0)), lhs_dilation=(1, 1), rhs_dilation=(1, 1),
                 groups=1):
        self.strides = _ints(strides)
        self.padding = tuple(_ints(p) for p in padding)
        self.lhs_dilation = _ints(lhs_dilation)
        self.rhs_dilation = _ints(rhs_dilation)
        self.groups = int(groups)

    def _output_shape(self, x_shape, w_shape):
        """Output shape from input shapes: ints, symbolic sizes, or None where statically unknown."""
        spatial = [
            numpy_nn.conv_output_size(x_shape[1 + i], w_shape[i], *self._axis_params(i))
            if _known(x_shape[1 + i], w_shape[i])
            else None
            for i in (0, 1)
        ]
        return (x_shape[0], *spatial, w_shape[3])

    def _axis_params(self, i):
        """Stride, padding and dilations along spatial axis i (0: height, 1: width)."""
        return self.strides[i], self.padding[i], self.lhs_dilation[i], self.rhs_dilation[i]

    def make_node(self, x, w):
        x = _tensor4(x)
        w = _tensor4(w, x.type.dtype)
        shape = self._output_shape(x.type.shape, w.type.shape)
        return Apply(self, [x, w], [pt.TensorType(x.type.dtype, shape=shape)()])

    def infer_shape(self, fgraph, node, input_shapes):
        return [self._output_shape(*input_shapes)]


class _PoolOp(KernelOp):
    """Shared static parameters of a pooling and of its gradient."""

    __props__ = ("ws", "strides", "padding", "mode", "count_include_pad")

    def __init__(self, ws, strides, padding, mode, count_include_pad=True):
        numpy_nn.check_pool_mode(mode)
        self.ws = _ints(ws)
        self.strides = _ints(strides)
        self.padding = tuple(_ints(p) for p in padding)
        self.mode = mode
        self.count_include_pad = bool(count_include_pad)


class Pool2D(_PoolOp):
    """y = pool2d(x): max, sum or average over (wh, ww) windows of NHWC x."""

    kernel = "pool2d"

    def _output_shape(self, x_shape):
        """Output shape from the input shape: ints, symbolic sizes, or None where statically unknown."""
        spatial = [
            numpy_nn.pool_output_size(x_shape[1 + i], self.ws[i], self.strides[i], self.padding[i])
            if _known(x_shape[1 + i])
            else None
            for i in (0, 1)
        ]
        return (x_shape[0], *spatial, x_shape[3])

    def make_node(self, x):
        x = _tensor4(x)
        return Apply(self, [x], [pt.TensorType(x.type.dtype, shape=self._output_shape(x.type.shape))()])

    def infer_shape(self, fgraph, node, input_shapes):
        return [self._output_shape(input_shapes[0])]


class Pool2DGrad(_PoolOp):
    """gx = pool2d_grad(x, y, gy): the gradient of Pool2D with respect to x, shaped like x."""

    kernel = "pool2d_grad"

    def make_node(self, x, y, gy):
        x = _tensor4(x)
        y, gy = _tensor4(y, x.type.dtype), _tensor4(gy, x.type.dtype)
        return Apply(self, [x, y, gy], [x.type()])

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]


def conv2d(x, w, strides=(1, 1), padding=((0, 0), (0, 0)), lhs_dilation=(1, 1), rhs_dilation=(1, 1), groups=1):
    """Symbolic conv2d on PyTensor variables (see backends.numpy.nn.conv2d)."""
    return Conv2D(strides, padding, lhs_dilation, rhs_dilation, groups)(x, w)


def pool2d(x, ws, strides, padding, mode, count_include_pad=True):
    """Symbolic pool2d on PyTensor variables (see backends.numpy.nn.pool2d)."""
    return Pool2D(ws, strides, padding, mode, count_include_pad)(x)


def pool2d_grad(x, y, gy, ws, strides, padding, mode, count_include_pad=True):
    """Symbolic pool2d_grad on PyTensor variables (see backends.numpy.nn.pool2d_grad)."""
    return Pool2DGrad(ws, strides, padding, mode, count_include_pad)(x, y, gy)


if jax_funcify is not None:

    @jax_funcify.register(KernelOp)
    def _jax_kernel(op, **kwargs):
        """PyTensor's JAX linker runs a KernelOp as the jax kernel of the same name."""
        kernel, params = getattr(jax_nn, op.kernel), op.kernel_params()

        def run(*inputs):
            return kernel(*inputs, **params)

        return run
