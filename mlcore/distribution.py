"""Training across devices and hosts, with Keras 3's keras.distribution names.

    mlcore.distribution.set_distribution(mlcore.distribution.DataParallel())
    model.fit(x, y, batch_size=64)      # each batch split over all devices

This module only says *what* to distribute; the jax backend does it with JAX's own
machinery (backends/jax/sharding.py): a jax.sharding.Mesh over the devices, the batch
inputs of the model's train, test and predict steps sharded along the batch axis, each
variable laid out as the distribution says (DataParallel: replicated; ModelParallel: by its
LayoutMap, so a large kernel lives split over the devices), and XLA partitioning each step
and inserting the collectives.  Other backends refuse a distribution rather than silently
running on one device.
"""
import os
from contextlib import contextmanager

import numpy as np

from mlcore.distribution_layouts import LayoutMap, TensorLayout

_active = None


def _jax():
    try:
        import jax
    except ImportError:
        raise ImportError("mlcore.distribution runs on the jax backend, and jax is not installed: "
                          "pip install 'mlcore[jax]'") from None
    return jax


def list_devices(device_type=None):
    """The devices as "type:id" strings ("gpu:0"), of every host after initialize().
    device_type: "cpu", "gpu" or "tpu"; by default the accelerators if any, else the CPUs."""
    return ["%s:%d" % (d.platform, d.id) for d in _jax().devices(device_type and device_type.lower())]


def get_device_count(device_type=None):
    return len(list_devices(device_type))


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Join the processes of a multi-host job (jax.distributed.initialize); call it first thing.

    job_addresses: "host:port" of process 0 (the coordinator), or every process's address
    comma-separated, of which the first is used.  Unset arguments come from the
    MLCORE_DISTRIBUTION_JOB_ADDRESSES / _NUM_PROCESSES / _PROCESS_ID variables, or else JAX
    detects them itself (Cloud TPU, SLURM, Open MPI).
    """
    env = os.environ.get
    job_addresses = job_addresses or env("MLCORE_DISTRIBUTION_JOB_ADDRESSES")
    if num_processes is None and env("MLCORE_DISTRIBUTION_NUM_PROCESSES"):
        num_processes = int(env("MLCORE_DISTRIBUTION_NUM_PROCESSES"))
    if process_id is None and env("MLCORE_DISTRIBUTION_PROCESS_ID"):
        process_id = int(env("MLCORE_DISTRIBUTION_PROCESS_ID"))
    addresses = job_addresses.split(",") if job_addresses else [None]
    if num_processes is not None and len(addresses) > 1 and len(addresses) != num_processes:
        raise ValueError("job_addresses lists %d processes but num_processes is %d" % (len(addresses), num_processes))
    _jax().distributed.initialize(coordinator_address=addresses[0], num_processes=num_processes,
                                  process_id=process_id)


class DeviceMesh:
    """Devices arranged in a named grid, as jax.sharding.Mesh: DeviceMesh((8,), ["batch"])."""

    def __init__(self, shape, axis_names, devices=None):
        shape, axis_names = tuple(shape), list(axis_names)
        if not shape or len(shape) != len(axis_names):
            raise ValueError("A DeviceMesh needs one axis name per dimension; got shape=%s, axis_names=%s"
                             % (shape, axis_names))
        devices = np.array(list_devices() if devices is None else devices, dtype=object)
        if int(np.prod(shape)) != devices.size:
            raise ValueError("DeviceMesh shape %s needs %d devices, got %d" % (shape, np.prod(shape), devices.size))
        self.shape, self.axis_names, self.devices = shape, axis_names, devices.reshape(shape)
        self._backend_mesh = None

    @property
    def backend_mesh(self):
        """The jax.sharding.Mesh, made once."""
        if self._backend_mesh is None:
            from backends.jax.sharding import to_jax_mesh
            self._backend_mesh = to_jax_mesh(self.devices, self.axis_names)
        return self._backend_mesh

    def __getstate__(self):
        """Pickled with "type:id" names, not jax's devices (which do not pickle): a pickled variable
        keeps its layout."""
        names = np.vectorize(lambda d: d if isinstance(d, str) else "%s:%d" % (d.platform, d.id), otypes=[object])
        return dict(self.__dict__, devices=names(self.devices), _backend_mesh=None)

    def __repr__(self):
        return "<DeviceMesh shape=%s, axis_names=%s>" % (self.shape, self.axis_names)


class Distribution:
    """How a model's variables and data are spread over a DeviceMesh; the batch is split along the
    mesh axis batch_dim_name.  auto_shard_dataset is Keras's switch for splitting a tf.data dataset
    between processes: mlcore takes no datasets apart, each process feeds its own rows (as Keras
    with auto_shard_dataset=False), so it is kept for the API only."""

    def __init__(self, device_mesh, batch_dim_name=None, auto_shard_dataset=True):
        if batch_dim_name is not None and batch_dim_name not in device_mesh.axis_names:
            raise ValueError("batch_dim_name %r is not an axis of %r" % (batch_dim_name, device_mesh))
        self.device_mesh, self.batch_dim_name = device_mesh, batch_dim_name
        self.auto_shard_dataset = auto_shard_dataset

    @property
    def num_processes(self):
        return _jax().process_count()

    @property
    def num_model_replicas(self):
        """How many copies of the model the batch is split between: the size of the batch axis."""
        return self.device_mesh.shape[self.device_mesh.axis_names.index(self.batch_dim_name)]

    def get_data_layout(self, data_shape):
        """The layout of a batch of this shape: split along its first axis."""
        return TensorLayout([self.batch_dim_name] + [None] * (len(data_shape) - 1), self.device_mesh)

    def get_variable_layout(self, variable):
        """The layout a variable gets when it is created: the one it was given (keras.Variable(layout=)),
        else replicated."""
        if getattr(variable, "_layout", None) is not None:
            return variable._layout
        return TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path):
        """The layout for the intermediate tensor at path, or None to leave it to XLA."""
        return None

    @contextmanager
    def scope(self):
        """Make this the active distribution inside a with-block, restoring the previous one after."""
        previous = distribution()
        set_distribution(self)
        try:
            yield self
        finally:
            set_distribution(previous)

    def __repr__(self):
        return "<%s device_mesh=%r>" % (type(self).__name__, self.device_mesh)


class DataParallel(Distribution):
    """Replicate the model on every device and split each batch along its first axis.

    The batch given to fit/evaluate/predict is the global one (on several hosts: this process's
    part of it) and must divide by the number of devices (on several hosts: this process's ones).
    Gradients are summed over the devices by XLA, so training matches one device.
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if device_mesh is not None and devices is not None:
            raise ValueError("Give DataParallel either device_mesh or devices, not both")
        if device_mesh is None:
            devices = list_devices() if devices is None else list(devices)
            device_mesh = DeviceMesh((len(devices),), ["batch"], devices)
        if not isinstance(device_mesh, DeviceMesh):
            raise ValueError("device_mesh must be a DeviceMesh, got %r" % (device_mesh,))
        if len(device_mesh.shape) != 1:
            raise ValueError("DataParallel needs a 1-D DeviceMesh, got shape %s" % (device_mesh.shape,))
        super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)


