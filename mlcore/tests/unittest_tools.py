"""theano.tests.unittest_tools (utt): what the tests of a new op call, as Theano's tutorial writes them.

    class TestDouble(utt.InferShapeTester):
        def test_infer_shape(self):
            x = T.matrix()
            self._compile_and_check([x], [DoubleOp()(x)], [np.random.rand(5, 6)], DoubleOp)

verify_grad checks an op's gradient by finite differences (mlcore.gradient.verify_grad, seeded as
Theano's tests are); InferShapeTester._compile_and_check checks that the outputs' shapes, computed
as a graph of their own, equal the real ones and that the op itself is not run for them (its
infer_shape answers)."""
import unittest

import numpy as np

from mlcore import gradient
from mlcore.function import function

DEFAULT_SEED = 666      # Theano's config.unittests.rseed


def fetch_seed(pseed=None):
    """The seed the tests draw with: pseed, else Theano's default."""
    return DEFAULT_SEED if pseed is None else int(pseed)


def seed_rng(pseed=None):
    """Seed numpy's global generator as Theano's tests do; returns the seed."""
    seed = fetch_seed(pseed)
    np.random.seed(seed)
    return seed


def verify_grad(op, pt, n_tests=2, rng=None, *args, **kwargs):
    """gradient.verify_grad with a generator seeded by fetch_seed() when none is given."""
    rng = np.random.RandomState(fetch_seed()) if rng is None else rng
    return gradient.verify_grad(op, pt, n_tests, rng, *args, **kwargs)


def assert_allclose(expected, value, rtol=None, atol=None):
    """expected and value equal within the tolerances of the least precise of their dtypes."""
    expected, value = np.asarray(expected), np.asarray(value)
    single = np.float32 in (expected.dtype, value.dtype) or np.float16 in (expected.dtype, value.dtype)
    default_rtol, default_atol = (1e-4, 1e-5) if single else (1e-7, 1e-8)
    np.testing.assert_allclose(value, expected, rtol=default_rtol if rtol is None else rtol,
                               atol=default_atol if atol is None else atol)


class InferShapeTester(unittest.TestCase):
    """A TestCase whose _compile_and_check tests an op's infer_shape."""

    def setUp(self):
        seed_rng()
        self.mode = None

    def _compile_and_check(self, inputs, outputs, numeric_inputs, cls, excluding=None, warn=True, check_topo=True):
        """The shapes of outputs, compiled as a function of their own, equal those of the outputs
        computed; with check_topo, that function holds no node of class cls."""
        values = function(inputs, outputs, on_unused_input="ignore")(*numeric_inputs)
        shapes_fn = function(inputs, [o.shape for o in outputs], on_unused_input="ignore")
        for k, (value, shape) in enumerate(zip(values, shapes_fn(*numeric_inputs))):
            self.assertEqual(tuple(np.shape(value)), tuple(int(d) for d in shape),
                             "output %d: its shape graph says %s, computing it gives %s" % (k, tuple(shape),
                                                                                            np.shape(value)))
        if check_topo:
            found = [node for node in shapes_fn.maker.fgraph.toposort() if isinstance(node.op, cls)]
            self.assertFalse(found, "the shapes of the outputs still compute %s: its infer_shape was not used"
                             % (found,))
