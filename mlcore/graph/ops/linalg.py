"""Matrix products.  One op, Matmul (numpy's matmul on >= 2-d operands); dot,
tensordot, einsum and batched products are written in terms of it.  Gemm, BLAS's
beta * c + alpha * a @ b, is what the specialize rewrites make of an SGD update
(w - lr * x.T @ g), so that a backend can run it as one call writing into c."""
import string

import numpy as np

from mlcore.graph.basic import Apply, Op, TensorType
from mlcore.graph.ops.common import as_tensor_variable, broadcast_static_shapes, upcast


class Matmul(Op):
    """x @ y for x, y with >= 2 dims; leading (batch) dims broadcast as in elementwise ops."""

    def make_node(self, x, y):
        from mlcore.graph.ops.shape import pad_left
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        if x.ndim < 2 or y.ndim < 2:
            raise ValueError("Matmul needs >= 2-d inputs, got %s and %s" % (x.type, y.type))
        dtype = upcast(x.dtype, y.dtype)
        x, y = (v if v.dtype == dtype else v.astype(dtype) for v in (x, y))
        ndim = max(x.ndim, y.ndim)
        x, y = pad_left(x, ndim), pad_left(y, ndim)
        (m, k1), (k2, n) = x.type.shape[-2:], y.type.shape[-2:]
        if k1 is not None and k2 is not None and k1 != k2:
            raise ValueError("dot: shapes %s and %s are not aligned (%d != %d)" % (x.type, y.type, k1, k2))
        batch = broadcast_static_shapes(self, [x.type.shape[:-2], y.type.shape[:-2]])
        return Apply(self, [x, y], [TensorType(dtype, batch + (m, n))])

    def pullback(self, inputs, outputs, output_grads):
        """g @ y^H and x^H @ g: the conjugate transposes, as Theano's convention for complex values
        asks (elemwise_complex.py); on real operands conj is the identity."""
        from mlcore.graph.ops.elemwise import unbroadcast
        from mlcore.graph.ops.elemwise_complex import conj
        x, y = inputs
        (g,) = output_grads
        # one matrix times a batch (a Dense kernel applied to (batch, steps, features)): see _rows_product
        grad_x = _like(_rows_product(swap_last(g), swap_last(conj(y))), x) if _shared_across_batch(x, y) \
            else unbroadcast(matmul(g, swap_last(conj(y))), x)
        grad_y = _like(_rows_product(conj(x), g), y) if _shared_across_batch(y, x) \
            else unbroadcast(matmul(swap_last(conj(x)), g), y)
        return [grad_x, grad_y]


def _shared_across_batch(operand, other):
    """Whether one matrix (operand's batch dims all 1) multiplies every matrix of a batch (other's):
    its gradient is then a sum over the batch, taken as one product rather than a batch of products
    summed afterwards (a (batch, features, units) intermediate for a kernel of (features, units))."""
    return operand.ndim > 2 and all(d == 1 for d in operand.type.shape[:-2]) and \
        any(d != 1 for d in other.type.shape[:-2])


def times_one_matrix(node):
    """Whether a Matmul node multiplies a batch of matrices by one matrix (a Dense kernel on (batch, steps,
    features)): a backend can then multiply all the rows stacked by it in one 2-d product."""
    x, y = node.inputs
    return _shared_across_batch(y, x)


def _rows_product(a, b):
    """The sum over the leading dims of a[i]^T @ b[i]: the rows of all the a[i] stacked, times the
    rows of all the b[i] stacked (one matmul over batch x rows)."""
    from mlcore.graph.ops.shape import reshape, shape
    a_rows, b_rows = (reshape(v, [-1, shape(v)[v.ndim - 1]], ndim=2) for v in (a, b))
    return matmul(swap_last(a_rows), b_rows)


def _like(matrix, operand):
    """matrix with operand's leading dims of 1, and its dtype (of a complex gradient, the real part)."""
    from mlcore.graph.ops.elemwise import unbroadcast
    from mlcore.graph.ops.shape import pad_left
    return unbroadcast(pad_left(matrix, operand.ndim), operand)


