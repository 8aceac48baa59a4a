"""keras.device: Keras's device names ("cpu:0", "gpu:0", "cuda:0") for a block of work.

mlcore compiles a function for one device kind, "cpu" or "gpu" (the first device of that kind);
the functions compiled inside the block, such as a model's predict or train step built at its
first call there, run on the device named.
"""
import re

from mlcore import config

_DEVICE_NAME = re.compile(r"^(cpu|gpu|cuda)(?::(\d+))?$")


def device(device_name):
    """with keras.device("gpu:0"): ... compiles the block's functions for that device."""
    match = _DEVICE_NAME.match(str(device_name).lower()) if isinstance(device_name, str) else None
    if match is None:
        raise ValueError("Invalid value for argument `device_name`. Expected a string like 'gpu:0' or 'cpu'. "
                         "Received: device_name=%r" % (device_name,))
    kind, index = match.groups()
    if index not in (None, "0"):
        raise ValueError("keras.device(%r): mlcore runs on the first device of each kind ('cpu:0', 'gpu:0'); "
                         "spread work over several devices with keras.distribution" % (device_name,))
    return config.device_scope("cpu" if kind == "cpu" else "gpu")
