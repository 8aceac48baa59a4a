"""keras.ops on the bits and divisors of integers: bitwise and/or, shifts, gcd and lcm (xor and
not are in elementwise.py beside the logical ops).  Bools count as one-bit ints for and/or, as
in numpy; floats are refused here, where numpy would refuse them at run time."""
import numpy as np

from mlcore.graph.ops import elemwise_math as em
from mlcore.ops.core import as_tensor


def _integers(name, x, y, kinds="iub"):
    x, y = as_tensor(x), as_tensor(y)
    for arg, value in zip(("x", "y"), (x, y)):
        if np.dtype(value.dtype).kind not in kinds:
            raise TypeError("%s takes integer%s tensors; received %s of dtype %s"
                            % (name, " or bool" if "b" in kinds else "", arg, value.dtype))
    return x, y


def bitwise_and(x, y):
    """x & y, bit by bit."""
    return em.bitwise_and(*_integers("bitwise_and", x, y))


def bitwise_or(x, y):
    """x | y, bit by bit."""
    return em.bitwise_or(*_integers("bitwise_or", x, y))


def left_shift(x, y):
    """x << y: x's bits moved y places up (x * 2**y, wrapping around as ints do)."""
    return em.left_shift(*_integers("left_shift", x, y, "iu"))


def right_shift(x, y):
    """x >> y: x's bits moved y places down, the sign kept (x // 2**y)."""
    return em.right_shift(*_integers("right_shift", x, y, "iu"))


bitwise_left_shift, bitwise_right_shift = left_shift, right_shift


def gcd(x1, x2):
    """The greatest common divisor of |x1| and |x2|, elementwise (gcd(0, 0) = 0)."""
    return em.gcd(*_integers("gcd", x1, x2, "iu"))


def lcm(x1, x2):
    """The least common multiple of |x1| and |x2|, elementwise (0 where either is 0)."""
    return em.lcm(*_integers("lcm", x1, x2, "iu"))