class ModelParallel(Distribution):
    """Split variables over the devices as a LayoutMap says, and the batch along batch_dim_name
    (by default the mesh's first axis); variables no key matches are replicated.

        mesh = DeviceMesh((2, 4), ["batch", "model"])      # 2 replicas of a model split 4 ways
        layout_map = LayoutMap(mesh)
        layout_map[".*dense.*kernel"] = (None, "model")
        layout_map[".*dense.*bias"] = ("model",)
        with ModelParallel(layout_map=layout_map).scope():
            model = ...                                    # its variables are created split

    The layouts apply when variables are created, so build the model (and its optimizer) under the
    distribution.  device_mesh= is accepted as Keras accepts it, for older code; the layout map's
    mesh is the one used.
    """

    def __init__(self, *, layout_map=None, batch_dim_name=None, auto_shard_dataset=True, **kwargs):
        kwargs.pop("device_mesh", None)
        if kwargs:
            raise TypeError("ModelParallel got unexpected keyword arguments: %s" % sorted(kwargs))
        if layout_map is None:
            raise ValueError("You must specify a layout_map argument.")
        if not isinstance(layout_map, LayoutMap):
            raise ValueError("Argument `layout_map` must be a `LayoutMap` instance. Received: layout_map=%s"
                             % (layout_map,))
        if not isinstance(layout_map.device_mesh, DeviceMesh):
            raise ValueError("The layout_map of a ModelParallel needs a DeviceMesh, got %r" % (layout_map.device_mesh,))
        mesh = layout_map.device_mesh
        super().__init__(mesh, batch_dim_name or mesh.axis_names[0], auto_shard_dataset)
        self._layout_map = layout_map
        processes, replicas = self.num_processes, self.num_model_replicas
        if processes > replicas and processes % replicas:
            raise ValueError("If `num_processes` is greater than `num_model_replicas`, `num_processes` must be "
                             "divisible by `num_model_replicas`. Got num_processes=%d, num_model_replicas=%d."
                             % (processes, replicas))

    def get_variable_layout(self, variable):
        if getattr(variable, "_layout", None) is not None:
            return variable._layout
        return self._layout_map[variable.path] or super().get_variable_layout(variable)

    def get_tensor_layout(self, path):
        return self._layout_map[path]


def distribute_tensor(tensor, layout):
    """The tensor laid out over the devices as layout (a TensorLayout or a jax Sharding) says: an
    array is moved there (left as it is when it already is), a jax tracer is constrained to it
    (jax.lax.with_sharding_constraint).  A symbolic tensor is returned as it is, as Keras returns a
    KerasTensor: the model's steps leave intermediate layouts to XLA."""
    from mlcore.graph.basic import SharedVariable, Variable
    if isinstance(tensor, Variable) and not isinstance(tensor, SharedVariable):
        return tensor
    if isinstance(tensor, SharedVariable):
        tensor = tensor.container_value
    return lay_out(tensor, layout)


def lay_out(value, layout, what="A tensor"):
    """distribute_tensor of an array or tracer; errors name `what` (a variable's path)."""
    from backends.jax.sharding import distribute
    return distribute(value, layout.backend_layout if isinstance(layout, TensorLayout) else layout, what)


def distribution():
    """The active distribution, or None."""
    return _active


def set_distribution(value):
    """Make value (a Distribution, or None for one device) the global distribution."""
    global _active
    if value is not None and not isinstance(value, Distribution):
        raise TypeError("set_distribution expects a Distribution such as DataParallel(), got %r" % (value,))
    _active = value


def check_backend(backend_name, what):
    """Refuse to run `what` on one device of a non-jax backend while a distribution is active."""
    if _active is not None and backend_name != "jax":
        raise RuntimeError("%s compiles on the %s backend, but %r is active: mlcore.distribution runs on the "
                           "jax backend only (mlcore.config.set_backend('jax') or compile(backend='jax'))"
                           % (what, backend_name, _active))
