"""The non-mlcore systems: each engine's hand-written program and the libraries compared with it.

Each implementation module defines `train(case, device)` for the training
workloads and/or `elementwise(case, device)`; it is imported only when first
used, so an engine that is not installed just shows as not available.
"""
from ..systems import lazy, register

ENTRY_POINTS = {"mlp": "train", "convnet": "train", "elementwise": "elementwise"}
TRAINING, ALL = ("mlp", "convnet"), ("mlp", "convnet", "elementwise")
CPU, CPU_GPU = ("cpu",), ("cpu", "gpu")

# name, engine, module, workloads, devices, hand-written ceiling of its engine
PEERS = (
    ("numpy", "numpy", "numpy_impl", ALL, CPU_GPU, True),  # CuPy on a GPU
    ("numexpr", "numexpr", "numexpr_impl", ("elementwise",), CPU, True),
    ("pytensor", "pytensor", "pytensor_impl", ALL, CPU, True),
    ("jax", "jax", "jax_impl", ALL, CPU_GPU, True),
    ("keras", "jax", "keras_impl", TRAINING, CPU_GPU, False),
    ("torch", "torch", "torch_impl", ALL, CPU_GPU, True),
)

for name, engine, module, workloads, devices, handwritten in PEERS:
    for workload in workloads:
        for device in devices:
            register(workload, name, engine=engine, device=device, handwritten=handwritten,
                     factory=lazy(f"{__name__}.{module}", ENTRY_POINTS[workload]))
