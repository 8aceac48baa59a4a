"""mlcore's backends, reached by name: "numpy" (the reference), "theano" (PyTensor), "jax".

A backend turns a FunctionGraph into a callable; see backends/base.py.
"""
import importlib
import importlib.util

NAMES = ("numpy", "theano", "jax")
REQUIRES = {"numpy": "numpy", "theano": "pytensor", "jax": "jax"}
EXTRAS = {"numpy": "", "theano": "theano", "jax": "jax"}
_loaded = {}


def installed(name):
    return importlib.util.find_spec(REQUIRES[name]) is not None


def available():
    """Backend names whose packages are installed."""
    return [n for n in NAMES if installed(n)]


def resolve_name(name):
    """Check a backend name; "auto" is jax when installed, else numpy."""
    name = (name or "auto").lower()
    if name == "auto":
        return "jax" if installed("jax") else "numpy"
    if name not in NAMES:
        raise ValueError("Unknown backend %r. Backends: %s (installed here: %s)"
                         % (name, ", ".join(NAMES), ", ".join(available())))
    if not installed(name):
        raise ImportError("Backend %r needs the package %r, which is not installed. "
                          "Install it with: pip install 'mlcore[%s]'. Installed backends: %s"
                          % (name, REQUIRES[name], EXTRAS[name], ", ".join(available())))
    return name


def get_backend(name=None):
    """The backend object for a name (None: the configured default)."""
    if name is None:
        from mlcore import config
        name = config.backend()
    name = resolve_name(name)
    if name not in _loaded:
        _loaded[name] = importlib.import_module("backends.%s" % name).BACKEND
    return _loaded[name]
