"""mlcore: a Keras-compatible model API on a Theano-style graph compiler with
numpy, theano (PyTensor) and jax backends.

    import mlcore as keras          # Sequential, Model, Input, layers, ...
    import mlcore.tensor as T       # Theano's front end
"""
from mlcore import config  # noqa: F401
from mlcore.function import In, Out, Param, function  # noqa: F401
from mlcore.graph import clone, grad, shared  # noqa: F401
from mlcore.graph.scan import scan  # noqa: F401
from mlcore.printing import debugprint, pp  # noqa: F401

__version__ = "0.1.0"


def version():
    """mlcore's version (keras.version())."""
    return __version__


_LAZY = {"Sequential": "mlcore.models", "Model": "mlcore.models", "Input": "mlcore.layers",
         "InputSpec": "mlcore.layers",
         "layers": "mlcore.layers", "models": "mlcore.models", "optimizers": "mlcore.optimizers",
         "losses": "mlcore.losses", "metrics": "mlcore.metrics", "callbacks": "mlcore.callbacks",
         "activations": "mlcore.activations", "initializers": "mlcore.initializers",
         "regularizers": "mlcore.regularizers", "constraints": "mlcore.constraints", "utils": "mlcore.utils",
         "applications": "mlcore.applications", "preprocessing": "mlcore.preprocessing",
         "datasets": "mlcore.datasets", "wrappers": "mlcore.wrappers", "saving": "mlcore.saving",
         "distillation": "mlcore.distillation", "export": "mlcore.export",
         "distribution": "mlcore.distribution", "tensor": "mlcore.tensor", "ops": "mlcore.ops",
         "backend": "mlcore.backend", "gradient": "mlcore.gradient", "compile": "mlcore.compile",
         "OpFromGraph": "mlcore.compile",
         # the rest of Theano's top level: theano.Mode, theano.as_op, theano.Rop, theano.Variable, ...
         "Mode": "mlcore.compile", "as_op": "mlcore.compile", "Rop": "mlcore.graph", "Lop": "mlcore.graph",
         "subgraph_grad": "mlcore.gradient",
         "Variable": "mlcore.keras_variable", "Constant": "mlcore.graph", "Apply": "mlcore.graph", "Op": "mlcore.graph",
         "SharedVariable": "mlcore.graph", "FunctionGraph": "mlcore.graph.fgraph", "pprint": "mlcore.printing",
         "dot": "mlcore.tensor", "get_scalar_constant_value": "mlcore.tensor", "change_flags": "mlcore.config",
         "OrderedUpdates": "mlcore.updates", "updates": "mlcore.updates", "ifelse": "mlcore.ifelse",
         "sandbox": "mlcore.sandbox", "visualization": "mlcore.visualization",
         "legacy": "mlcore.legacy", "engine": "mlcore.engine",
         "dtype_policies": "mlcore.dtype_policies", "mixed_precision": "mlcore.mixed_precision",
         "DTypePolicy": "mlcore.dtype_policies", "FloatDTypePolicy": "mlcore.dtype_policies",
         # Keras 3's top-level names for the base classes users subclass
         "Layer": "mlcore.layers", "Loss": "mlcore.losses", "Metric": "mlcore.metrics",
         "Optimizer": "mlcore.optimizers", "Initializer": "mlcore.initializers",
         "Regularizer": "mlcore.regularizers", "device": "mlcore.device_scope",
         "quantizers": "mlcore.quantizers", "Quantizer": "mlcore.quantizers",
         "random": "mlcore.random", "tree": "mlcore.tree", "KerasTensor": "mlcore.keras_tensor",
         "name_scope": "mlcore.name_scopes", "StatelessScope": "mlcore.scopes", "SymbolicScope": "mlcore.scopes",
         "RematScope": "mlcore.rematerialization", "remat": "mlcore.rematerialization", "Operation": "mlcore.operation",
         "Function": "mlcore.operation",
         # Theano's other loops, here so that `from mlcore import *` leaves the builtin map alone
         "map": "mlcore.graph.scan", "reduce": "mlcore.graph.scan", "foldl": "mlcore.graph.scan",
         "foldr": "mlcore.graph.scan", "scan_module": "mlcore.scan_module",
         "scan_checkpoints": "mlcore.scan_module", "gof": "mlcore.gof",
         "tests": "mlcore.tests", "sparse": "mlcore.sparse", "misc": "mlcore.misc",
         "scalar": "mlcore.scalar", "typed_list": "mlcore.typed_list"}


def __getattr__(name):
    """Import the Keras-style parts on first use, so `import mlcore` stays light."""
    import importlib
    if name not in _LAZY:
        raise AttributeError("module 'mlcore' has no attribute %r" % name)
    module = importlib.import_module(_LAZY[name])
    return module if module.__name__.endswith(name) else getattr(module, name)
