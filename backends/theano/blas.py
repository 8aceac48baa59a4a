"""Set up a pip-installed PyTensor: a BLAS for its C Gemm, and a compile cache under mlcore's home.

PyTensor reads both settings lazily: ``blas__ldflags`` when it first rewrites a dot into Gemm/Dot22
(otherwise it then searches the system for a BLAS, finds none in a pip install, warns, and leaves dots in
Python), ``compiledir`` when it first compiles C code, after which the value can no longer change. Both
functions below therefore work after ``import pytensor`` but must run before the first
``pytensor.function``; settings given in PYTENSOR_FLAGS or .pytensorrc always win.
"""
import ctypes
import logging
import os
import re
import shlex
from pathlib import Path

import pytensor

_log = logging.getLogger(__name__)

# The Fortran BLAS routines that PyTensor's C code calls (Gemm, Dot22, Gemv, Ger and dot products).
BLAS_ROUTINES = ("sgemm_", "dgemm_", "sgemv_", "dgemv_", "sger_", "dger_", "sdot_", "ddot_")


def _is_set(name):
    """True once PyTensor has fixed a setting (from its flags, .pytensorrc, code, or its first use)."""
    return "val" in vars(getattr(type(pytensor.config), name))


def scipy_openblas_ldflags():
    """blas__ldflags linking the wheel scipy-openblas32, or None when it is missing or unusable.

    Its OpenBLAS (32-bit integers, as PyTensor's C code expects) prefixes every symbol, e.g.
    scipy_sgemm_, so the routines PyTensor calls are renamed with -D macros at compile time.
    """
    try:
        import scipy_openblas32 as openblas
    except ImportError:
        return None
    found = re.search(r"-DBLAS_SYMBOL_PREFIX=(\S+)", openblas.get_pkg_config())
    prefix = found.group(1) if found else ""
    try:
        library = ctypes.CDLL(os.path.join(openblas.get_lib_dir(), openblas.get_library(fullname=True)))
    except OSError:
        return None
    if not all(hasattr(library, prefix + routine) for routine in BLAS_ROUTINES):
        return None
    flags = [f"-L{openblas.get_lib_dir()}", f"-l{openblas.get_library()}"]
    flags += [f"-D{routine}={prefix}{routine}" for routine in BLAS_ROUTINES]
    return shlex.join(flags)


def configure_blas():
    """Link PyTensor's C BLAS Ops to scipy-openblas32 unless blas__ldflags is already chosen.

    Returns the flags in effect. Without a usable scipy-openblas32 this logs a warning and leaves
    PyTensor to its own search (dots then run through numpy in Python thunks).
    """
    if _is_set("blas__ldflags"):
        return pytensor.config.blas__ldflags
    flags = scipy_openblas_ldflags()
    if flags is None:
        _log.warning("no scipy-openblas32: PyTensor's C Gemm needs a BLAS (pip install scipy-openblas32)")
        return ""
    pytensor.config.blas__ldflags = flags
    return flags


def configure_cache(home=None):
    """Put PyTensor's compiled modules in <home>/pytensor/<its per-platform folder>; return that folder.

    home defaults to $MLCORE_HOME, else ~/.mlcore. PyTensor fixes base_compiledir at import, so this sets
    compiledir itself, keeping PyTensor's folder name (platform and Python version) so that machines
    sharing a home never load each other's binaries. Once compiledir is fixed (by PYTENSOR_FLAGS such as
    base_compiledir=..., by .pytensorrc, or by an earlier compilation) it is kept.
    """
    if _is_set("compiledir"):
        return pytensor.config.compiledir
    home = Path(home or os.environ.get("MLCORE_HOME", "~/.mlcore")).expanduser()
    platform_folder = Path(type(pytensor.config).compiledir.default()).name
    pytensor.config.compiledir = home / "pytensor" / platform_folder
    return pytensor.config.compiledir
