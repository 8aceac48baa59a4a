"""Run Keras 3's own layer tests (keras/src/layers/**/<name>_test.py, shipped in the keras wheel) against mlcore.

    python tools/keras_layer_suite.py core/dense             # one file of keras/src/layers/
    python tools/keras_layer_suite.py core/dense DenseTest   # some classes only (comma-separated)
    python tools/keras_layer_suite.py all                    # every layer test file, one line per file
    python tools/keras_layer_suite.py losses/losses          # a test file of another package of keras/src
    python tools/keras_layer_suite.py all metrics            # every test file of those packages

Keras's layer tests reach the library through module names (`layers.Dense`, `ops.sum`, `models.Model`,
`backend.KerasTensor`) and through `testing.TestCase.run_layer_test`, which builds a layer, calls it on
symbolic and eager inputs, trains it one step and round-trips its config.  This script points those
names at mlcore (`layers` -> mlcore.layers, `backend` -> mlcore's backend with Keras's names, ...) and
runs the checks of run_layer_test on mlcore's Model, Loss, KerasTensor and serialization, then prints
the failures grouped by test.  Like tools/keras_suite.py (the op tests) it is a development tool, a map
of where mlcore's layers differ from Keras's, not part of the test suite: tests that import Keras
classes directly (`from keras.src.layers.rnn.conv_lstm import ConvLSTM`) still test Keras there, and
tests of sparse or ragged inputs, TensorFlow, torch or Keras internals fail for those reasons.
"""
import concurrent.futures
import contextlib
import importlib
import importlib.util
import os
import pathlib
import re
import subprocess
import sys
import types
import unittest
import warnings

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")
TOOLS = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(TOOLS), str(TOOLS.parent)]     # keras_suite, and the mlcore of this checkout (not an installed one)

from keras_suite import grouped, suite_of  # noqa: E402

FILE_TIMEOUT_S = 300

# keras.src.<name> modules a test file imports, and the mlcore module standing in for each
STAND_INS = {"layers": "mlcore.layers", "ops": "mlcore.ops", "models": "mlcore.models",
             "initializers": "mlcore.initializers", "activations": "mlcore.activations",
             "regularizers": "mlcore.regularizers", "constraints": "mlcore.constraints",
             "losses": "mlcore.losses", "optimizers": "mlcore.optimizers", "saving": "mlcore.saving",
             "random": "mlcore.random", "tree": "mlcore.tree", "dtype_policies": "mlcore.dtype_policies",
             "metrics": "mlcore.metrics", "callbacks": "mlcore.callbacks", "utils": "mlcore.utils",
             "quantizers": "mlcore.quantizers"}

# keras.src modules a test file imports whole whose mlcore counterpart is not its package's stand-in
MODULE_STAND_INS = {
    "layers.preprocessing.index_lookup": "mlcore.layers.index_lookup",
    "layers.preprocessing.feature_space": "mlcore.utils.feature_space",
    "layers.preprocessing.image_preprocessing.bounding_boxes.iou": "mlcore.utils.bounding_boxes.iou",
    "optimizers.schedules": "mlcore.optimizers.schedules",
    "optimizers.schedules.learning_rate_schedule": "mlcore.optimizers.schedules",
    "dtype_policies.dtype_policy": "mlcore.dtype_policies"}

# keras.src helper modules a test file uses for its own bookkeeping (paths, logging), left as Keras's
KERAS_HELPERS = {"utils.file_utils", "utils.io_utils"}

# names keras.src.<package> exports although Keras's public API does not (so mlcore's package does not
# either), and the mlcore module that holds each
PRIVATE_NAMES = {"layers": {"IndexLookup": "mlcore.layers.index_lookup"},
                 "callbacks": {"MonitorCallback": "mlcore.callbacks.monitor_callback"}}

# keras.src submodules named as a function of mlcore's package (keras.src.dtype_policies.dtype_policy, which
# holds dtype_policy() and set_dtype_policy()), and the mlcore module that answers for each
SUBMODULES = {"dtype_policies": {"dtype_policy": "mlcore.dtype_policies"}, "ops": {"random": "mlcore.random"}}


class WithPrivateNames(types.ModuleType):
    """An mlcore package that also answers the Keras-internal names its keras.src counterpart exports
    (`layers.IndexLookup`, the module `dtype_policies.dtype_policy`)."""

    def __init__(self, package, names, submodules):
        super().__init__(package.__name__)
        self._package, self._names, self._submodules = package, names, submodules

    def __getattr__(self, name):
        if name in self._submodules:
            return importlib.import_module(self._submodules[name])
        if name in self._names:
            return getattr(importlib.import_module(self._names[name]), name)
        return getattr(self._package, name)


