"""The registry of benchmarked systems: the one plug-in point of the suite.

A *system* is a program that runs a workload's case: a name, the engine that
executes it (``numpy``, ``pytensor``, ``jax``, ``torch``, ...), a device
(``cpu`` or ``gpu``) and a factory. Tables compare every system with the
hand-written program of its own engine, so adding a system is one call in a
module listed in PLUGINS (mlcore's systems belong in benchmarks/mlcore_impl.py)::

    from benchmarks.systems import lazy, register
    register("mlp", "mlcore-jax", engine="jax", device="cpu",
             factory=lazy("benchmarks.mlcore_steps", "train", backend="jax"))

``factory(case, device)`` builds the program (compiling it if the engine
compiles) and returns ``step``, a callable without arguments that does one
unit of work and returns only when that work is done:

* training workloads (``mlp``, ``convnet``): ``case`` is a
  ``benchmarks.training.TrainCase``; one step is one SGD update on
  ``case.x, case.y`` starting from ``case.params`` (copy them: every system
  starts from the same numpy arrays) and returns the loss *before* the update
  as a Python float;
* ``elementwise``: ``case`` is a ``benchmarks.elementwise.ElementwiseCase``;
  one step evaluates ``case.fn(case.a, case.b)`` (``case.expression`` is the
  same expression as text) and returns the result array, synchronised.

A factory that cannot run here raises ``Unavailable(reason)``; the tables then
list the system as "not available: <reason>". Nothing else needs stubbing.
"""
from __future__ import annotations

import dataclasses
import importlib
from typing import Any, Callable

Step = Callable[[], Any]
Factory = Callable[[Any, str], Step]

DEVICES = ("cpu", "gpu")
# Modules imported for their register() calls. A plug-in that does not exist
# yet is skipped; any other import error is a bug and is raised.
PLUGINS = ("benchmarks.peers", "benchmarks.mlcore_impl")


class Unavailable(Exception):
    """Raised by a factory whose engine, library or device is missing here."""


@dataclasses.dataclass(frozen=True)
class System:
    """One registered program for one workload on one device."""

    workload: str
    name: str
    engine: str
    device: str
    factory: Factory = dataclasses.field(compare=False, repr=False)
    handwritten: bool = False  # the hand-written ceiling of its engine


_REGISTRY: list[System] = []


def register(workload: str, name: str, *, engine: str, device: str,
             factory: Factory, handwritten: bool = False) -> System:
    """Add a system; registering the same (workload, name, device) twice replaces it."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, not {device!r}")
    system = System(workload, name, engine, device, factory, handwritten)
    _REGISTRY[:] = [s for s in _REGISTRY
                    if (s.workload, s.name, s.device) != (workload, name, device)]
    _REGISTRY.append(system)
    return system


def systems(workload: str | None = None) -> list[System]:
    """Registered systems in registration order, optionally for one workload."""
    return [s for s in _REGISTRY if workload is None or s.workload == workload]


def lazy(module: str, attr: str, **options) -> Factory:
    """`module.attr(case, device, **options)`, imported on first use.

    So a missing engine only marks its own systems unavailable, and registering
    costs no import.
    """
    def factory(case, device):
        try:
            target = getattr(importlib.import_module(module), attr)
        except ImportError as exc:
            raise Unavailable(str(exc)) from exc
        return target(case, device, **options)
    return factory


def load_plugins(modules=PLUGINS) -> None:
    """Import the plug-in modules so that their register() calls run."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
