"""mlcore's systems: the same math built once as an mlcore graph and compiled on each backend.

The training step is what a Theano user writes (symbolic inputs, shared
weights, mlcore.grad, SGD updates in mlcore.function); the elementwise case
is the expression on symbolic vectors.  Each is compared in the tables with
the hand-written program of the engine its backend runs on.
"""
from __future__ import annotations

import numpy as np

from .peers import blocks
from .systems import Unavailable, register

BACKENDS = (("numpy", "numpy"), ("theano", "pytensor"), ("jax", "jax"))


def _backend(name, device):
    import backends
    try:
        backend = backends.get_backend(name)
    except (ImportError, ValueError) as exc:
        raise Unavailable(str(exc)) from exc
    if device not in backend.devices():
        raise Unavailable(f"mlcore's {name} backend has no {device} device here")
    return backend


def _conv(x, w, shape, spec):
    from mlcore.graph.ops.nn import conv2d
    return conv2d(x, w)


def _as_engine_holds_them(backend, device, *arrays):
    """The data as the hand-written program of the backend's engine holds it: on the device, once,
    where jax runs the function (mlcore's jax backend, and the theano backend's GPU path through
    PyTensor's JAX linker), which take device arrays as they are; numpy arrays otherwise."""
    if backend != "jax" and device != "gpu":
        return arrays
    import jax
    return jax.device_put(arrays, jax.devices(device)[0])


def train(case, device, backend):
    """One SGD step, compiled once: outputs the loss before the update."""
    _backend(backend, device)
    import mlcore
    import mlcore.tensor as T
    params = {k: mlcore.shared(np.array(v), name=k) for k, v in case.params.items()}
    x = T.tensor(case.dtype, shape=(None,) + tuple(case.net.input_shape), name="x")
    y = T.lvector("y")
    loss = blocks.loss(T, case.net, params, x, y, _conv)
    grads = mlcore.grad(loss, list(params.values()))
    updates = [(p, p - case.lr * g) for p, g in zip(params.values(), grads)]
    step_fn = mlcore.function([x, y], loss, updates=updates, backend=backend, device=device)
    data, labels = _as_engine_holds_them(backend, device, case.x, case.y.astype("int64"))
    return lambda: float(step_fn(data, labels))


def elementwise(case, device, backend):
    _backend(backend, device)
    import mlcore
    import mlcore.tensor as T
    a, b = T.vector("a", dtype=case.dtype), T.vector("b", dtype=case.dtype)
    # borrow=True: the result stays where it was computed, as the hand-written programs leave it
    # (on a GPU a copy to the host would take longer than the expression itself).
    result = mlcore.Out(case.fn(a, b), borrow=True)
    fn = mlcore.function([a, b], result, backend=backend, device=device, on_unused_input="ignore")
    x, y = _as_engine_holds_them(backend, device, case.a, case.b)
    return lambda: _ready(fn(x, y))


def _ready(value):
    """The value once computed: jax returns before its device has finished, as jax_impl waits."""
    wait = getattr(value, "block_until_ready", None)
    return value if wait is None else wait()


for _backend_name, _engine in BACKENDS:
    for _device in ("cpu", "gpu"):
        for _workload, _factory in (("mlp", train), ("convnet", train), ("elementwise", elementwise)):
            register(_workload, "mlcore-" + _backend_name, engine=_engine, device=_device,
                     factory=lambda case, device, f=_factory, b=_backend_name: f(case, device, b))