def stand_in(name):
    """mlcore's module for keras.src.<name>: its own counterpart where it has one, else its package's."""
    if name in MODULE_STAND_INS:
        return importlib.import_module(MODULE_STAND_INS[name])
    package = name.split(".")[0]
    module = importlib.import_module(STAND_INS[package])
    if package in PRIVATE_NAMES or package in SUBMODULES:
        return WithPrivateNames(module, PRIVATE_NAMES.get(package, {}), SUBMODULES.get(package, {}))
    return module


class Backend(types.ModuleType):
    """keras.src.backend as mlcore answers it: the backend's name, its tensors and its dtype helpers."""

    def __init__(self):
        super().__init__("backend")
        import mlcore
        from mlcore import backend, ops
        self._namespaces = (backend, ops)
        self.KerasTensor = mlcore.KerasTensor
        self.Variable = mlcore.Variable       # keras.Variable (mlcore.backend's Variable is Theano's graph class)
        self.convert_to_numpy = lambda x: np.asarray(ops.convert_to_numpy(x))
        self.is_tensor = lambda x: ops.is_tensor(x) or isinstance(x, np.ndarray)
        self.backend = lambda: "jax"
        self.name_scope = mlcore.name_scope   # the variables made inside get mlcore's paths

    def __getattr__(self, name):
        for namespace in self._namespaces:
            if hasattr(namespace, name):
                return getattr(namespace, name)
        return getattr(sys.modules["keras.src.backend"], name)   # what mlcore does not name (config flags, ...)


class FunctionalModelType(type):
    """Keras's Functional class as mlcore answers it: mlcore has one Model class, and a model made from
    inputs and outputs is one with graph nodes (not a Sequential, not a subclassed model).  Calling it
    and its class methods (from_config) are Model's."""

    def __instancecheck__(cls, model):
        from mlcore.models import Model, Sequential
        return isinstance(model, Model) and bool(getattr(model, "_nodes", None)) and not isinstance(model, Sequential)

    def __call__(cls, *args, **kwargs):
        from mlcore.models import Model
        return Model(*args, **kwargs)

    def __getattr__(cls, name):
        from mlcore.models import Model
        return getattr(Model, name)


class Functional(metaclass=FunctionalModelType):
    """Stands in for keras.src.models.functional.Functional."""


# Keras-internal classes a test file imports by name, and what the tool gives it instead
CLASS_STAND_INS = {"keras.src.models.functional.Functional": Functional}


def class_stand_ins():
    """CLASS_STAND_INS, with the classes that mlcore itself answers for."""
    import mlcore
    return {**CLASS_STAND_INS, "keras.src.backend.common.keras_tensor.KerasTensor": mlcore.KerasTensor}


def seed_generators(layer):
    """The distinct SeedGenerators of a layer and of every layer inside it."""
    found, seen, pending = [], set(), [layer]
    while pending:
        current = pending.pop()
        for generator in getattr(current, "_seed_generators", []):
            if id(generator) not in seen:
                seen.add(id(generator))
                found.append(generator)
        pending.extend(getattr(current, "_layers", []) or [])
    return found


def eager_tensors(input_shape, dtype, sparse, ragged):
    """Random inputs in [0, 3) of the shapes and dtypes asked, as numpy arrays (mlcore's eager values)."""
    from keras.src.testing.test_case import map_shape_dtype_structure
    if sparse or ragged:
        raise ValueError("mlcore's tensors are dense: sparse and ragged inputs are not supported")
    rng = np.random.default_rng(0)

    def make(shape, dt):
        return (rng.uniform(size=shape) * 3).astype("float32").astype(dt)
    if isinstance(input_shape, dict):
        return {k.removesuffix("_shape"): make(v, dtype[k]) for k, v in input_shape.items()}
    return map_shape_dtype_structure(make, input_shape, dtype)


