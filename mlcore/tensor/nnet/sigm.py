"""theano.tensor.nnet.sigm: the sigmoid, softplus, and the sigmoid's two cheap approximations."""
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable

sigmoid = ew.sigmoid
softplus = ew.softplus


def hard_sigmoid(x):
    """Theano's piecewise-linear sigmoid: clip(0.2 * x + 0.5, 0, 1)."""
    return ew.clip(0.2 * as_tensor_variable(x) + 0.5, 0, 1)


def ultra_fast_sigmoid(x):
    """Theano's piecewise approximation, 0.5 * (t(x / 2) + 1) with an approximate tanh t: 1.5 u / (1 + u)
    up to |u| = 1.7, a line up to 3, then constant (off from the sigmoid by at most 0.028).
    Written with |u| so that each piece is odd and smooth at 0: its gradient is the approximation's
    own derivative (Theano's op had none)."""
    u = 0.5 * as_tensor_variable(x)
    size = ew.abs_(u)
    outer = ew.switch(ew.lt(size, 3), 0.935409070603099 + 0.0458812946797165 * (size - 1.7), 0.99505475368673)
    t = ew.switch(ew.lt(size, 1.7), 1.5 * u / (1 + size), ew.sign(u) * outer)
    return 0.5 * (t + 1)