class Gemm(Op):
    """beta * c + alpha * (a @ b) for matrices a, b, c and scalars alpha, beta (BLAS's xGEMM,
    Theano's gemm_no_inplace).  The numpy backend runs it as one BLAS call into c's own buffer
    where c dies there (a weight its update replaces): no product matrix, one pass over c."""

    def make_node(self, c, alpha, a, b, beta):
        c, a, b = (as_tensor_variable(v) for v in (c, a, b))
        if not c.ndim == a.ndim == b.ndim == 2:
            raise ValueError("gemm needs matrices c, a, b; got %s, %s, %s" % (c.type, a.type, b.type))
        if len({c.dtype, a.dtype, b.dtype}) != 1 or np.dtype(c.dtype).kind != "f":
            raise TypeError("gemm needs float matrices of one dtype; got %s, %s, %s" % (c.dtype, a.dtype, b.dtype))
        alpha, beta = (as_tensor_variable(np.asarray(v, c.dtype) if not hasattr(v, "type") else v) for v in (alpha, beta))
        if alpha.ndim or beta.ndim or alpha.dtype != c.dtype or beta.dtype != c.dtype:
            raise TypeError("gemm's alpha and beta must be %s scalars; got %s and %s" % (c.dtype, alpha.type, beta.type))
        product = Matmul().make_node(a, b).outputs[0].type.shape
        shape = tuple(p if p is not None else q for p, q in zip(product, c.type.shape))
        if any(p is not None and q is not None and p != q for p, q in zip(product, c.type.shape)):
            raise ValueError("gemm: a @ b is %s, c is %s" % (product, c.type))
        return Apply(self, [c, alpha, a, b, beta], [TensorType(c.dtype, shape)])

    def pullback(self, inputs, outputs, output_grads):
        from mlcore.graph.ops.reduce import sum_
        c, alpha, a, b, beta = inputs
        (g,) = output_grads
        return [beta * g, sum_(g * matmul(a, b)), alpha * matmul(g, swap_last(b)), alpha * matmul(swap_last(a), g),
                sum_(g * c)]


def gemm(c, alpha, a, b, beta):
    """beta * c + alpha * (a @ b), as one op (see Gemm)."""
    return Gemm()(c, alpha, a, b, beta)


def swap_last(x):
    order = list(range(x.ndim))
    order[-2:] = order[-1], order[-2]
    from mlcore.graph.ops.shape import DimShuffle
    return DimShuffle(order)(x)


def matmul(x, y):
    """numpy.matmul semantics, 1-d operands included."""
    from mlcore.graph.ops.shape import DimShuffle
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError("matmul: scalar operands are not allowed, got %s and %s" % (x.type, y.type))
    xv, yv = x.ndim == 1, y.ndim == 1
    k1, k2 = x.type.shape[-1], y.type.shape[0 if yv else -2]
    if (xv or yv) and None not in (k1, k2) and k1 != k2:     # name the vector as given, before reshaping
        raise ValueError("dot: shapes %s and %s are not aligned (%d != %d)" % (x.type, y.type, k1, k2))
    x2 = DimShuffle(("x", 0))(x) if xv else x
    y2 = DimShuffle((0, "x"))(y) if yv else y
    out = Matmul()(x2, y2)
    if xv or yv:
        keep = list(range(out.ndim))
        drop = ([out.ndim - 2] if xv else []) + ([out.ndim - 1] if yv else [])
        out = DimShuffle([d for d in keep if d not in drop])(out)
    return out


def dot(x, y):
    """numpy.dot semantics: scalars multiply, a matrix on the right is matmul, else tensordot.  An
    operand with Theano's __dot__ / __rdot__ (a sparse matrix) computes the product itself."""
    if hasattr(x, "__dot__"):
        return x.__dot__(y)
    if hasattr(y, "__rdot__"):
        return y.__rdot__(x)
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    if y.ndim <= 2:
        return matmul(x, y)
    return tensordot(x, y, [[x.ndim - 1], [y.ndim - 2]])


def tensordot(a, b, axes=2):
    """numpy.tensordot: move the summed axes together, reshape to matrices, one Matmul."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if isinstance(axes, (int, np.integer)):
        axes = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    return _contract(a, b, axes, batch=[], name="tensordot")


def batched_tensordot(x, y, axes=2):
    """Theano's batched_tensordot: one tensordot per index of the leading (batch) dim, which
    axes (an int i: x's last i dims with y's i dims after the batch dim) do not count."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if isinstance(axes, (int, np.integer)):
        axes = list(range(x.ndim - axes, x.ndim)), list(range(1, axes + 1))
    return _contract(x, y, axes, batch=[0], name="batched_tensordot")


def _contract(a, b, axes, batch, name):
    """Sum a and b over the axis pairs in axes, one product per index of the batch dims: each
    operand transposed and reshaped to (batch..., free, summed) or (batch..., summed, free)."""
    from mlcore.graph.ops.reduce import prod
    from mlcore.graph.ops.shape import reshape, shape, transpose
    axes_a, axes_b = ([ax] if isinstance(ax, (int, np.integer)) else list(ax) for ax in axes)
    axes_a = [ax % a.ndim for ax in axes_a]
    axes_b = [ax % b.ndim for ax in axes_b]
    if set(batch) & set(axes_a + axes_b):
        raise ValueError("%s: axes %s cannot sum over the batch dim 0" % (name, axes))
    for i, j in list(zip(axes_a, axes_b)) + [(d, d) for d in batch]:
        n, m = a.type.shape[i], b.type.shape[j]
        if None not in (n, m) and n != m:
            raise ValueError("%s: shapes %s and %s are not aligned (axis %d has %d, axis %d has %d)"
                             % (name, a.type, b.type, i, n, j, m))
    free_a = [i for i in range(a.ndim) if i not in axes_a + batch]
    free_b = [i for i in range(b.ndim) if i not in axes_b + batch]
    sa, sb = shape(a), shape(b)

    def dims(x, symbolic, axes):
        """x's sizes along axes: ints where known when the graph is built, so they stay known."""
        return [x.type.shape[i] if x.type.shape[i] is not None else symbolic[i] for i in axes]

    def size(x, symbolic, axes):
        known = dims(x, symbolic, axes)
        return int(np.prod(known)) if all(isinstance(d, int) for d in known) else prod(symbolic[axes])
    lead = dims(a, sa, batch)
    a2 = reshape(transpose(a, batch + free_a + axes_a), lead + [size(a, sa, free_a), size(a, sa, axes_a)])
    b2 = reshape(transpose(b, batch + axes_b + free_b), lead + [size(b, sb, axes_b), size(b, sb, free_b)])
    out = Matmul()(a2, b2)
    return reshape(out, lead + dims(a, sa, free_a) + dims(b, sb, free_b))