def class_serialization_test(self, instance, custom_objects=None):
    """Keras's round trips of a layer's config, through from_config and through serialize/deserialize."""
    from keras.src.testing.test_case import from_json_with_tuples, to_json_with_tuples
    from mlcore.saving import custom_object_scope, deserialize_keras_object, serialize_keras_object
    config = to_json_with_tuples(instance.get_config())
    names = set(dir(instance)) - {"__annotations__"}
    with custom_object_scope(custom_objects or {}):
        from_config = type(instance).from_config(instance.get_config())
    self.assertEqual(config, to_json_with_tuples(from_config.get_config()))
    self.assertEqual(names, set(dir(from_config)) - {"__annotations__"})
    serialized = to_json_with_tuples(serialize_keras_object(instance))
    with custom_object_scope(custom_objects or {}):
        revived = deserialize_keras_object(from_json_with_tuples(serialized))
    self.assertEqual(config, to_json_with_tuples(revived.get_config()))
    return revived


class Absent(types.ModuleType):
    """A module that is not installed (tensorflow, grain): importable, and an error when a test uses it."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name == "skip_if_backend":   # Keras's conftest decorator
            return lambda *args, **kwargs: (lambda test: test)
        return Absent(f"{self.__name__}.{name}")

    def __call__(self, *args, **kwargs):
        raise ModuleNotFoundError(f"{self.__name__.split('.')[0]} is not installed (the test needs it)")


@contextlib.contextmanager
def absent_modules_importable():
    """Let a test file that imports TensorFlow, grain or Keras's conftest at its top load without them
    (only while it loads: Keras itself must go on seeing them missing)."""
    added = []
    for name in ("tensorflow", "grain", "conftest"):
        if importlib.util.find_spec(name) is None:
            sys.modules[name] = Absent(name)
            added.append(name)
    try:
        yield
    finally:
        for name in added:
            del sys.modules[name]


def point_testing_at_mlcore():
    """run_layer_test's own names (Model, Loss, ops, backend, ...) answered by mlcore."""
    import mlcore
    from keras.src.testing import test_case
    from mlcore import ops, tree
    from mlcore.backend import clear_session
    from mlcore.losses import Loss
    from mlcore.models import Model
    shim = Backend()
    test_case.backend, test_case.ops, test_case.tree = shim, ops, tree
    test_case.Model, test_case.Loss, test_case.KerasTensor = Model, Loss, mlcore.KerasTensor
    test_case.standardize_dtype = shim.standardize_dtype
    test_case.is_float_dtype = shim.is_float_dtype
    test_case.clear_session = lambda free_memory=True: clear_session()
    test_case.create_eager_tensors = eager_tensors
    test_case.get_seed_generators = seed_generators
    test_case.TestCase.run_class_serialization_test = class_serialization_test
    follow_keras_logging_switches()
    return shim


def follow_keras_logging_switches():
    """A test that turns Keras's interactive logging off (io_utils, left as Keras's) turns mlcore's off too,
    so that the callbacks' messages go to the logger the test reads."""
    from keras.src.utils import io_utils
    import mlcore
    for switch in ("enable_interactive_logging", "disable_interactive_logging"):
        keras_switch, own_switch = getattr(io_utils, switch), getattr(mlcore.config, switch)
        setattr(io_utils, switch, lambda keras_switch=keras_switch, own_switch=own_switch: (keras_switch(),
                                                                                          own_switch()))


@contextlib.contextmanager
def keras_src_names_pointed_at_mlcore(shim):
    """`from keras.src import layers` (and backend, ops, ...) gives mlcore's while a test file loads, so that
    what its decorators bind then (`@parameterized.named_parameters(("add", layers.Add, np.add))`) is
    mlcore's too."""
    import keras.src
    saved = {name: getattr(keras.src, name) for name in [*STAND_INS, "backend"] if hasattr(keras.src, name)}
    for name in STAND_INS:
        setattr(keras.src, name, stand_in(name))
    keras.src.backend = shim
    try:
        yield
    finally:
        for name, module in saved.items():
            setattr(keras.src, name, module)


# keras.src packages besides layers whose test files a path may name (losses/losses); any other path is one
# under keras/src/layers (core/dense)
OTHER_PACKAGES = ("losses", "metrics", "optimizers", "callbacks", "models", "trainers", "saving", "activations",
                  "initializers", "regularizers", "constraints", "random", "utils", "tree", "quantizers",
                  "wrappers", "distillation")


def test_module(path):
    """The keras.src module of a path this script takes: losses/losses, or core/dense under layers (and
    activations/elu there too: keras/src/activations has activations_test alone)."""
    module = "keras.src." + path.replace("/", ".") + "_test"
    if path.split("/")[0] in OTHER_PACKAGES and importlib.util.find_spec(module) is not None:
        return module
    return "keras.src.layers." + path.replace("/", ".") + "_test"


