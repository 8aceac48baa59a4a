"""keras.KerasTensor: Keras 3's symbolic tensor, which in mlcore is a graph variable.

KerasTensor(shape, dtype) makes a fresh symbolic input of that type (what Keras's constructor gives: a
tensor with a shape and a dtype and no value), and isinstance(x, KerasTensor) holds for the symbolic
tensors that Input, layer calls and ops on them make, not for constants or shared weights, as Keras's
check tells its symbolic tensors from its arrays and variables.
"""
from mlcore.backend import standardize_dtype
from mlcore.graph.basic import Constant, SharedVariable, TensorType, Variable


class _SymbolicTensorCheck(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Variable) and not isinstance(obj, (Constant, SharedVariable))


class KerasTensor(metaclass=_SymbolicTensorCheck):
    def __new__(cls, shape, dtype="float32", sparse=False, ragged=False, record_history=True, name=None):
        if sparse or ragged:
            raise ValueError("KerasTensor: mlcore tensors are dense; sparse=True and ragged=True are not "
                             "supported (got sparse=%r, ragged=%r)" % (sparse, ragged))
        return TensorType(standardize_dtype(dtype), tuple(shape))(name=name)
