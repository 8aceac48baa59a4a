"""Write mlcore/models/keras_op_classes.py: for each keras.ops function, the Operation class Keras 3 makes
for a call on Keras tensors, the module it lives in, which of the function's arguments the class's call()
takes (they become the saved node's args) and which its constructor takes (they become its config).

    KERAS_BACKEND=jax python tools/keras_op_classes.py

A development tool run against the installed Keras, like tools/keras_suite.py: mlcore reads the table it
writes when it saves the ops between a functional model's layers as Keras saves them
(mlcore/models/operations.py), and when it loads such nodes from Keras's files.
"""
import importlib
import inspect
import pathlib
import pprint
import re

import keras
from keras.src.ops.operation import Operation

MODULES = ("numpy", "nn", "math", "linalg", "image", "core")
TARGET = pathlib.Path(__file__).resolve().parents[1] / "mlcore" / "models" / "keras_op_classes.py"
HEADER = '''"""Keras 3's Operation class for each keras.ops function: (module under keras.src.ops, class name,
the parameters of its call() -- a saved node's args, "*name" for a variable number of them --, the
parameters of its constructor -- the saved config).  Written by tools/keras_op_classes.py from Keras %s;
do not edit by hand."""
KERAS_OP_CLASSES = {'''


def operation_classes(module):
    return {name: cls for name, cls in vars(module).items()
            if inspect.isclass(cls) and issubclass(cls, Operation) and cls.__module__ == module.__name__}


def parameters(function):
    """A function's parameter names after self, "*name" for its *args; **kwargs left out."""
    names = []
    for parameter in list(inspect.signature(function).parameters.values())[1:]:
        if parameter.kind is parameter.VAR_POSITIONAL:
            names.append("*" + parameter.name)
        elif parameter.kind is not parameter.VAR_KEYWORD:
            names.append(parameter.name)
    return tuple(names)


def call_parameters(cls, function):
    """The parameters of cls.call(), each under the function's name for it where they differ (the function's
    parameter in the same place: extract_patches_3d(volumes, ...) passes volumes to call(images))."""
    own = list(inspect.signature(function).parameters)
    return tuple(name if name.startswith("*") or name in own else own[index]
                 for index, name in enumerate(parameters(cls.call)))


def table():
    """function name -> (module, class, call parameters, constructor parameters), aliases included."""
    entries, delegates = {}, {}
    for short in MODULES:
        module = importlib.import_module("keras.src.ops." + short)
        classes = operation_classes(module)
        for name, function in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != module.__name__:
                continue
            source = inspect.getsource(function)
            made = [cls for cls in classes if re.search(r"\b%s\(" % cls, source)]
            if len(made) == 1:
                cls = classes[made[0]]
                entries[name] = (short, made[0], call_parameters(cls, function),
                                 tuple(p for p in parameters(cls.__init__) if p != "name"))
            else:
                called = re.findall(r"return (\w+)\(", source)       # abs(x): return absolute(x)
                if called:
                    delegates[name] = called[0]
    for name, target in delegates.items():
        if target in entries:
            entries[name] = entries[target]
    return entries


def main():
    entries = table()
    TARGET.write_text(HEADER % keras.__version__ + pprint.pformat(entries, width=110)[1:] + "\n")
    print("wrote %s (%d functions)" % (TARGET, len(entries)))

if __name__ == "__main__":
    main()
