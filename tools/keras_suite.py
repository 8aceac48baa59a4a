"""Run Keras 3's own op tests (keras/src/ops/<module>_test.py, shipped in the keras wheel) against mlcore.ops.

    python tools/keras_suite.py numpy                   # every test class of numpy_test.py
    python tools/keras_suite.py nn NNOpsDtypeTest       # one class (comma-separated for several)

Keras's tests call its ops through module aliases (knp, knn, kmath, ...) and its Operation classes
(knp.Sum(axis=1)(x), knp.Argmax().symbolic_call(x)).  This script points those aliases at a stand-in
that answers with mlcore.ops' function of the same (snake_case) name, converting Keras's symbolic
KerasTensor arguments to mlcore's, and prints the failures grouped by test.  It is a development tool
for finding where mlcore.ops differs from Keras, not part of the test suite: some failures are the
stand-in's own limits (an Operation's constructor arguments are passed after the call's, so
Einsum("ij->ji").symbolic_call(x) is not what Keras means; attributes of Keras's Operation objects do
not exist), some need TensorFlow or torch, and some are decisions of mlcore's (dense tensors only;
64-bit dtypes kept as Keras's TensorFlow backend keeps them).
"""
import collections
import importlib
import os
import pathlib
import re
import sys
import types
import unittest
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))     # the mlcore of this checkout


def as_mlcore(value):
    """Keras's KerasTensors (also inside lists, tuples and dicts) as mlcore's."""
    import keras
    import mlcore
    if isinstance(value, keras.KerasTensor):
        return mlcore.KerasTensor(tuple(value.shape), dtype=value.dtype)
    if isinstance(value, (list, tuple)):
        return type(value)(as_mlcore(v) for v in value)
    if isinstance(value, dict):
        return {k: as_mlcore(v) for k, v in value.items()}
    return value


def symbolic(value):
    """An array as a symbolic mlcore tensor of its shape and dtype (Operation.symbolic_call's input)."""
    import mlcore
    if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, mlcore.KerasTensor):
        return mlcore.KerasTensor(tuple(value.shape), dtype=str(value.dtype))
    if isinstance(value, (list, tuple)):
        return type(value)(symbolic(v) for v in value)
    return as_mlcore(value)


class Operation:
    """Keras's Operation class for one op: the constructor's arguments (Einsum("ij->ji"), Sum(axis=1)) and
    the call's go to the mlcore.ops function by the names Keras gives them (mlcore/models/keras_op_classes.py,
    as a saved op node is replayed); for a class the table lacks, the call's first, then the constructor's."""

    def __init__(self, fn, args, kwargs, entry=None):
        self.fn, self.args, self.kwargs, self.entry = fn, args, kwargs, entry

    def _run(self, args, kwargs):
        if self.entry is None:
            return self.fn(*args, *self.args, **{**self.kwargs, **kwargs})
        from mlcore.models.operations import arguments_by_name
        _, _, call_names, constructor_names = self.entry
        keywords = {**dict(zip(constructor_names, self.args)), **self.kwargs, **kwargs}
        positional, keywords = arguments_by_name(self.fn, call_names, list(args), keywords)
        return self.fn(*positional, **keywords)

    def __call__(self, *args, **kwargs):
        return self._run(as_mlcore(args), as_mlcore(kwargs))

    def symbolic_call(self, *args, **kwargs):
        return self._run(symbolic(args), as_mlcore(kwargs))

    call = __call__
    compute_output_spec = symbolic_call


# Operation classes whose function is not their name in snake_case
OPERATION_NAMES = {"LayerNorm": "layer_normalization", "RMSNorm": "rms_normalization", "CTCLoss": "ctc_loss",
                   "CTCDecode": "ctc_decode", "IsIn": "isin", "SearchSorted": "searchsorted"}


def operation_entry(class_name):
    """The op table's entry for a Keras Operation class, or None."""
    from mlcore.models.keras_op_classes import KERAS_OP_CLASSES
    entries = [entry for entry in KERAS_OP_CLASSES.values() if entry[1] == class_name]
    return entries[0] if entries else None


class OpsModule(types.ModuleType):
    """A Keras op module (keras.src.ops.numpy, ...) answered by mlcore.ops."""

    def __init__(self, name, namespaces):
        super().__init__(name)
        self._namespaces = namespaces

    def _find(self, name):
        for namespace in self._namespaces:
            fn = getattr(namespace, name, None)
            if callable(fn) and not isinstance(fn, type):
                return fn
        raise AttributeError(name)

    def __getattr__(self, name):
        if name[:1].isupper():   # an Operation class: Argmax -> argmax, InTopK -> in_top_k
            function_name = OPERATION_NAMES.get(name) or re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
            fn = self._find(function_name)
            entry = operation_entry(name)
            return lambda *args, **kwargs: Operation(fn, args, kwargs, entry)
        fn = self._find(name)
        return lambda *args, **kwargs: fn(*as_mlcore(args), **as_mlcore(kwargs))


def load_tests(module_name, class_names=None):
    """The unittest suite of keras.src.ops.<module_name>_test with its op modules pointed at mlcore."""
    from mlcore import ops
    tests = importlib.import_module(f"keras.src.ops.{module_name}_test")
    for alias, value in list(vars(tests).items()):
        if isinstance(value, types.ModuleType) and value.__name__.startswith("keras.src.ops."):
            own = getattr(ops, value.__name__.rsplit(".", 1)[-1], None)
            namespaces = [n for n in (own, ops, ops.nn, ops.linalg, ops.image) if isinstance(n, types.ModuleType)]
            setattr(tests, alias, OpsModule(alias, namespaces))
    return suite_of(tests, class_names)


def suite_of(tests, class_names=None):
    """The unittest suite of the TestCase classes a test module defines (those named, or all)."""
    suite = unittest.TestSuite()
    for name, cls in vars(tests).items():
        if isinstance(cls, type) and issubclass(cls, unittest.TestCase) and cls.__module__ == tests.__name__:
            if class_names is None or name in class_names:
                suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(cls))
    return suite


def grouped(problems):
    """{Class.test_name without its parameters: (count, first parameterised name, last line of its error)}."""
    groups = {}
    for test, trace in problems:
        cls, name = test.id().split(".")[-2:]
        base = cls + "." + re.split(r"_\(|\s\(|_(?:bool|u?int\d+|b?float\d+|none|None)\b", name)[0]
        last = [line for line in trace.strip().splitlines() if line.strip()][-1]
        count, first, message = groups.get(base, (0, name, last[:200]))
        groups[base] = (count + 1, first, message)
    return groups


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    warnings.filterwarnings("ignore")
    suite = load_tests(argv[0], argv[1].split(",") if len(argv) > 1 else None)
    import backends.jax  # noqa: F401  (mlcore's jax backend turns jax's 64-bit mode on when imported: import it
    import jax           # now and turn the mode off, as Keras's tests expect it, whatever a test imports later)
    jax.config.update("jax_enable_x64", False)
    with open(os.devnull, "w") as quiet:
        result = unittest.TextTestRunner(stream=quiet, verbosity=0).run(suite)
    problems = result.failures + result.errors
    print(f"keras.src.ops.{argv[0]}_test: ran {result.testsRun}, passed "
          f"{result.testsRun - len(problems) - len(result.skipped)}, failed {len(result.failures)}, "
          f"errors {len(result.errors)}, skipped {len(result.skipped)}")
    for base, (count, first, message) in sorted(grouped(problems).items()):
        print(f"{count:4d} {base} (e.g. {first}): {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
