"""The op families: one module each.  Import the functions from here."""
from mlcore.graph.ops.common import as_tensor_variable, constant  # noqa: F401
from mlcore.graph.ops.elemwise import *  # noqa: F401,F403
from mlcore.graph.ops.linalg import batched_dot, dot, matmul, outer, tensordot  # noqa: F401
from mlcore.graph.ops.nn import conv2d, log_softmax, pool2d, softmax  # noqa: F401
from mlcore.graph.ops.reduce import (argmax, argmin, max_, mean, min_, prod, std,  # noqa: F401
                                     sum_, var)
from mlcore.graph.ops.shape import (alloc, arange, concatenate, dimshuffle, flatten,  # noqa: F401
                                    inc_subtensor, ones, pad, reshape, set_subtensor,
                                    stack, subtensor, transpose, zeros)