def einsum(equation, a, b):
    """numpy.einsum of two operands whose letters each appear once per operand: "abc,cde->abde"
    (a projection), "aecd,abcd->acbe" (attention's scores); "..." stands for the dims no letter
    names, as in numpy.  Letters of both operands that the output keeps are batch dims, those it
    leaves out are summed: both operands are transposed to (batch..., rest...), one Matmul."""
    from mlcore.graph.ops.shape import transpose
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    (spec_a, spec_b), out = _einsum_specs(equation, (a, b))
    a, spec_a = _sum_lone_letters(a, spec_a, spec_b + out)
    b, spec_b = _sum_lone_letters(b, spec_b, spec_a + out)
    batch = [c for c in spec_a if c in spec_b and c in out]
    summed = [c for c in spec_a if c in spec_b and c not in out]
    lead_a = batch + [c for c in spec_a if c not in batch]
    lead_b = batch + [c for c in spec_b if c not in batch]
    product = _contract(transpose(a, [spec_a.index(c) for c in lead_a]),
                        transpose(b, [spec_b.index(c) for c in lead_b]),
                        ([lead_a.index(c) for c in summed], [lead_b.index(c) for c in summed]),
                        batch=list(range(len(batch))), name="einsum")
    made = batch + [c for c in lead_a + lead_b if c not in batch + summed]     # _contract's order
    return transpose(product, [made.index(c) for c in out])


def _einsum_specs(equation, operands):
    """The operands' letters and the output's, each "..." spelled out in letters the equation leaves
    unused, aligned on the right as numpy aligns the dims it stands for."""
    inputs, arrow, out = equation.replace(" ", "").partition("->")
    specs = inputs.split(",")
    if not arrow or len(specs) != len(operands):
        raise ValueError("einsum: expected an equation 'x,y->z' for %d operands, got %r" % (len(operands), equation))
    elided = [x.ndim - len(s) + 3 for s, x in zip(specs, operands) if "..." in s]
    unused = "".join(c for c in string.ascii_letters if c not in equation)[:max(elided, default=0)]
    specs = [s.replace("...", unused[len(unused) - (x.ndim - len(s) + 3):]) for s, x in zip(specs, operands)]
    out = out.replace("...", unused)
    for k, (spec, x) in enumerate(zip(specs, operands)):
        if not all(c.isalpha() for c in spec) or len(set(spec)) != len(spec) or len(spec) != x.ndim:
            raise ValueError("einsum %r: operand %d of shape %s does not fit %r (one letter per dim, none "
                             "repeated)" % (equation, k, x.type.shape, spec))
    if len(set(out)) != len(out) or not set(out) <= set("".join(specs)):
        raise ValueError("einsum %r: the output must name each of its dims once, with letters of the operands"
                         % (equation,))
    return specs, out


def _sum_lone_letters(x, spec, others):
    """x summed over the dims whose letters neither the other operand nor the output has."""
    from mlcore.graph.ops.reduce import sum_
    lone = [i for i, c in enumerate(spec) if c not in others]
    if not lone:
        return x, spec
    return sum_(x, axis=lone), "".join(c for c in spec if c in others)


def batched_dot(x, y):
    """Theano's batched_dot: one dot product per leading index.  A 2-d operand is a batch of
    vectors: (n, k) with (n, k) gives (n,), (n, i, k) with (n, k) gives (n, i)."""
    from mlcore.graph.ops.shape import DimShuffle
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim != 2 and y.ndim != 2:
        return matmul(x, y)
    out = matmul(DimShuffle((0, "x", 1))(x) if x.ndim == 2 else x, DimShuffle((0, 1, "x"))(y) if y.ndim == 2 else y)
    drop = ([1] if x.ndim == 2 else []) + ([2] if y.ndim == 2 else [])
    return DimShuffle([d for d in range(3) if d not in drop])(out)


def outer(x, y):
    from mlcore.graph.ops.shape import DimShuffle
    return Matmul()(DimShuffle((0, "x"))(x), DimShuffle(("x", 0))(y))
