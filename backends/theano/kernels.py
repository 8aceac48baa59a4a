"""The theano backend's kernel table: each mlcore Op as PyTensor expressions.

Kernels receive and return symbolic PyTensor variables; PyTensor then rewrites
the whole graph (fusion, BLAS Gemm, in-place updates) and compiles it.  Ops
whose numerics depend on run-time shapes or on a random key run as ReferenceOps.
"""
import numpy as np
import pytensor.tensor as pt
from pytensor.tensor import linalg as pt_linalg

from backends import array_api as xk
from backends.base import Lowering
from backends.linalg_kernels import from_triangle
from backends.theano.reference import ReferenceOp
from backends.theano.scan import scan_kernel
from mlcore.compile.jax_function import JaxFunctionOp
from mlcore.graph.ops import indexing
from mlcore.graph.ops import elemwise as ew, elemwise_math
from mlcore.graph.ops import linalg, linalg_decompositions as decompositions, nlinalg, nn as nn_ops, random, shape
from mlcore.graph.ops import scatter, slinalg
from mlcore.graph.ops import bitcast, fourier
from mlcore.graph.ops.scan import Scan, While
from mlcore.graph.ops.indexing import build_key

lower = Lowering("theano")


# PyTensor's local_subtensor_SpecifyShape_lift fails (printing a traceback, then skipped) on x[i] of a
# SpecifyShape whose one remaining dim is unknown, which conform() makes of a partly known shape: the
# modes this backend compiles with (its own, and a scan's inner function's) leave it out.
SPECIFY_SHAPE_LIFT = "local_subtensor_SpecifyShape_lift"


def conform(value, mlcore_type):
    """value with the mlcore type's exact dtype and every static dim mlcore knows.

    PyTensor promotes differently (int / int gives float64, float32 * int64 gives
    float64) and may infer less of a shape than mlcore did; a DimShuffle that drops
    a dim, or the JAX linker, needs those dims known.
    """
    value = pt.cast(value, mlcore_type.dtype)
    known = tuple(m if p is None else p for p, m in zip(value.type.shape, mlcore_type.shape))
    return value if known == value.type.shape else pt.specify_shape(value, known)


def _truth(x):
    return x if x.dtype == "bool" else pt.neq(x, 0)


SPECIAL = {  # mlcore names whose PyTensor function is not spelt as in numpy
    "neg": pt.neg, "sub": pt.sub, "mul": pt.mul, "truediv": pt.true_div, "intdiv": pt.int_div,
    "round": pt.round_half_to_even, "second": pt.second,
    "and": lambda a, b: pt.and_(_truth(a), _truth(b)), "or": lambda a, b: pt.or_(_truth(a), _truth(b)),
    "complex": pt.complex, "sigmoid": pt.sigmoid, "softplus": pt.softplus, "relu": lambda x: pt.maximum(x, 0),
    "leftshift": lambda x, y: x * pt.pow(2, y), "rightshift": lambda x, y: pt.int_div(x, pt.pow(2, y)),
    **xk.special_functions(pt),
}


# Arithmetic whose bool operands are cast to the result's dtype first: PyTensor's local_greedy_distributor
# fails on a Mul of a float and a bool (printing a traceback), which mlcore's gradients make (g * (x < y)).
ARITHMETIC = {"add", "sub", "mul", "truediv"}


def elemwise(op):
    """The PyTensor function for `op`, its result in mlcore's dtype for these arguments."""
    fn = xk.elemwise_kernel(pt, op, SPECIAL)

    def run(*args):
        dtype = op.output_dtype([a.dtype for a in args])
        if op.name in ARITHMETIC and dtype != "bool":
            args = [pt.cast(a, dtype) if a.dtype == "bool" else a for a in args]
        return pt.cast(fn(*args), dtype)
    return run


# The shared Softmax and LogSoftmax are written out, not PyTensor 3's: those are OpFromGraphs, whose
# inner graphs the C linker compiles as separate functions on first call and runs through Python.
xk.register_common(lower, pt, elemwise)


@lower.register(ew.Composite)
def _(op, node):
    return xk.composite_kernel(op, elemwise)   # PyTensor fuses it again itself


@lower.register(shape.DimShuffle)
def _(op, node):
    return lambda x: x.dimshuffle(list(op.order))   # Theano's own op, same semantics


@lower.register(shape.Shape)
def _(op, node):
    return lambda x: x.shape


@lower.register(shape.Reshape)
def _(op, node):
    return lambda x, s: pt.reshape(x, s, ndim=op.ndim)


@lower.register(shape.SpecifyShape)
def _(op, node):
    return lambda x: pt.specify_shape(x, op.shape)


@lower.register(indexing.Subtensor)
def _(op, node):
    return lambda x, *idx: x[build_key(op.spec, idx)]


@lower.register(indexing.IncSubtensor)
def _(op, node):
    update = pt.set_subtensor if op.set_instead_of_inc else pt.inc_subtensor   # inc accumulates repeats

    def inc(x, y, *idx):
        return update(x[build_key(op.spec, idx)], pt.cast(y, x.dtype))
    return inc


