"""Theano's flags config.mode and config.optimizer decide how a function() given no mode compiles,
get_mode/get_default_mode read Theano's names of modes, and T.add/T.mul take any number of terms."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.compile import DebugMode, Mode, get_default_mode, get_mode
from mlcore.compile.debugmode import CheckedFunction


def node_count(f):
    return len(f.maker.fgraph.toposort())


def test_config_mode_is_the_default_mode():
    v = T.dvector("v")
    assert mlcore.config.mode == "Mode" and not isinstance(mlcore.function([v], v * 2), CheckedFunction)
    with mlcore.change_flags(mode="DebugMode"):
        assert isinstance(get_default_mode(), DebugMode)
        f = mlcore.function([v], v * 2)
    assert isinstance(f, CheckedFunction)
    np.testing.assert_array_equal(f(np.ones(2)), [2, 2])


def test_config_optimizer_picks_the_default_rewrites():
    v = T.dvector("v")
    rewritten = mlcore.function([v], v * 2 + v * 2)
    with mlcore.change_flags(optimizer="None"):
        as_written = mlcore.function([v], v * 2 + v * 2)
        assert Mode().rewrites == []
    assert node_count(as_written) == 3 and node_count(rewritten) < 3
    np.testing.assert_array_equal(as_written(np.ones(2)), rewritten(np.ones(2)))
    mlcore.config.optimizer = "fast_compile"
    try:
        assert Mode().rewrites == Mode(optimizer="fast_compile").rewrites
    finally:
        mlcore.config.optimizer = "fast_run"


def test_get_mode_reads_theanos_names():
    assert get_mode("FAST_RUN").rewrites == Mode(optimizer="fast_run").rewrites
    assert get_mode("fast_compile").rewrites == Mode(optimizer="fast_compile").rewrites
    assert isinstance(get_mode("DebugMode"), DebugMode)
    mode = Mode(optimizer=None)
    assert get_mode(mode) is mode
    with pytest.raises(ValueError, match="unknown mode 'FASTEST'"):
        get_mode("FASTEST")
    with pytest.raises(ValueError, match="unknown mode"):
        mlcore.function([T.dvector()], T.dvector() * 0, mode="FASTEST", on_unused_input="ignore")



@pytest.mark.parametrize("mode, backend", [(Mode(linker="py"), "numpy"), (Mode(linker="cvm"), "theano"),
                                           (Mode(linker="c|py", optimizer=None), "theano"), ("JAX", "jax"),
                                           ("C", "theano")])
def test_the_linker_picks_the_backend(mode, backend):
    """Theano's Python linker runs on numpy, its C linkers on PyTensor's C (the theano backend),
    PyTensor's JAX linker on jax; a backend given to function() wins over the linker."""
    x = T.dvector("x")
    f = mlcore.function([x], T.exp(x) * 2, mode=mode)
    assert f.backend.name == backend
    np.testing.assert_allclose(f([0.0, 1.0]), 2 * np.exp([0.0, 1.0]), rtol=1e-12)
    assert mlcore.function([x], x + 1, mode=mode, backend="numpy").backend.name == "numpy"


def test_pytensors_linker_objects_and_unknown_linkers():
    from pytensor.link.basic import PerformLinker
    from pytensor.link.jax.linker import JAXLinker
    from pytensor.link.vm import VMLinker
    assert [Mode(linker=linker).backend for linker in (PerformLinker(), VMLinker(), JAXLinker(), None)] == \
        ["numpy", "theano", "jax", None]
    with pytest.raises(ValueError, match="unknown linker 'numba'"):
        Mode(linker="numba")

def test_add_and_mul_take_any_number_of_terms():
    v = T.dvector("v")
    value = np.array([1.0, 2.0])
    np.testing.assert_array_equal(T.add(v, v, 1).eval({v: value}), value * 2 + 1)
    np.testing.assert_array_equal(T.mul(v, v, v).eval({v: value}), value ** 3)
    np.testing.assert_array_equal(T.add(v).eval({v: value}), value)


def test_config_profile_profiles_every_function_and_prints_at_exit():
    import subprocess
    import sys
    code = ("import numpy as np, mlcore, mlcore.tensor as T\n"
            "mlcore.config.profile = True\n"
            "x = T.dvector('x')\n"
            "f = mlcore.function([x], T.exp(x) * 2, backend='numpy')\n"
            "f(np.ones(3)); f(np.ones(3))\n"
            "print(f.profile.calls)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2"]
    assert "Function profiling" in done.stderr and "Time in 2 calls" in done.stderr


def test_config_device_reads_as_theanos_flag_and_as_mlcores_getter():
    """theano.config.device is a string ("cpu"; "cuda0" sets mlcore's "gpu"), and config.device() still
    reads it; config.on_unused_input is the default of function(on_unused_input=None)."""
    from mlcore import config
    before = config.device()
    try:
        assert config.device == "cpu" == config.device() and not config.device.startswith("cuda")
        config.device = "cuda0"
        assert config.device == "gpu" == config.device()
    finally:
        config.set_device(before)
    a, b = T.dvectors("a", "b")
    with mlcore.config.change_flags(on_unused_input="ignore"):
        assert float(mlcore.function([a, b], a.sum(), backend="numpy")([1.0, 2.0], [0.0])) == 3.0
    with pytest.raises(ValueError, match="not used"):
        mlcore.function([a, b], a.sum())
    assert (config.allow_gc, config.warn_float64, config.openmp) == (True, "ignore", False)


def test_a_debugmode_function_pickles():
    import pickle
    x = T.dvector("x")
    checked = pickle.loads(pickle.dumps(mlcore.function([x], x * 2, mode="DebugMode")))
    assert isinstance(checked, CheckedFunction) and checked([1.5]).tolist() == [3.0]


def test_theanos_warn_flags_and_dotted_names_in_change_flags():
    """rnnrbm.py sets theano.config.warn.subtensor_merge_bug; change_flags takes "warn.round" or
    PyTensor's warn__round, and restores them."""
    from mlcore import config
    config.warn.subtensor_merge_bug = False
    assert config.warn.round is False and config.warn.ignore_bug_before == "0.9"
    with mlcore.change_flags(**{"warn.round": True}):
        assert config.warn.round is True
    with mlcore.change_flags(warn__round=True, floatX="float64"):
        assert config.warn.round is True and config.floatX == "float64"
    assert config.warn.round is False and config.floatX == "float32"
