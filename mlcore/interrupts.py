"""Holding Ctrl-C while a compiled call that consumes its donated buffers runs.

Such a call must store its new shared values once it has started, or the model
is left with deleted buffers.  Swapping the SIGINT handler around every call
costs two system calls per training step, so the guard installs its handler
once, where Python's default one is in place, and then only counts how deep it
is: outside a guarded call its handler raises KeyboardInterrupt as Python's does.
"""
import signal
import threading

import _signal   # signal.getsignal's C function: signal's own wrapper costs 6 us (an enum lookup that fails)

MAIN_THREAD = threading.main_thread().ident


class InterruptGuard:
    """`with GUARD:` delays a Ctrl-C that arrives inside the block to the block's end."""

    def __init__(self):
        self.depth = 0
        self.caught = False
        self.restore = []   # per open block: the user's handler to put back, or None
        self.handler = self._handle   # one bound method, so that `is` finds it installed

    def _handle(self, signum, frame):
        if self.depth:
            self.caught = True
        else:
            signal.default_int_handler(signum, frame)

    def __enter__(self):
        if threading.get_ident() != MAIN_THREAD:
            return self   # signals reach the main thread only
        current = _signal.getsignal(signal.SIGINT)
        if current is signal.default_int_handler:
            signal.signal(signal.SIGINT, self.handler)   # once: it stays, and acts as the default outside
            current = self.handler
        if current is not self.handler:   # the user's own handler: ours replaces it for this block only
            signal.signal(signal.SIGINT, self.handler)
        self.restore.append(None if current is self.handler else current)
        self.depth += 1
        return self

    def __exit__(self, *exc_info):
        if threading.get_ident() != MAIN_THREAD:
            return False
        previous = self.restore.pop()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        self.depth -= 1
        if not self.depth and self.caught:
            self.caught = False
            raise KeyboardInterrupt
        return False


GUARD = InterruptGuard()
