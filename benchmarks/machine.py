"""Engine settings shared by all systems, and the machine description saved with results.

Numbers mean nothing without the machine: CPU, cores, which BLAS each engine
links and with how many threads, the GPU, and every library's version.
"""
from __future__ import annotations

import ctypes
import datetime
import importlib
import importlib.metadata
import os
import platform
import sys

LIBRARIES = ("numpy", "scipy", "jax", "jaxlib", "pytensor", "keras", "numexpr", "torch",
             "cupy", "threadpoolctl", "scipy-openblas32", "matplotlib", "mlcore")


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "NUMEXPR_MAX_THREADS")


def limit_threads(threads: int) -> None:
    """Give every engine `threads` threads (the paper's CPU runs used one).

    BLAS, OpenMP, numexpr and XLA read these settings when they load, so this
    must run before numpy or any engine is imported.
    """
    if "numpy" in sys.modules:
        raise RuntimeError("limit_threads() must run before numpy is imported")
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    eigen = "false" if threads == 1 else "true"
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + f" --xla_cpu_multi_thread_eigen={eigen}"
                               f" intra_op_parallelism_threads={threads}").strip()


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3     # mallopt's parameter numbers (glibc's malloc.h)
MMAP_THRESHOLD_MAX = 32 << 20                   # the largest glibc accepts on 64-bit machines


def keep_freed_memory() -> str:
    """Make glibc's malloc keep freed blocks of up to 32 MiB for the next allocation.

    By default it serves large blocks (a batch-60 step's temporaries) with fresh pages from the
    kernel, each faulted in on first touch, and moves that threshold with the allocation history:
    here the same step took 17 ms or 27 ms depending on which system had run before it in the
    process.  Pinned, every system reuses its memory alike.  Returns a note for the results."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return "default (no glibc mallopt)"
    if mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX) and mallopt(M_TRIM_THRESHOLD, 4 * MMAP_THRESHOLD_MAX):
        return "glibc mallopt: mmap threshold 32 MiB, trim threshold 128 MiB (freed memory reused)"
    return "default (mallopt refused)"


def configure_engines() -> dict:
    """Settings every system runs under; call before any engine is used.

    jax gets 64-bit types (the float64 runs need them; float32 programs stay
    float32), Keras is pointed at jax unless it was already imported,
    PyTensor is given a BLAS through mlcore's theano backend when that exists,
    and malloc reuses freed memory (keep_freed_memory).
    """
    notes = {"malloc": keep_freed_memory()}
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "jax"
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
    except ImportError:
        pass
    try:
        from backends.theano.blas import configure_blas
    except ImportError as exc:
        notes["pytensor_blas_setup"] = f"backends.theano.blas not importable: {exc}"
    else:
        configure_blas()
        notes["pytensor_blas_setup"] = "backends.theano.blas.configure_blas()"
    return notes


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions() -> dict:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _blas() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("user_api", "internal_api", "prefix", "version", "num_threads", "architecture",
            "threading_layer", "filepath")
    return [{k: pool.get(k) for k in keys} for pool in threadpool_info()]


def _jax() -> dict:
    try:
        import jax
    except ImportError as exc:
        return {"error": str(exc)}
    devices = jax.devices()
    return {"default_backend": jax.default_backend(),
            "devices": [f"{d.platform}:{d.id} {d.device_kind}" for d in devices],
            "gpus": [d.device_kind for d in devices if d.platform == "gpu"]}


def _pytensor() -> dict:
    try:
        import pytensor
    except ImportError as exc:
        return {"error": str(exc)}
    ldflags = pytensor.config.blas__ldflags
    return {"blas_ldflags": ldflags, "has_blas": bool(ldflags), "cxx": pytensor.config.cxx,
            "openmp": pytensor.config.openmp, "floatX": pytensor.config.floatX}


def _numexpr() -> dict:
    try:
        import numexpr
    except ImportError as exc:
        return {"error": str(exc)}
    return {"threads": numexpr.get_num_threads(), "vml": numexpr.use_vml}


def machine_info(notes: dict | None = None) -> dict:
    """Everything needed to read or reproduce the numbers, as plain JSON data."""
    jax_info = _jax()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gpu": ", ".join(jax_info.get("gpus", [])) or "none",
        "blas": _blas(),
        "jax": jax_info,
        "pytensor": _pytensor(),
        "numexpr": _numexpr(),
        "versions": _versions(),
        "engine_setup": notes or {},
        "thread_settings": {name: os.environ.get(name) for name in THREAD_VARIABLES + ("XLA_FLAGS",)},
    }
