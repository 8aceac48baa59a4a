"""What the training workloads (A: MLP, B: convnets) compute, shared by every system.

A network is a stack of valid-convolution + tanh + max-pool layers, one tanh
hidden layer and a softmax output trained by plain SGD on the mean negative
log-likelihood. The MLP is the same network with no convolutions, so every
system implements one training step for both workloads. Data are NHWC
(channels last), kernels (height, width, in, out), convolution is
cross-correlation, and flattening is in NHWC order: the layout of Keras and of
mlcore's layers.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .harness import Workload


@dataclasses.dataclass(frozen=True)
class Conv:
    """A 'valid' conv of `filters` kernels of kernel x kernel, tanh, then pool x pool max-pool."""

    filters: int
    kernel: int
    pool: int


@dataclasses.dataclass(frozen=True)
class Net:
    name: str
    input_shape: tuple  # (features,) for an MLP, (height, width, channels) for a convnet
    convs: tuple = ()
    hidden: int = 500
    classes: int = 10

    def __post_init__(self):
        for conv, _, (h, w, _) in self.conv_layers():
            if h % conv.pool or w % conv.pool:
                raise ValueError(f"{self.name}: pool {conv.pool} must divide {h}x{w}")

    def conv_layers(self) -> list[tuple[Conv, tuple, tuple]]:
        """(conv, its input (h, w, c), its output before pooling (h, w, filters)) per layer."""
        layers, shape = [], tuple(self.input_shape)
        for conv in self.convs:
            h, w, _ = shape
            out = (h - conv.kernel + 1, w - conv.kernel + 1, conv.filters)
            layers.append((conv, shape, out))
            shape = (out[0] // conv.pool, out[1] // conv.pool, conv.filters)
        return layers

    @property
    def flat_shape(self) -> tuple:
        """The shape that the hidden layer flattens (NHWC order)."""
        if not self.convs:
            return tuple(self.input_shape)
        conv, _, (h, w, c) = self.conv_layers()[-1]
        return (h // conv.pool, w // conv.pool, c)

    @property
    def flat_size(self) -> int:
        return int(np.prod(self.flat_shape))

    def param_shapes(self) -> dict[str, tuple]:
        """Parameter shapes in layer order (the order of Keras's get_weights())."""
        shapes = {}
        for i, (conv, (_, _, c), _) in enumerate(self.conv_layers()):
            shapes[f"conv{i}_w"] = (conv.kernel, conv.kernel, c, conv.filters)
            shapes[f"conv{i}_b"] = (conv.filters,)
        shapes.update(dense0_w=(self.flat_size, self.hidden), dense0_b=(self.hidden,),
                      dense1_w=(self.hidden, self.classes), dense1_b=(self.classes,))
        return shapes

    def init_params(self, dtype: str, seed: int) -> dict[str, np.ndarray]:
        """Glorot-uniform weights and zero biases (the Keras defaults), seeded."""
        rng = np.random.default_rng(seed)
        params = {}
        for name, shape in self.param_shapes().items():
            if name.endswith("_b"):
                params[name] = np.zeros(shape, dtype)
                continue
            field = int(np.prod(shape[:-2]))  # kernel area; 1 for a dense matrix
            limit = np.sqrt(6.0 / (field * (shape[-2] + shape[-1])))
            params[name] = rng.uniform(-limit, limit, shape).astype(dtype)
        return params


@dataclasses.dataclass
class TrainCase:
    """One SGD problem: a net, a batch of synthetic data and the starting weights."""

    net: Net
    batch: int
    dtype: str
    lr: float = 0.01
    seed: int = 0
    params: dict = dataclasses.field(init=False, repr=False)  # the same for every batch size
    x: np.ndarray = dataclasses.field(init=False, repr=False)
    y: np.ndarray = dataclasses.field(init=False, repr=False)

    def __post_init__(self):  # made here so that no system's build time includes them
        self.params = self.net.init_params(self.dtype, self.seed)
        rng = np.random.default_rng([self.seed, self.batch])
        self.x = rng.uniform(0, 1, (self.batch, *self.net.input_shape)).astype(self.dtype)
        self.y = rng.integers(0, self.net.classes, self.batch).astype(np.int32)

    @property
    def group(self) -> str:
        return self.net.name

    @property
    def label(self) -> str:
        return f"batch {self.batch}"

    @property
    def items(self) -> int:
        return self.batch

    def describe(self) -> dict:
        return {"net": self.net.name, "batch": self.batch, "lr": self.lr,
                "input_shape": list(self.net.input_shape)}


def training_workload(name: str, title: str, nets_and_batches, quick) -> Workload:
    """A workload of TrainCases: `nets_and_batches` for a full run, `quick` for --quick."""
    def cases(is_quick: bool, dtype: str):
        for net, batches in (quick if is_quick else nets_and_batches):
            for batch in batches:
                yield TrainCase(net, batch, dtype)
    return Workload(name=name, title=title, unit="examples/s", cases=cases, min_time=1.0)
