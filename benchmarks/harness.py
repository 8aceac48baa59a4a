"""Runs every system on every case of a workload: build, optional --check, then timing.

Timing is the same for all systems so that only the programs differ: one
warm-up call (where lazy engines compile), calibration of how many calls one
repeat needs to last min_time / repeats, then the workload's repeats, taken in
turn with the other systems of the case; the best (the least disturbed by the
rest of the machine) and the median time per call are kept. Steps block until
their work is done, so wall time is honest for asynchronous engines too.
"""
from __future__ import annotations

import dataclasses
import math
import random
import statistics
import sys
import time
import traceback
from typing import Any, Callable, Iterable

import numpy as np

from .systems import System, Unavailable


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    title: str
    unit: str  # throughput unit: items per second
    cases: Callable[[bool, str], Iterable[Any]]  # (quick, dtype) -> cases
    min_time: float  # seconds of timed calls per measurement in a full run
    repeats: int = 5  # timed repeats; the best counts
    baseline: str | None = None  # system (on cpu) that speed-ups are relative to
    reference: str = "numpy"  # system (on cpu) that --check compares with; always run
    dtypes: tuple = ()  # dtypes the workload always runs; empty: the --dtype option


@dataclasses.dataclass
class Result:
    """One system on one case; `status` is 'ok', 'not available: ...' or 'error: ...'."""

    workload: str
    group: str
    case: str
    dtype: str
    items: int
    system: str
    engine: str
    device: str
    handwritten: bool
    status: str = "ok"
    check: str = ""  # '', 'ok' or 'failed: ...'
    build_s: float | None = None
    best_s: float | None = None
    median_s: float | None = None
    calls: int | None = None
    throughput: float | None = None  # items / best_s
    vs_engine: float | None = None  # throughput / the hand-written system of the engine
    speedup: float | None = None  # throughput / the workload's baseline system
    params: dict = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _seconds(step, calls, now) -> float:
    """Time `calls` calls of step on the clock `now`."""
    start = now()
    for _ in range(calls):
        step()
    return now() - start


def _in_rounds(steps: dict, calls: dict, rounds: int, now) -> dict:
    """{key: [seconds per call, one per round]}: each round times every step once (calls[key] calls),
    in a new order each round, so a slow spell of a shared machine falls on every step alike."""
    times = {key: [] for key in steps}
    order = list(steps)
    for _ in range(rounds):
        random.shuffle(order)
        for key in order:
            times[key].append(_seconds(steps[key], calls[key], now) / calls[key])
    return times


def measure(steps: dict, min_time: float, repeats: int = 3, clock: str = "wall") -> dict:
    """{key: (best, median, calls per repeat)}: seconds per call of each step, timed in alternation.

    Each step is warmed up and calibrated on its own (how many calls make one repeat last
    min_time / repeats); then the repeats go round all the steps, in a new order each round,
    so a slow spell of a shared machine falls on every system of a case alike and the ratios
    between them stay fair. The 'cpu' clock counts this process's CPU time (all its threads):
    on a machine shared with other work it measures the work, not the waiting.
    """
    now = CLOCKS[clock]
    calls, samples = {}, {}
    for key, step in steps.items():
        step()
        n = 1
        while (elapsed := _seconds(step, n, now)) < min_time / repeats:
            n = max(n * 2, math.ceil(n * min_time / repeats / max(elapsed, 1e-6)))
        calls[key], samples[key] = n, [elapsed / n]
    for key, times in _in_rounds(steps, calls, repeats - 1, now).items():
        samples[key] += times
    return {key: (min(s), statistics.median(s), calls[key]) for key, s in samples.items()}


def measure_paired(steps: dict, rounds: int, sample_s: float, clock: Callable[[], float] = time.perf_counter) -> dict:
    """{key: [seconds per call in each round]}: every step timed once per round, in a new order each
    round, for `rounds` rounds of about `sample_s` seconds a step (calls calibrated after a warm-up).
    Ratios taken round by round then see the same spell of the machine on both sides (benchmarks/paired.py)."""
    calls = {}
    for key, step in steps.items():
        step()
        calls[key] = max(1, round(sample_s / max(_seconds(step, 3, clock) / 3, 1e-9)))
    return _in_rounds(steps, calls, rounds, clock)


def ratio_quartiles(numerators: list, denominators: list) -> tuple:
    """(first quartile, median, third quartile) of the round-by-round ratios numerator / denominator."""
    q1, median, q3 = statistics.quantiles([n / d for n, d in zip(numerators, denominators)], n=4, method="inclusive")
    return q1, median, q3


