"""Workload C: the paper's Fig. 7, elementwise expressions timed against plain NumPy.

NumPy makes one full-size temporary per operation; a compiler that fuses the
expression into one loop (PyTensor, XLA, numexpr) reads a and b once. Both
dtypes always run: float64 as in the paper, and float32.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .harness import Workload

# The text (for numexpr and the tables) and the same expression as a function
# of arrays or symbols (for every other system).
EXPRESSIONS = {
    "a**2 + b**2 + 2*a*b": lambda a, b: a**2 + b**2 + 2*a*b,
    "2*a + 3*b": lambda a, b: 2*a + 3*b,
    "a + 1": lambda a, b: a + 1,
    "2*a + b**10": lambda a, b: 2*a + b**10,
}
SIZES = (1_000, 5_000, 10_000, 50_000, 100_000, 1_000_000, 10_000_000)
QUICK_SIZES = (1_000, 100_000)
DTYPES = ("float64", "float32")


@dataclasses.dataclass
class ElementwiseCase:
    expression: str
    size: int
    dtype: str
    seed: int = 0
    a: np.ndarray = dataclasses.field(init=False, repr=False)
    b: np.ndarray = dataclasses.field(init=False, repr=False)

    def __post_init__(self):  # made here so that no system's build time includes them
        rng = np.random.default_rng([self.seed, self.size])
        self.a, self.b = (rng.uniform(0, 1, self.size).astype(self.dtype) for _ in range(2))

    @property
    def fn(self):
        return EXPRESSIONS[self.expression]

    @property
    def group(self) -> str:
        return self.expression

    @property
    def label(self) -> str:
        return f"{self.size:.0e}".replace("e+0", "e")

    @property
    def items(self) -> int:
        return self.size

    def describe(self) -> dict:
        return {"expression": self.expression, "size": self.size}


def _cases(quick: bool, dtype: str):
    """All four expressions at every size, in both dtypes (--dtype applies to A and B only)."""
    for dt in DTYPES:
        for expression in EXPRESSIONS:
            for size in QUICK_SIZES if quick else SIZES:
                yield ElementwiseCase(expression, size, dt)


WORKLOAD = Workload("elementwise", "C. Elementwise expressions, speed-up vs NumPy (Fig. 7)",
                    unit="elements/s", cases=_cases, min_time=0.3, repeats=3,
                    baseline="numpy", dtypes=DTYPES)  # best of 3, as the paper
