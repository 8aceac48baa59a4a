"""Distribution on the jax backend: where values live while a distribution is active.

mlcore.distribution says what to spread over which devices; here that becomes JAX's own
machinery, read at each call so a function compiled on one device also runs distributed:
- the batch inputs of a function (those mlcore.function(..., batch_inputs=True) marks: the
  x, y and sample weights of the model's steps) become arrays sharded along their batch axis
  over the mesh axis the distribution names, NamedSharding(mesh, P("batch")), built from each
  process's local rows;
- a variable created under the distribution holds an array laid out as its TensorLayout says
  (split over the mesh for ModelParallel's LayoutMap entries), and keeps it: a value already
  spread over the mesh's devices goes into a step as it is;
- every other input and shared value (weights made elsewhere, random keys) is replicated,
  NamedSharding(mesh, P()).
jax.jit then follows the data: XLA partitions the step over the mesh and inserts the
collectives (the all-reduce summing the gradients, the gathers of split weights: GSPMD), so no
collective is written by hand here.
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
    """This process's rows of a global batch, spread over the mesh's batch axis (the distribution's
    batch_dim_name) at position batch_axis, and copied along its other axes."""
    name = distribution._active.batch_dim_name
    rows, shards = value.shape[batch_axis], _local_shards(mesh, name)
    if rows % shards:
        where = "this process's %d devices" if jax.process_count() > 1 else "the %d devices"
        raise ValueError(("A batch of %d rows does not split evenly over " + where + " of the active "
                          "distribution's %r axis: use a batch size that is a multiple of %d, and as many "
                          "samples (a smaller last batch must divide too)") % (rows, shards, name, shards))
    spec = PartitionSpec(*[None] * batch_axis, name)
    return jax.make_array_from_process_local_data(NamedSharding(mesh, spec), value)


def _local_shards(mesh, axis_name):
    """How many positions along the mesh axis this process's devices cover."""
    axis = mesh.axis_names.index(axis_name)
    here = jax.process_index()
    return len({index[axis] for index, device in np.ndenumerate(mesh.devices) if device.process_index == here})


def to_jax_sharding(layout):
    """The NamedSharding of a TensorLayout (mlcore/distribution_layouts.py)."""
    if layout.device_mesh is None:
        raise ValueError("Cannot create sharding when device mesh is not set for TensorLayout %r" % (layout,))
    return NamedSharding(layout.device_mesh.backend_mesh, PartitionSpec(*layout.axes))


def distribute(value, target, what="A tensor"):
    """value laid out as target (a jax Sharding): a tracer is constrained to it; an array already
    laid out so is left as it is; anything else is put there (with several processes, process 0's
    value, so hosts that drew different initial weights still train one model)."""
    if isinstance(value, jax.core.Tracer):
        return jax.lax.with_sharding_constraint(value, target)
    if isinstance(value, jax.Array) and not value.is_deleted() and value.sharding.is_equivalent_to(target, value.ndim):
        return value
    value = np.asarray(value)
    _check_fits(target, value.shape, what)
    if jax.process_count() > 1:
        value = multihost_utils.broadcast_one_to_all(value)
    return jax.device_put(value, target)


def _check_fits(target, shape, what):
    """A clear error where a NamedSharding's spec does not fit the shape."""
    if not isinstance(target, NamedSharding):
        return
    spec = tuple(target.spec)
    if len(spec) > len(shape):
        raise ValueError("%s of shape %s cannot take the layout %s: it has more axes than the tensor"
                         % (what, shape, spec))
    for size, names in zip(shape, spec):
        names = () if names is None else (names,) if isinstance(names, str) else tuple(names)
        parts = int(np.prod([target.mesh.shape[n] for n in names]))
        if size % parts:
            raise ValueError("%s of shape %s cannot take the layout %s: a dimension of %d does not split "
                             "into %d equal parts" % (what, shape, spec, size, parts))


def on_mesh(value, mesh):
    """A shared value on the mesh: as it is where it is spread over the mesh's devices already (laid
    out by its TensorLayout, or updated by a step), else copied onto every device."""
    if isinstance(value, jax.Array) and not value.is_deleted() and value.sharding.device_set == set(mesh.devices.flat):
        return value
    return distribute(value, NamedSharding(mesh, PartitionSpec()))


def to_numpy(value):
    """A host copy; of an array spread over several processes' devices, this process's rows."""
    if not isinstance(value, jax.Array) or value.is_fully_addressable or value.is_fully_replicated:
        return np.asarray(value)
    local = multihost_utils.global_array_to_host_local_array(value, value.sharding.mesh, value.sharding.spec)
    return np.asarray(local)
