"""numpy's window functions as keras.ops (bartlett, blackman, hamming, hanning, kaiser): the
symmetric window of x points, in floatx.  Each is a formula on t = (2n - (x - 1)) / (x - 1), the
positions n = 0 .. x-1 spread over [-1, 1] (numpy's arange(1 - x, x, 2) / (x - 1)); x = 1 gives
t = 0 and so the window [1], as numpy's.  x may be a symbolic int scalar (a 0-d tensor, such as a
jax value): the window's length is then known when the graph runs.  A float x is cut to an int, as
Keras's backends take it (jax's int(x), TensorFlow's cast): 2.5 points make a window of 2."""
import math

from mlcore import config
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import elemwise_math as em
from mlcore.graph.ops import shape as sh
from mlcore.ops.core import as_tensor


def _positions(name, x):
    """t for a window of x points, in float64 as numpy computes it (cast to floatx at the end)."""
    length = ew.cast(as_tensor(x), "int64")
    if length.ndim:
        raise ValueError("%s: the window length x must be a scalar, got %s" % (name, length.type))
    span = ew.cast(ew.maximum(length - 1, 1), "float64")
    return (2 * ew.cast(sh.arange(length, dtype="int64"), "float64") - (length - 1)) / span


def _as_floatx(window):
    return ew.cast(window, config.floatx())


def bartlett(x):
    """The triangular window: 1 - |t|."""
    return _as_floatx(1 - ew.abs_(_positions("bartlett", x)))


def blackman(x):
    """0.42 + 0.5 cos(pi t) + 0.08 cos(2 pi t)."""
    t = _positions("blackman", x)
    return _as_floatx(0.42 + 0.5 * ew.cos(math.pi * t) + 0.08 * ew.cos(2 * math.pi * t))


def hamming(x):
    """0.54 + 0.46 cos(pi t)."""
    return _as_floatx(0.54 + 0.46 * ew.cos(math.pi * _positions("hamming", x)))


def hanning(x):
    """The Hann window, 0.5 + 0.5 cos(pi t)."""
    return _as_floatx(0.5 + 0.5 * ew.cos(math.pi * _positions("hanning", x)))


def kaiser(x, beta):
    """I0(beta sqrt(1 - t^2)) / I0(beta), I0 the modified Bessel function of order 0."""
    t, beta = _positions("kaiser", x), ew.cast(as_tensor(beta), "float64")
    return _as_floatx(em.i0(beta * ew.sqrt(1 - t * t)) / em.i0(beta))
