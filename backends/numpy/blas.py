"""xGEMM from the BLAS numpy itself links, for Gemm's in-place update (c = beta * c + alpha * a @ b).

numpy has no call that accumulates a product into an array, and scipy.linalg.blas brings a second
OpenBLAS with its own thread pool: beside numpy's, its threads spin while numpy's work (an MLP
step at batch 10 took 13.8 ms instead of 0.9 ms on 2 cores).  So cblas_?gemm is looked up in
numpy's own BLAS library, under the names its builds export (OpenBLAS wheels: scipy_cblas_sgemm64_).
Where it is not found, gemm() returns None and the caller computes without it.
"""
import ctypes
import glob
import os

import numpy as np

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
_SYMBOL_FORMS = ("scipy_cblas_{}64_", "cblas_{}64_", "cblas_{}")


def _numpy_blas_library():
    """The BLAS library shipped beside numpy (pip wheels: numpy.libs/libscipy_openblas*), or None."""
    folder = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in sorted(glob.glob(os.path.join(folder, "*openblas*"))):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def _routines():
    """{numpy dtype: cblas gemm function} for float32 and float64, or {} where none is found."""
    library = _numpy_blas_library()
    found = {}
    for dtype, name in ((np.float32, "sgemm"), (np.float64, "dgemm")):
        for form in _SYMBOL_FORMS if library is not None else ():
            symbol = getattr(library, form.format(name), None)
            if symbol is None:
                continue
            index = ctypes.c_int64 if "64" in form else ctypes.c_int
            scalar = ctypes.c_float if dtype is np.float32 else ctypes.c_double
            symbol.restype = None
            symbol.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, index, index, index, scalar, ctypes.c_void_p,
                               index, ctypes.c_void_p, index, scalar, ctypes.c_void_p, index]
            found[dtype] = symbol
            break
    return found


ROUTINES = _routines()


def _operand(m):
    """(trans flag, leading dimension) reading m in place, row-major, or None if m is not laid out
    as a matrix BLAS can read (C- or Fortran-ordered)."""
    if m.flags.c_contiguous:
        return NO_TRANS, max(1, m.shape[1])
    if m.flags.f_contiguous:
        return TRANS, max(1, m.shape[0])
    return None


def gemm(alpha, a, b, beta, c):
    """c = beta * c + alpha * a @ b in c's own buffer (C-ordered); returns c, or None where numpy's
    BLAS has no gemm here or the operands do not fit it (the caller then computes otherwise)."""
    routine = ROUTINES.get(c.dtype.type)
    if routine is None or not c.flags.c_contiguous or not c.flags.writeable or a.dtype != c.dtype or b.dtype != c.dtype:
        return None
    a = a if _operand(a) else np.ascontiguousarray(a)
    b = b if _operand(b) else np.ascontiguousarray(b)
    (trans_a, lda), (trans_b, ldb) = _operand(a), _operand(b)
    (m, k), n = a.shape, b.shape[1]
    routine(ROW_MAJOR, trans_a, trans_b, m, n, k, float(alpha), a.ctypes.data, lda, b.ctypes.data, ldb,
            float(beta), c.ctypes.data, max(1, n))
    return c
