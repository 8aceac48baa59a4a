"""Each symbolic keras.ops call leaves a note on the tensors it makes: tag["keras_op"], the function, its
arguments as given and its outputs.  A functional model reads the notes to keep the ops applied between its
layers as Keras 3 keeps them, one node per call (mlcore/models/operations.py), which its config and .keras
files can then save.  Python operators on tensors leave their own note (mlcore/graph/variable_methods.py)."""
from collections import namedtuple

from mlcore import tree
from mlcore.graph.basic import Variable

OpCall = namedtuple("OpCall", "name function args kwargs outputs")     # name: keras.ops.<name>


def note_call(function, args, kwargs, result):
    """Note the call on each tensor of its result that is not one of its arguments given back."""
    outputs = tuple(result) if isinstance(result, (list, tuple)) else (result,)
    given = {id(value) for value in tree.flatten((args, kwargs))}
    call = OpCall(function.__name__, function, args, kwargs, result)
    for out in outputs:
        if isinstance(out, Variable) and id(out) not in given:
            out.tag["keras_op"] = call
    return result
