"""Fixtures shared by the test suite.

MLCORE_HOME points at a fresh folder for the whole session, set here at import time
(before any test module reads mlcore.config), so no test writes ~/.mlcore.  Compiled code
is a cache worth keeping between runs (PyTensor's C modules, XLA's executables: together
most of a cold run's time), so unless PYTENSOR_FLAGS or JAX_COMPILATION_CACHE_DIR say
otherwise they are kept in ~/.cache/mlcore-tests, not in that folder.
"""
import os
import shutil
import sys
import tempfile

import numpy as np
import pytest

_HOME = tempfile.mkdtemp(prefix="mlcore-test-home-")
_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "mlcore-tests")
os.environ["MLCORE_HOME"] = _HOME
os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras 3, the reference some tests compare with; one backend for all
os.environ.setdefault("PYTENSOR_FLAGS",
                      "compiledir=" + os.path.join(_CACHE, "pytensor-py%d.%d" % sys.version_info[:2]))
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(_CACHE, "jax"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
# jax takes 75% of a GPU's memory when it starts; with that default, a test that starts another
# Python process using the GPU (the benchmarks' smoke run) would find it nearly full.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")


@pytest.fixture(scope="session", autouse=True)
def mlcore_home():
    """The session's MLCORE_HOME, removed at the end."""
    from mlcore import config
    config.reload()
    yield _HOME
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture
def rng(request):
    """A numpy Generator seeded from the test's name, so every test draws its own fixed numbers."""
    return np.random.default_rng(sum(map(ord, request.node.name)))


@pytest.fixture
def floatx():
    """Set mlcore's floatx for one test: floatx("float64"); the old setting comes back after."""
    from mlcore import config
    saved = dict(config._overrides)

    def set_floatx(value):
        config.set_floatx(value)
    yield set_floatx
    config._overrides.clear()
    config._overrides.update(saved)


@pytest.fixture(scope="module")
def keras():
    """Keras 3 on its jax backend, for the tests that train Keras models beside mlcore's (a module that
    only compares ops defines its own `keras`, which takes whichever backend Keras has)."""
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "jax":
        pytest.skip("these comparisons train Keras models: they need Keras's jax backend")
    return keras


@pytest.fixture(scope="module")
def numpy_backend():
    """Run a module on the numpy backend (pytestmark = pytest.mark.usefixtures("numpy_backend")):
    it compiles the many small graphs of layer and model tests fastest; the old setting comes back after."""
    from mlcore import config
    saved = dict(config._overrides)
    config.set_backend("numpy")
    yield
    config._overrides.clear()
    config._overrides.update(saved)


@pytest.fixture
def numeric_grad():
    """Central finite differences of a scalar function of numpy arrays, wrt argument k."""
    def grad(f, values, k, eps=1e-6):
        values = [np.array(v, copy=True) for v in values]
        flat = values[k].reshape(-1)
        out = np.zeros(flat.shape, dtype="float64")
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = float(f(*values))
            flat[i] = old - eps
            down = float(f(*values))
            flat[i] = old
            out[i] = (up - down) / (2 * eps)
        return out.reshape(values[k].shape)
    return grad


@pytest.fixture
def float32_jax():
    """jax's 64-bit mode off, as in a fresh process: an earlier test may have turned it on, and Keras's
    jax layers then meet float64 values (a GRU's zero bias) that they cannot take."""
    jax = pytest.importorskip("jax")
    with jax.enable_x64(False):
        yield


@pytest.fixture
def layer_gradient_check(numeric_grad, rng):
    """check(layer, symbol, cost, x): the gradients of cost (built from layer called on symbol) wrt the
    input and every weight, at x and random weights, equal central finite differences."""
    import mlcore

    def check(layer, symbol, cost, x):
        gradient = mlcore.function([symbol], mlcore.grad(cost, [symbol] + layer.weights))
        value = mlcore.function([symbol], cost)

        def at(function):
            """function of the input's and the weights' values."""
            def run(x, *weights):
                layer.set_weights(weights)
                return function(x)
            return run
        values = [x] + [0.5 * rng.normal(size=w.shape) for w in layer.weights]
        for k, grad in enumerate(at(gradient)(*values)):
            np.testing.assert_allclose(grad, numeric_grad(at(value), values, k), rtol=1e-6, atol=1e-8)
    return check


def _unavailable(name):
    """Why backend `name` cannot run here, or None."""
    import backends
    if not backends.installed(name):
        return "%s (for the %s backend) is not installed" % (backends.REQUIRES[name], name)
    try:
        backends.get_backend(name)
    except Exception as err:      # a backend that is still being written
        return "backends/%s is not usable yet: %s: %s" % (name, type(err).__name__, err)
    return None


@pytest.fixture(scope="session")
def require_backend():
    """require_backend(name) -> name, or skips the test saying why that backend cannot run."""
    def require(name):
        reason = _unavailable(name)
        if reason:
            pytest.skip(reason)
        return name
    return require


@pytest.fixture(params=["numpy", "jax", "theano"])
def backend(request, require_backend):
    """Each backend by name, skipped where it is not installed or not finished."""
    return require_backend(request.param)


@pytest.fixture
def on_backend(backend):
    """mlcore's default backend set to each backend for the test (what layers called on arrays and
    fit's steps compile with), the settings restored after."""
    from mlcore import config
    saved = dict(config._overrides)
    config.set_backend(backend)
    yield backend
    config._overrides.clear()
    config._overrides.update(saved)


def _has_gpu():
    try:
        import jax
        return bool(jax.devices("gpu"))
    except Exception:  # no jax, or jax without a CUDA/ROCm plugin
        return False


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run the tests marked slow (full-size VGG16)")


def pytest_collection_modifyitems(config, items):
    """gpu tests skip cleanly without a GPU; slow tests run only with --runslow or -m slow."""
    skip_gpu = None if _has_gpu() else pytest.mark.skip(reason="no GPU on this machine")
    run_slow = config.getoption("--runslow") or "slow" in (config.getoption("-m") or "")
    skip_slow = None if run_slow else pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if skip_gpu is not None and "gpu" in item.keywords:
            item.add_marker(skip_gpu)
        if skip_slow is not None and "slow" in item.keywords:
            item.add_marker(skip_slow)
