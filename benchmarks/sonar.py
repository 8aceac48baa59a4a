"""Time the seed's Sonar fit (60-60-1 MLP, Adam, 100 epochs, batch 5) on each mlcore
backend beside Keras 3 on its jax backend, in one run.

    python -m benchmarks.sonar [--epochs 100] [--out benchmarks/results]

Each system fits the same split from the same initial weights, with
steps_per_execution 1 and 25 (25 = one call per epoch); the table gives the
fit time and mlcore's speed-up over Keras 3 with the same setting.  Every fit
runs in a process of its own, after the imports and jax's start-up (in one
process a later fit could reuse an earlier one's XLA compilations), and the
best of --repeats such processes is kept, in two conditions:

- cold: jax's persistent compilation cache off, so every process compiles its
  steps (the first run of a script on a machine);
- warm: the cache on for every system alike, in a folder of its own that one
  untimed fit filled first (a script run again: mlcore keeps the cache in
  $MLCORE_HOME/jax by default, and Keras users can turn on the same cache).

The theano backend's C modules are PyTensor's own cache, warm in both.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder

from benchmarks.machine import configure_engines, machine_info


def data():
    from mlcore.datasets import sonar
    x, labels = sonar.load_data()
    y = LabelEncoder().fit_transform(labels).astype("float32")
    return train_test_split(x.astype("float32"), y, test_size=0.4, random_state=0, stratify=y)


def initial_weights(seed=0):
    rng = np.random.default_rng(seed)
    limit1, limit2 = np.sqrt(6 / 120), np.sqrt(6 / 61)
    return [rng.uniform(-limit1, limit1, (60, 60)).astype("float32"), np.zeros(60, "float32"),
            rng.uniform(-limit2, limit2, (60, 1)).astype("float32"), np.zeros(1, "float32")]


def fit_mlcore(backend, spe, x, y, weights, epochs):
    from mlcore.layers import Dense
    from mlcore.models import Sequential
    model = Sequential([Dense(60, input_dim=60, activation="relu"), Dense(1, activation="sigmoid")])
    model.set_weights(weights)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"], steps_per_execution=spe,
                  backend=backend)
    return _timed(model, x, y, epochs)


def fit_keras(spe, x, y, weights, epochs):
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    if keras.backend.backend() != "jax":
        raise RuntimeError("Keras uses its %s backend here; set KERAS_BACKEND=jax" % keras.backend.backend())
    model = keras.Sequential([keras.Input((60,)), keras.layers.Dense(60, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.set_weights(weights)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"], steps_per_execution=spe)
    return _timed(model, x, y, epochs)


def _timed(model, x, y, epochs):
    """Fit time including the first compile (as a user waits for it), and the final loss."""
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=5, verbose=0, shuffle=True)
    return time.perf_counter() - start, float(history.history["loss"][-1])


def fit_in_this_process(system, spe, epochs):
    """(seconds, final loss) of one fit, the imports (mlcore's backend modules too, which it loads on
    first use) and jax's start-up done before the clock starts."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import jax.numpy as jnp
    jnp.zeros(1).block_until_ready()
    x, _, y, _ = data()
    weights = initial_weights()
    if system == "keras3-jax":
        import keras  # noqa: F401  (imported before timing, as mlcore is)
        return fit_keras(spe, x, y, weights, epochs)
    import backends
    import mlcore.callbacks  # noqa: F401  (mlcore imports these on first use; `import keras` loads its own)
    import mlcore.metrics  # noqa: F401
    backend = system.split("-", 1)[1]
    backends.get_backend(backend)
    return fit_mlcore(backend, spe, x, y, weights, epochs)


def fit_in_a_new_process(system, spe, epochs, env=None):
    out = subprocess.run([sys.executable, "-m", "benchmarks.sonar", "--one", system, str(spe), "--epochs", str(epochs)],
                         capture_output=True, text=True, env={**os.environ, **(env or {})},
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_and_warm(system, spe, epochs, repeats):
    """The best of `repeats` fresh processes with jax's compilation cache off, then with it on
    (with the threshold under which mlcore's own cache leaves a compilation out)."""
    from backends.jax.compiler import MIN_CACHED_COMPILE_SECONDS
    cold = min((fit_in_a_new_process(system, spe, epochs, {"JAX_ENABLE_COMPILATION_CACHE": "false"})
                for _ in range(repeats)), key=lambda r: r["seconds"])
    with tempfile.TemporaryDirectory() as cache:
        warm_env = {"JAX_COMPILATION_CACHE_DIR": cache,
                    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": str(MIN_CACHED_COMPILE_SECONDS)}
        fit_in_a_new_process(system, spe, epochs, warm_env)   # fills the cache
        warm = min((fit_in_a_new_process(system, spe, epochs, warm_env) for _ in range(repeats)),
                   key=lambda r: r["seconds"])
    return {"cold_seconds": cold["seconds"], "warm_seconds": warm["seconds"], "final_loss": cold["final_loss"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per fit (the best is kept)")
    parser.add_argument("--one", nargs=2, metavar=("SYSTEM", "SPE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        seconds, loss = fit_in_this_process(args.one[0], int(args.one[1]), args.epochs)
        print(json.dumps({"seconds": seconds, "final_loss": loss}))
        return
    import backends
    rows = []
    for spe in (1, 25):
        keras = None
        for system in ["keras3-jax"] + ["mlcore-" + b for b in backends.available()]:
            try:   # the best of a few fresh processes: this machine's load varies from second to second
                row = {"system": system, "steps_per_execution": spe,
                       **cold_and_warm(system, spe, args.epochs, args.repeats)}
            except RuntimeError as err:
                print("%s not measured: %s" % (system, err))
                continue
            if system == "keras3-jax":
                keras = row
            elif keras:
                for condition in ("cold", "warm"):
                    row[condition + "_speedup_vs_keras"] = keras[condition + "_seconds"] / row[condition + "_seconds"]
            rows.append(row)
    print("| system | steps_per_execution | cold fit (s) | warm fit (s) | final loss | speed-up vs Keras 3, cold / warm |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        speedup = ("%.2fx / %.2fx" % (row["cold_speedup_vs_keras"], row["warm_speedup_vs_keras"])
                   if "cold_speedup_vs_keras" in row else "-")
        print("| %s | %d | %.2f | %.2f | %.4f | %s |" % (row["system"], row["steps_per_execution"], row["cold_seconds"],
                                                       row["warm_seconds"], row["final_loss"], speedup))
    results = {"machine": machine_info(configure_engines()), "epochs": args.epochs, "repeats": args.repeats,
               "results": rows}   # gathered before the file is opened: a failure leaves the last results whole
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "sonar.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
