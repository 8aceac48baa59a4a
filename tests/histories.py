"""Comparing Keras-style History dicts ({metric: [value per epoch]}) key by key, epoch by epoch."""
import numpy as np


def assert_histories_close(got, expected, rtol=1e-6, atol=0.0):
    assert list(got) == list(expected), "metrics differ: %s vs %s" % (list(got), list(expected))
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=rtol, atol=atol, err_msg=key)
