"""numpy's window functions as keras.ops (bartlett, blackman, hamming, hanning, kaiser): the
symmetric window of x points, in floatx.  A window's length fixes its shape, so x must be a
number known when the graph is built (as in Keras, whose kaiser refuses a symbolic x)."""
import numpy as np

from mlcore import config
from mlcore.graph.basic import Constant, Variable
from mlcore.graph.ops.common import constant


def _length(name, x):
    """x (an int, a 0-d array or a constant) as a Python int."""
    if isinstance(x, Constant):
        x = x.data
    elif isinstance(x, Variable):
        raise TypeError("%s: the window length x must be a number known when the graph is built, "
                        "not the symbolic tensor %s" % (name, x))
    value = np.asarray(x)
    if value.ndim or value.dtype.kind not in "iuf" or value != int(value):
        raise ValueError("%s: the window length x must be an integer, got %r" % (name, x))
    return int(value)


def _as_floatx(window):
    return constant(window.astype(config.floatx()))


def bartlett(x):
    """The triangular window: 1 - |2n / (x - 1) - 1|."""
    return _as_floatx(np.bartlett(_length("bartlett", x)))


def blackman(x):
    """0.42 - 0.5 cos(2 pi n / (x - 1)) + 0.08 cos(4 pi n / (x - 1))."""
    return _as_floatx(np.blackman(_length("blackman", x)))


def hamming(x):
    """0.54 - 0.46 cos(2 pi n / (x - 1))."""
    return _as_floatx(np.hamming(_length("hamming", x)))


def hanning(x):
    """The Hann window, 0.5 - 0.5 cos(2 pi n / (x - 1))."""
    return _as_floatx(np.hanning(_length("hanning", x)))


def kaiser(x, beta):
    """I0(beta sqrt(1 - (2n / (x - 1) - 1)^2)) / I0(beta), I0 the modified Bessel function of order 0."""
    return _as_floatx(np.kaiser(_length("kaiser", x), float(beta)))
