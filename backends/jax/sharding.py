"""Data parallelism on the jax backend: where values live while a distribution is active.

mlcore.distribution says what to spread over which devices; here that becomes JAX's own
machinery, read at each call so a function compiled on one device also runs distributed:
- the batch inputs of a function (those mlcore.function(..., batch_inputs=True) marks: the
  x, y and sample weights of the model's steps) become arrays sharded along their batch axis
  over the mesh, NamedSharding(mesh, P("batch")), built from each process's local rows;
- every other input and every shared value (weights, optimizer state, random keys) is
  replicated, NamedSharding(mesh, P()).
jax.jit then follows the data: XLA partitions the step over the mesh and inserts the
all-reduce that sums the gradients (GSPMD), so no collective is written by hand here.
"""
import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from mlcore import distribution


def to_jax_mesh(devices, axis_names):
    """A jax Mesh from a grid of jax devices or "type:id" names."""
    found = {"%s:%d" % (d.platform, d.id): d for d in jax.devices(_platform(devices.flat[0]))}

    def lookup(device):
        if isinstance(device, jax.Device):
            return device
        if str(device) not in found:
            raise ValueError("No device %r here; devices: %s" % (device, ", ".join(found)))
        return found[str(device)]
    return Mesh(np.vectorize(lookup, otypes=[object])(devices), tuple(axis_names))


def _platform(device):
    return device.platform if isinstance(device, jax.Device) else str(device).split(":")[0]


def active_mesh():
    """The jax Mesh of the active distribution, or None on one device (checked on every call)."""
    active = distribution._active
    return None if active is None else active.device_mesh.backend_mesh


def batch_inputs(fgraph):
    """How many leading inputs of fgraph have a batch axis (set by mlcore.function)."""
    return getattr(fgraph, "batch_inputs", 0)


def place(inputs, mesh, n_batched, skip=(), batch_axis=0):
    """The host (numpy) inputs on the mesh: the first n_batched split along batch_axis, the rest
    replicated; values in skip (jit static arguments) and device arrays are left as they are."""
    replicated = NamedSharding(mesh, PartitionSpec())
    placed = []
    for k, value in enumerate(inputs):
        if k in skip or not isinstance(value, np.ndarray):
            placed.append(value)
        elif k < n_batched:
            placed.append(_split(value, mesh, batch_axis))
        else:
            placed.append(jax.device_put(value, replicated))
    return placed


def _split(value, mesh, batch_axis):
    """This process's rows of a global batch, spread over the mesh along batch_axis."""
    rows, local = value.shape[batch_axis], len(mesh.local_devices)
    if rows % local:
        where = "this process's %d devices" if jax.process_count() > 1 else "the %d devices"
        raise ValueError(("A batch of %d rows does not split evenly over " + where + " of the active "
                          "distribution: use a batch size that is a multiple of %d, and as many samples "
                          "(a smaller last batch must divide too)") % (rows, local, local))
    spec = PartitionSpec(*[None] * batch_axis, mesh.axis_names[0])
    return jax.make_array_from_process_local_data(NamedSharding(mesh, spec), value)


def replicate(value, mesh):
    """A shared value copied onto every device of the mesh.  With several processes, every copy
    is process 0's value, so hosts that drew different initial weights still train one model."""
    target = NamedSharding(mesh, PartitionSpec())
    if isinstance(value, jax.Array) and not value.is_deleted() and value.sharding.is_equivalent_to(target, value.ndim):
        return value
    return jax.device_put(multihost_utils.broadcast_one_to_all(np.asarray(value)), target)


def to_numpy(value):
    """A host copy; of an array spread over several processes' devices, this process's rows."""
    if not isinstance(value, jax.Array) or value.is_fully_addressable or value.is_fully_replicated:
        return np.asarray(value)
    local = multihost_utils.global_array_to_host_local_array(value, value.sharding.mesh, value.sharding.spec)
    return np.asarray(local)