def load_tests(path, shim, class_names=None):
    """The unittest suite of a Keras test file (test_module(path)) with its keras.src modules pointed at
    mlcore."""
    with absent_modules_importable(), keras_src_names_pointed_at_mlcore(shim):
        tests = importlib.import_module(test_module(path))
    for alias, value in list(vars(tests).items()):
        if isinstance(value, types.ModuleType) and value.__name__.startswith("keras.src."):
            name = value.__name__[len("keras.src."):]
            if name in KERAS_HELPERS:
                continue
            if name == "backend":
                setattr(tests, alias, shim)
            elif name == "backend.common.keras_tensor":
                setattr(tests, alias, importlib.import_module("mlcore.keras_tensor"))
            elif name.split(".")[0] in STAND_INS:   # keras.src.layers.activations.elu -> mlcore.layers
                setattr(tests, alias, stand_in(name))
        elif f"{getattr(value, '__module__', '')}.{getattr(value, '__name__', '')}" in class_stand_ins():
            setattr(tests, alias, class_stand_ins()[f"{value.__module__}.{value.__name__}"])
        elif isinstance(value, type) or callable(value):   # a class or function imported by name
            package = getattr(value, "__module__", "").split(".")
            home = STAND_INS.get(package[2]) if package[:2] == ["keras", "src"] and len(package) > 2 else None
            if home and hasattr(importlib.import_module(home), alias):
                setattr(tests, alias, getattr(importlib.import_module(home), alias))
    return suite_of(tests, class_names)


def all_test_files(packages=("layers",)):
    """Every keras/src/<package>/**/<name>_test.py, as the paths this script takes (core/dense,
    losses/losses, ...)."""
    import keras.src
    root = pathlib.Path(keras.src.__file__).parent
    return sorted(str(p.relative_to(root / "layers" if package == "layers" else root).with_suffix(""))[:-len("_test")]
                  for package in packages for p in (root / package).rglob("*_test.py"))


def run(path, shim, class_names=None):
    try:
        suite = load_tests(path, shim, class_names)
    except Exception as error:   # a test file that does not import (TensorFlow, ...)
        print(f"{path}: not loaded ({type(error).__name__}: {error})"[:200])
        return
    with open(os.devnull, "w") as quiet:
        result = unittest.TextTestRunner(stream=quiet, verbosity=0).run(suite)
    skipped = len(result.skipped) + sum("Skipped: " in trace for _, trace in result.errors)
    errors = [(test, trace) for test, trace in result.errors if "Skipped: " not in trace]
    problems = result.failures + errors
    print(flush=True)       # a progress bar a test drew may have left its line open
    print(f"{path}: ran {result.testsRun}, passed {result.testsRun - len(problems) - skipped}, "
          f"failed {len(result.failures)}, errors {len(errors)}, skipped {skipped}", flush=True)
    for base, (count, first, message) in sorted(grouped(problems).items()):
        print(f"{count:4d} {base} (e.g. {first}): {message}", flush=True)


def run_alone(path):
    """The report of one test file run in its own process, so that one that hangs stops alone."""
    try:
        return subprocess.run([sys.executable, __file__, path], capture_output=True, text=True,
                              timeout=FILE_TIMEOUT_S).stdout
    except subprocess.TimeoutExpired:
        return f"{path}: stopped after {FILE_TIMEOUT_S} s\n"


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    warnings.filterwarnings("ignore")
    import backends.jax  # noqa: F401  (mlcore's jax backend turns jax's 64-bit mode on when imported:
    import jax           # turn it off again, as Keras's tests expect it)
    jax.config.update("jax_enable_x64", False)
    shim = point_testing_at_mlcore() if argv[0] != "all" else None
    verbose = "-v" in argv
    argv = [a for a in argv if a != "-v"]
    if argv[0] != "all":
        run(argv[0], shim, argv[1].split(",") if len(argv) > 1 else None)
        return 0
    paths = all_test_files(argv[1:] or ("layers",))
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        for path, output in zip(paths, pool.map(run_alone, paths)):
            lines = output.splitlines()     # a test's own printing (a model summary) among them
            summary = [line for line in lines if line.startswith(path + ":")][:1]
            failures = [line for line in lines if re.match(r"\s*\d+ \w+\.\w+ \(e\.g\. ", line)]
            print("\n".join(summary + (failures if verbose else [])), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
