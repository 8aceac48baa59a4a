"""The published numbers our tables are set beside.

Bergstra et al., "Theano: A CPU and GPU Math Expression Compiler", SciPy 2010:
CPU numbers on an Intel Core2 Duo, one thread, float64; GPU numbers on an
NVIDIA GTX 285, float32. Each entry names the engine of ours that continues
that program (PyTensor continues Theano), or None where we have no counterpart.
"""
from __future__ import annotations

import dataclasses

SOURCE = "Bergstra et al., SciPy 2010 (Core2 Duo 1 thread float64; GTX 285 float32)"


@dataclasses.dataclass(frozen=True)
class PaperValue:
    program: str
    engine: str | None
    device: str
    value: float


@dataclasses.dataclass(frozen=True)
class PaperTable:
    group: str  # our case group the paper measured
    case: str  # our case label the paper measured
    metric: str  # "throughput" (examples/s) or "speedup" (vs NumPy)
    values: tuple


PAPER = {
    "mlp": [PaperTable("mlp", "batch 60", "throughput", (
        PaperValue("Theano (CPU)", "pytensor", "cpu", 6574),
        PaperValue("NumPy", "numpy", "cpu", 3580),
        PaperValue("MATLAB", None, "cpu", 4093),
        PaperValue("Torch5", "torch", "cpu", 876),
        PaperValue("Theano (GPU)", "pytensor", "gpu", 38310),
    ))],
    "convnet": [PaperTable("convlarge", "batch 1", "throughput", (
        PaperValue("Theano (CPU)", "pytensor", "cpu", 16.5),
        PaperValue("EBLearn", None, "cpu", 7.44),
        PaperValue("Torch5", "torch", "cpu", 6.83),
        PaperValue("Theano (GPU)", "pytensor", "gpu", 79.0),
    ))],
    "elementwise": [
        PaperTable(expression, "1e7", "speedup", (PaperValue("Theano (CPU)", "pytensor", "cpu", value),))
        for expression, value in (("a**2 + b**2 + 2*a*b", 5.5), ("2*a + 3*b", 2.7),
                                  ("a + 1", 1.0), ("2*a + b**10", 15.8))
    ],
}
