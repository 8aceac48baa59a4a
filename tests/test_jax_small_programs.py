"""The jax backend's CPU options for a loop over small arrays: XLA's loop emitters, with its YNNPACK
library fusions, which multiply small matrices faster than XLA's own dot (a recurrent step's
h @ U).  Only a program holding a huge array turns them off (tests/test_function.py)."""
import numpy as np
import pytest

import mlcore.tensor as T
from mlcore import function, scan, shared

pytest.importorskip("jax")


def test_small_programs_keep_ynnpack_library_fusions():
    from backends.jax.compiler import CPU_COMPILER_OPTIONS, compiler_options
    small = compiler_options("cpu", True)
    if small is None or small == compiler_options("cpu"):
        pytest.skip("this XLA does not know the CPU options")
    assert "xla_cpu_experimental_ynn_fusion_type" not in small             # XLA's default: on
    assert CPU_COMPILER_OPTIONS["xla_cpu_experimental_ynn_fusion_type"] == ""   # huge programs: off


def test_recurrent_step_of_small_arrays_runs_its_product_in_ynnpack():
    """A SimpleRNN-style loop, h_t = tanh(x_t + h_{t-1} @ U), against a numpy loop."""
    from backends.jax.compiler import compiler_options
    rng = np.random.default_rng(0)
    u = shared(rng.normal(0, 0.3, (16, 16)).astype("float32"), name="u")
    x, h0 = T.tensor3("x", "float32"), T.fmatrix("h0")
    hs, _ = scan(lambda row, h: T.tanh(row + T.dot(h, u)), sequences=x, outputs_info=h0)
    fn = function([x, h0], hs, backend="jax")
    xs, h = rng.normal(0, 1, (7, 4, 16)).astype("float32"), np.zeros((4, 16), "float32")
    expected = []
    for row in xs:
        h = np.tanh(row + h @ u.get_value())
        expected.append(h)
    np.testing.assert_allclose(fn(xs, np.zeros((4, 16), "float32")), np.stack(expected), rtol=1e-5, atol=1e-6)
    compiled = fn._fn.jitted.lower(xs, np.zeros((4, 16), "float32"), u.get_value()).compile().as_text()
    if compiler_options("cpu", True) is not None:
        assert "ynn_fusion" in compiled