def to_numpy(value) -> np.ndarray:
    """A host copy of a step's result, whatever array type its engine returns."""
    if hasattr(value, "get"):  # CuPy
        value = value.get()
    elif hasattr(value, "cpu"):  # torch
        value = value.detach().cpu()
    return np.asarray(value, dtype="float64")


def _compare(outputs, reference, dtype: str) -> str:
    """'ok', or why the outputs differ from the reference system's.

    rtol is 1e-4 in float32; 1e-6 in float64, because Keras reports its loss
    through a float32 metric.
    """
    rtol = 1e-4 if dtype == "float32" else 1e-6
    for i, (out, ref) in enumerate(zip(outputs, reference)):
        if out.shape != ref.shape:
            return f"failed: call {i + 1} gave shape {out.shape}, the reference {ref.shape}"
        if not np.allclose(out, ref, rtol=rtol, atol=0):
            worst = np.max(np.abs(out - ref) / np.maximum(np.abs(ref), np.finfo(dtype).tiny))
            return f"failed: call {i + 1} differs from the reference by {worst:.2g} (rtol {rtol:g})"
    return "ok"


def _build(system: System, case, workload: Workload, *, check: bool, reference_outputs):
    """(result, step or None, outputs): the system's program for the case, checked if asked."""
    result = Result(workload.name, case.group, case.label, case.dtype, case.items, system.name,
                    system.engine, system.device, system.handwritten, params=case.describe())
    step, outputs = None, []
    try:
        start = time.perf_counter()
        step = system.factory(case, system.device)
        result.build_s = time.perf_counter() - start
        if check:  # two calls: the second sees the first update of a training step
            outputs = [to_numpy(step()) for _ in range(2)]
            if reference_outputs is not None:
                result.check = _compare(outputs, reference_outputs, case.dtype)
    except Unavailable as exc:
        result.status, step = f"not available: {exc}", None
    except Exception as exc:  # a broken system must not hide the others' numbers
        traceback.print_exc(file=sys.stderr)
        result.status, step = f"error: {type(exc).__name__}: {exc}", None
    return result, step, outputs


def run_workload(workload: Workload, selected: list[System], *, quick: bool, dtype: str,
                 check: bool, min_time: float | None = None, clock: str = "wall",
                 log=print) -> list[Result]:
    """Results for every (case, system): each case builds (and checks) all its systems, the
    reference first, then times them together (measure)."""
    min_time = workload.min_time if min_time is None else min_time
    results = []
    for case in workload.cases(quick, dtype):
        reference_outputs, built = None, []
        for system in selected:
            result, step, outputs = _build(system, case, workload, check=check,
                                           reference_outputs=reference_outputs)
            if (system.name, system.device) == (workload.reference, "cpu"):
                reference_outputs = outputs if result.ok else None
            built.append((result, step))
        steps = {k: step for k, (_, step) in enumerate(built) if step is not None}
        times = measure(steps, min_time, workload.repeats, clock)
        for k, (result, _) in enumerate(built):
            if k in times:
                result.best_s, result.median_s, result.calls = times[k]
                result.throughput = case.items / result.best_s
            results.append(result)
            log(_progress(result))
    derive(results, workload)
    return results


def _progress(r: Result) -> str:
    head = f"  {r.workload:<11} {r.group:<10} {r.case:<9} {r.dtype:<7} {r.system:<14} {r.device:<3}"
    if not r.ok:
        return f"{head} {r.status}"
    check = f"  check {r.check}" if r.check else ""
    return f"{head} {r.throughput:12.4g}/s  (build {r.build_s:.2f}s, {r.calls} calls/repeat){check}"


def derive(results: list[Result], workload: Workload) -> None:
    """Fill the ratios: vs the hand-written system of the same engine, and vs the baseline."""
    def key(r):
        return (r.group, r.case, r.dtype)
    ceiling = {key(r) + (r.engine, r.device): r.throughput
               for r in results if r.ok and r.handwritten}
    baseline = {key(r): r.throughput for r in results
                if r.ok and (r.system, r.device) == (workload.baseline, "cpu")}
    for r in results:
        if not r.ok:
            continue
        own = ceiling.get(key(r) + (r.engine, r.device))
        if own and not r.handwritten:
            r.vs_engine = r.throughput / own
        if key(r) in baseline:
            r.speedup = r.throughput / baseline[key(r)]
