"""mlcore's fixed cost per call: a tiny graph (where the fixed cost is everything) compiled
by mlcore on each backend, beside the same math hand-written as one jax.jit and one
pytensor.function, in one run.

    python -m benchmarks.overhead

Each call takes a numpy array and returns a numpy array, on both sides, as a user sees it. All five
programs are timed in alternation (best_call_us), so the ratios compare like with like.
"""
import json
import os

import numpy as np

from benchmarks.harness import measure
from benchmarks.machine import machine_info


def best_call_us(calls_by_name):
    """{name: best microseconds per call}, the programs timed in alternation on this process's CPU
    clock by the suite's own harness (benchmarks.harness.measure): 30 rounds of about 30 ms each."""
    times = measure(calls_by_name, min_time=0.9, repeats=30, clock="cpu")
    return {name: best * 1e6 for name, (best, _, _) in times.items()}


def hand_written(engine, value):
    if engine == "jax":
        import jax
        import jax.numpy as jnp
        jitted = jax.jit(lambda v: jnp.tanh(v * 2 + 1))
        return lambda: np.asarray(jitted(value))
    import pytensor
    import pytensor.tensor as pt
    from pytensor.compile.mode import Mode
    import backends.theano  # noqa: F401  (BLAS and cache set-up, as mlcore's theano backend has)
    v = pt.vector("v", dtype="float32")
    fn = pytensor.function([v], pt.tanh(v * 2 + 1), mode=Mode(linker="cvm"))
    return lambda: fn(value)


def main():
    import mlcore
    import mlcore.tensor as T
    value = np.random.default_rng(0).random(10).astype("float32")
    x = T.fvector("x")
    systems, pairs = {}, (("jax", "jax"), ("theano", "pytensor"), ("numpy", None))
    for backend, engine in pairs:
        fn = mlcore.function([x], T.tanh(x * 2 + 1), backend=backend)
        systems["mlcore-" + backend] = lambda fn=fn: fn(value)
        if engine:
            systems[engine] = hand_written(engine, value)
    best = best_call_us(systems)
    rows = []
    for backend, engine in pairs:
        mlcore_us, peer_us = best["mlcore-" + backend], best.get(engine)
        rows.append({"backend": backend, "mlcore_us": mlcore_us, "hand_written": engine, "hand_written_us": peer_us,
                     "ratio": mlcore_us / peer_us if peer_us else None})
    print("| mlcore backend | mlcore call (us) | hand-written | its call (us) | ratio (target <= 1.2) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| %s | %.1f | %s | %s | %s |" % (r["backend"], r["mlcore_us"], r["hand_written"] or "-",
                                            "%.1f" % r["hand_written_us"] if r["hand_written_us"] else "-",
                                            "%.2fx" % r["ratio"] if r["ratio"] else "-"))
    out = os.path.join(os.path.dirname(__file__), "results")
    os.makedirs(out, exist_ok=True)
    results = {"machine": machine_info(), "graph": "tanh(x * 2 + 1), x float32[10]", "results": rows}
    with open(os.path.join(out, "overhead.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