@lower.register(shape.Pad)
def _(op, node):
    def pad(x):   # an alloc and a set_subtensor: pt.pad is an OpFromGraph, compiled apart from the graph
        dims = [x.shape[d] + before + after for d, (before, after) in enumerate(op.pad_width)]
        canvas = pt.alloc(np.asarray(op.value, dtype=x.dtype), *dims)
        inner = tuple(slice(before, -after if after else None) for before, after in op.pad_width)
        return pt.set_subtensor(canvas[inner], x)
    return pad


@lower.register(shape.Arange)
def _(op, node):
    return lambda a, b, c: pt.arange(a, b, c, dtype=op.dtype)


@lower.register(shape.Alloc)
def _(op, node):
    ndim = node.outputs[0].ndim
    return lambda v, s: pt.alloc(v, *(s[d] for d in range(ndim)))


@lower.register(linalg.Matmul)
def _(op, node):
    if node.outputs[0].ndim > 2 and node.outputs[0].dtype.startswith("complex"):
        # PyTensor's BatchedDot computes real floats only: products summed over the shared dim
        return lambda a, b: (a[..., :, :, None] * b[..., None, :, :]).sum(axis=-2)
    if linalg.times_one_matrix(node):
        return _rows_times_matrix
    return pt.matmul   # 2-d products become BLAS Gemm/Dot22 in PyTensor's rewrites


def _rows_times_matrix(a, b):
    """A batch of matrices times one matrix (a Dense kernel on (batch, steps, features)) as one 2-d product
    of the stacked rows: PyTensor's batched matmul would repeat the matrix once per batch entry."""
    rows = pt.dot(a.reshape((-1, a.shape[-1])), b.reshape(b.shape[-2:]))
    return rows.reshape((*a.shape[:-1], b.shape[-1]))


@lower.register(linalg.Gemm)
def _(op, node):
    return lambda c, alpha, a, b, beta: beta * c + alpha * pt.dot(a, b)   # PyTensor's gemm rewrites take it from here


@lower.register(nn_ops.Conv2D, nn_ops.Conv2DGradInput, nn_ops.Conv2DGradFilter, nn_ops.Pool2D,
                nn_ops.Pool2DGrad, random.RandomVariable, *elemwise_math.UFUNCS, While, slinalg.LUFactor,
                JaxFunctionOp, *xk.VALUE_SHAPED,
                scatter.ScatterReduce)      # PyTensor scatters by setting or adding only
def _(op, node):
    return ReferenceOp(node)


lower.register_host(lambda op, node: ReferenceOp(node))     # as_op's and Theano ops' perform(), on the host


@lower.register(nlinalg.MatrixInverse, nlinalg.Det, nlinalg.MatrixPinv, slinalg.Expm)
def _(op, node):
    return {nlinalg.MatrixInverse: pt_linalg.matrix_inverse, nlinalg.Det: pt_linalg.det,
            nlinalg.MatrixPinv: pt_linalg.pinv, slinalg.Expm: pt_linalg.expm}[type(op)]


@lower.register(decompositions.Eig)
def _(op, node):
    return lambda a: [pt.real(part) for part in pt_linalg.eig(a)]   # real parts, as Theano's Eig


@lower.register(decompositions.Eigh)
def _(op, node):
    return lambda a: pt_linalg.eigh(a, lower=op.UPLO == "L")


@lower.register(decompositions.SVD)
def _(op, node):
    return lambda a: pt_linalg.svd(a, full_matrices=op.full_matrices, compute_uv=op.compute_uv)


@lower.register(decompositions.QR)
def _(op, node):
    if op.mode == "r":      # numpy's r is k x n; scipy's mode "r" (PyTensor's) gives the m x n one
        return lambda a: pt_linalg.qr(a, mode="economic")[1]
    return lambda a: pt_linalg.qr(a, mode="economic" if op.mode == "reduced" else "full")


@lower.register(slinalg.Cholesky)
def _(op, node):
    # from the triangle read: PyTensor's rewrites take a cholesky's input as symmetric (det(a) from it)
    return lambda a: pt_linalg.cholesky(from_triangle(pt, a, op.lower), lower=op.lower)


@lower.register(slinalg.Solve)
def _(op, node):
    def solve(a, b):     # the symmetric matrix built from the triangle read, as the other backends do
        a = a if op.assume_a == "gen" else from_triangle(pt, a, op.lower)
        return pt_linalg.solve(a, b, assume_a=op.assume_a, lower=op.lower, b_ndim=min(b.ndim, 2))
    return solve


@lower.register(slinalg.SolveTriangular)
def _(op, node):
    return lambda a, b: pt_linalg.solve_triangular(a, b, trans=op.trans, lower=op.lower,
                                                    unit_diagonal=op.unit_diagonal, b_ndim=min(b.ndim, 2))


lower.register(Scan)(scan_kernel)   # pytensor.scan of the step graph


@lower.register(fourier.DFT, fourier.RFFT, fourier.IRFFT)
def _(op, node):
    # PyTensor has no complex DFT, and its rfft/irfft (on an (..., n//2 + 1, 2) layout) transform every
    # axis after the first and have no kernel under the JAX linker (the GPU path): the numpy kernel it is
    return ReferenceOp(node)


@lower.register(bitcast.Bitcast)
def _(op, node):
    return ReferenceOp(node)     # PyTensor has no bitcast: numpy's view (jax's under the JAX linker)
