"""Ctrl-C during a call that donates its buffers waits for the call to store its results."""
import signal
import threading
import time

import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.interrupts import GUARD


def interrupt_self():
    """SIGINT to this (the main) thread: delivered before pthread_kill returns.  os.kill's signal goes to
    the process, and may land on one of jax's threads, whose handler call the main thread then sees late."""
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


def test_a_sigint_inside_the_block_is_raised_at_its_end():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with GUARD:
            interrupt_self()
            done.append("the rest of the block ran")
    assert done == ["the rest of the block ran"]


def test_outside_a_block_sigint_raises_at_once_as_python_does():
    with GUARD:
        pass
    with pytest.raises(KeyboardInterrupt):
        interrupt_self()
        time.sleep(5)    # a signal delivered late (a loaded machine) interrupts the sleep: no wait when it works


def test_a_users_handler_is_kept_and_restored():
    seen = []
    previous = signal.signal(signal.SIGINT, lambda *args: seen.append("user"))
    try:
        with pytest.raises(KeyboardInterrupt):
            with GUARD:
                interrupt_self()
        assert signal.getsignal(signal.SIGINT) is not GUARD.handler
        interrupt_self()
        assert seen == ["user"]
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_an_interrupted_donating_step_still_stores_its_update(backend):
    w = mlcore.shared(np.zeros(3, dtype="float32"), name="w")
    x = T.fvector("x")
    calls = []

    def interrupt_during_the_call(value):
        calls.append(1)
        interrupt_self()
        return value

    step = mlcore.function([x], T.sum(w), updates=[(w, w + x)], backend=backend)
    original = step._fn
    step._fn = lambda *args: original(*[interrupt_during_the_call(a) for a in args])
    with pytest.raises(KeyboardInterrupt):
        step(np.ones(3, dtype="float32"))
    assert calls
    np.testing.assert_array_equal(w.get_value(), np.ones(3))
    step._fn = original
    step(np.ones(3, dtype="float32"))
    np.testing.assert_array_equal(w.get_value(), np.full(3, 2.0))
