"""VGG16 on this machine: inference images/s at batch 1 and 8, and the fine-tune step (fast.ai's: the
convolutional base and fc1/fc2 frozen, a new 2-way softmax trained), for mlcore on each backend,
beside a plain jax.jit VGG16 written directly with jax.lax and Keras 3 (jax backend), all holding the
same weights.

    python -m benchmarks.vgg16            # full size (224x224), ~10 minutes on 2 cores
    python -m benchmarks.vgg16 --quick    # 64x64 inputs, one repetition: checks that everything runs

Each call is timed in `repeats` rounds after a warm-up call (the compile), numpy arrays in and out, each
round over all systems in a new order, so that load on a shared machine falls on all of them alike; a
sample is always 8 images (8 batch-1 calls in a row, or one batch-8 call), so the two batch sizes are
compared over equal work. Rates use the
best time (other processes only ever slow a call down, as timeit's documentation argues); the median is
recorded beside it.
The FLOP count (2 per multiply-add of the convolutions and dense layers) comes from the layer shapes;
the machine's limit is measured in the same rounds as float32 GEMM GFLOP/s (a large numpy matmul), so
"of GEMM" says how close each system comes to it. Results go to benchmarks/results/vgg16.{json,csv}
(vgg16_quick.* with --quick), with the machine's description and its load average, which matters on a
shared machine.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import statistics
import sys
import time

if "keras" not in sys.modules:
    os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

BACKENDS = ("numpy", "theano", "jax")
BATCHES = (1, 8)
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


# --- the machine ---------------------------------------------------------------------------------------
def machine_info():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    versions = {}
    for name in ("numpy", "jax", "jaxlib", "pytensor", "keras"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "versions": versions,
            "date": datetime.datetime.now().isoformat(timespec="seconds")}


def gemm(n):
    """A float32 n x n GEMM with numpy's BLAS and its FLOPs: the practical compute limit of this CPU.
    It is timed in the same rounds as the systems, so it sees the same load."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype("float32")
    return (lambda: a @ a), 2.0 * n ** 3


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# --- the model and its FLOPs ---------------------------------------------------------------------------
def vgg_flops(model):
    """FLOPs of one image's forward pass: 2 per multiply-add of each Conv2D and Dense layer."""
    total = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            _, h, w, out = layer.output_shape
            kh, kw, cin, _ = layer.kernel.shape
            total += 2 * h * w * kh * kw * cin * out
        elif kind == "Dense":
            total += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
    return total


def random_weights(model, seed=0):
    """He-scaled weights, the last layer's scaled down: activations keep their size through the layers
    and the softmax does not saturate, so comparing the systems' probabilities means something."""
    rng = np.random.default_rng(seed)
    weights = [(rng.standard_normal(tuple(w.shape)) * (np.sqrt(2.0 / np.prod(w.shape[:-1])) if len(w.shape) > 1
                                                       else 0.01)).astype("float32") for w in model.weights]
    weights[-2] *= 1e-3
    return weights


def plain_jax_forward():
    """VGG16 written directly with jax.lax: weights are arguments, as mlcore passes its shared values."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    def forward(weights, x):
        k = 0
        for convs in (2, 2, 3, 3, 3):
            for _ in range(convs):
                x = lax.conv_general_dilated(x, weights[k], (1, 1), "SAME",
                                             dimension_numbers=("NHWC", "HWIO", "NHWC"))
                x = jnp.maximum(x + weights[k + 1], 0)
                k += 2
            x = lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        x = x.reshape(x.shape[0], -1)
        x = jnp.maximum(x @ weights[k] + weights[k + 1], 0)
        x = jnp.maximum(x @ weights[k + 2] + weights[k + 3], 0)
        return jax.nn.softmax(x @ weights[k + 4] + weights[k + 5])
    return jax.jit(forward)


# --- the systems ---------------------------------------------------------------------------------------
class Bench:
    """Each system registers its timed calls (compiled by a warm-up call); measure() then times them
    round-robin, so a change of load on a shared machine affects every system alike."""

    def __init__(self, size):
        from mlcore.applications import VGG16
        self.size = size
        self.model = VGG16(weights=None, input_shape=(size, size, 3))
        self.weights = random_weights(self.model)
        self.model.set_weights(self.weights)
        self.flops = vgg_flops(self.model)
        rng = np.random.default_rng(1)
        self.x = {b: rng.uniform(-120, 130, (b, size, size, 3)).astype("float32") for b in BATCHES}
        self.y = np.eye(2, dtype="float32")[rng.integers(0, 2, max(BATCHES))]
        self.cases = []
        self.outputs = {}

    def add(self, system, task, batch, fn):
        fn()
        self.cases.append((system, task, batch, fn))

    def measure(self, repeats):
        """Rounds in a shuffled order (no system always runs right after the same other one).  Every
        sample processes the same 8 images: a batch-8 call, or 8 batch-1 calls in a row, so batch 1
        and batch 8 are compared over equal work and equally exposed to the machine's noise."""
        images = max(BATCHES)
        times = [[] for _ in self.cases]
        order = np.random.default_rng(0)
        for _ in range(repeats):
            for k in order.permutation(len(self.cases)):
                _, _, batch, fn = self.cases[k]
                times[k].append(sum(_seconds(fn) for _ in range(images // batch)) * batch / images)
        rows = []
        for (system, task, batch, _), spent in zip(self.cases, times):
            best = min(spent)
            rows.append({"system": system, "task": task, "batch": batch, "seconds": best,
                         "median_seconds": statistics.median(spent), "images_per_s": batch / best,
                         "gflops": self.flops * batch / best / 1e9})
        return rows

    def mlcore(self, backend):
        from mlcore import function
        fn = function(self.model.inputs, self.model.outputs[0], backend=backend)
        for b in BATCHES:
            self.add("mlcore-" + backend, "inference", b, lambda b=b: fn(self.x[b]))
        self.outputs["mlcore-" + backend] = fn(self.x[1])
        self.add("mlcore-" + backend, "finetune", max(BATCHES), self.mlcore_finetune(backend))

    def mlcore_finetune(self, backend):
        from mlcore.layers import Dense
        from mlcore.models import Model
        from mlcore.optimizers import Adam
        base = self.model
        top = Dense(2, activation="softmax", name="new_top_" + backend)
        model = Model(base.inputs, top(base.get_layer("fc2").output))
        for layer in base.layers:
            layer.trainable = False
        model.compile(optimizer=Adam(1e-3), loss="categorical_crossentropy", backend=backend)
        b = max(BATCHES)
        return lambda: model.train_on_batch(self.x[b], self.y[:b])

    def plain_jax(self):
        import jax
        forward, weights = plain_jax_forward(), [jax.device_put(w) for w in self.weights]
        for b in BATCHES:
            self.add("plain-jax", "inference", b, lambda b=b: np.asarray(forward(weights, self.x[b])))
        self.outputs["plain-jax"] = np.asarray(forward(weights, self.x[1]))

    def keras(self):
        import keras
        if keras.backend.backend() != "jax":
            raise RuntimeError("Keras runs on %r here; set KERAS_BACKEND=jax" % keras.backend.backend())
        model = keras.applications.VGG16(weights=None, input_shape=(self.size, self.size, 3))
        model.set_weights(self.weights)
        for b in BATCHES:
            self.add("keras-jax", "inference", b, lambda b=b: model.predict_on_batch(self.x[b]))
        self.outputs["keras-jax"] = np.asarray(model.predict_on_batch(self.x[1]))
        for layer in model.layers:
            layer.trainable = False
        top = keras.layers.Dense(2, activation="softmax")(model.get_layer("fc2").output)
        tuned = keras.Model(model.inputs, top)
        tuned.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
        b = max(BATCHES)
        self.add("keras-jax", "finetune", b, lambda: tuned.train_on_batch(self.x[b], self.y[:b]))


# --- report ----------------------------------------------------------------------------------------------
def table(rows, gemm):
    lines = ["%-14s %-9s %5s %9s %9s %9s %8s %8s" % ("system", "task", "batch", "best ms", "median ms",
                                                    "images/s", "GFLOP/s", "of GEMM")]
    for r in rows:
        lines.append("%-14s %-9s %5d %9.1f %9.1f %9.2f %8.1f %7.1f%%" % (
            r["system"], r["task"], r["batch"], r["seconds"] * 1e3, r["median_seconds"] * 1e3,
            r["images_per_s"], r["gflops"], 100 * r["gflops"] / gemm))
    return "\n".join(lines)


def targets(rows):
    """The issue's two targets for mlcore on jax, measured."""
    speed = {(r["system"], r["task"], r["batch"]): r["images_per_s"] for r in rows}
    found = {}
    if ("mlcore-jax", "inference", 1) in speed and ("plain-jax", "inference", 1) in speed:
        ratio = speed[("plain-jax", "inference", 1)] / speed[("mlcore-jax", "inference", 1)]
        found["mlcore_jax_time_vs_plain_jax_batch1"] = ratio
        found["within_10_percent_of_plain_jax"] = ratio <= 1.10
    if ("mlcore-jax", "inference", 8) in speed and ("mlcore-jax", "inference", 1) in speed:
        ratio = speed[("mlcore-jax", "inference", 8)] / speed[("mlcore-jax", "inference", 1)]
        found["mlcore_jax_batch8_vs_batch1_per_image_speed"] = ratio
        found["batch8_at_least_as_fast_per_image"] = ratio >= 1.0
    return found


def write(rows, meta, quick, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    stem = os.path.join(out_dir, "vgg16_quick" if quick else "vgg16")
    with open(stem + ".json", "w") as f:
        json.dump({**meta, "results": rows}, f, indent=2)
    with open(stem + ".csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["system", "task", "batch", "seconds", "median_seconds", "images_per_s", "gflops",
                         "fraction_of_gemm",
                         "image_size", "cpu", "cores", "gemm_gflops", "loadavg_1min_start", "date"])
        for r in rows:
            writer.writerow([r["system"], r["task"], r["batch"], "%.6f" % r["seconds"],
                             "%.6f" % r["median_seconds"], "%.3f" % r["images_per_s"],
                             "%.2f" % r["gflops"], "%.4f" % (r["gflops"] / meta["gemm_gflops"]), meta["image_size"],
                             meta["machine"]["cpu"], meta["machine"]["cores"], "%.1f" % meta["gemm_gflops"],
                             "%.2f" % meta["loadavg_start"][0], meta["machine"]["date"]])
    return stem


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="64x64 inputs, one repetition")
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per figure (default 7, quick 1)")
    parser.add_argument("--out-dir", default=RESULTS)
    args = parser.parse_args(argv)
    size, repeats = (64, 1) if args.quick else (224, 7)
    repeats = args.repeats or repeats
    meta = {"machine": machine_info(), "image_size": size, "repeats": repeats, "loadavg_start": os.getloadavg()}
    print("VGG16 %dx%d on %s (%d cores), load average %.2f" % (size, size, meta["machine"]["cpu"],
                                                               meta["machine"]["cores"], meta["loadavg_start"][0]))
    bench = Bench(size)
    meta["flops_per_image"] = bench.flops
    print("VGG16 forward: %.3f GFLOP per image" % (bench.flops / 1e9), flush=True)
    systems = [("mlcore-" + b, lambda b=b: bench.mlcore(b)) for b in args.backends]
    systems += [("plain-jax", bench.plain_jax), ("keras-jax", bench.keras)]
    meta["skipped"] = {}
    for name, build in systems:
        try:
            build()
            print("  %s compiled" % name, flush=True)
        except ImportError as err:
            meta["skipped"][name] = str(err)
            print("  %s skipped: %s" % (name, err))
    gemm_fn, gemm_flops = gemm(2048 if args.quick else 4096)
    bench.add("numpy", "gemm", 1, gemm_fn)
    print("timing %d calls, %d rounds ..." % (len(bench.cases), repeats), flush=True)
    rows = bench.measure(repeats)
    gemm_row = next(r for r in rows if r["task"] == "gemm")
    rows.remove(gemm_row)
    meta["gemm_gflops"] = gemm_flops / gemm_row["seconds"] / 1e9
    reference = bench.outputs.get("plain-jax")
    meta["max_abs_diff_vs_plain_jax"] = {k: float(np.abs(v - reference).max()) for k, v in bench.outputs.items()
                                         if reference is not None}
    meta["targets"] = targets(rows)
    meta["loadavg_end"] = os.getloadavg()
    print("\n" + table(rows, meta["gemm_gflops"]))
    print("\nfloat32 GEMM (numpy, best of the rounds) %.1f GFLOP/s; VGG16 %.2f GFLOP/image; "
          "load average %.2f at start, %.2f at end"
          % (meta["gemm_gflops"], bench.flops / 1e9, meta["loadavg_start"][0], meta["loadavg_end"][0]))
    for key, value in meta["targets"].items():
        print("%s: %s" % (key, "%.3f" % value if isinstance(value, float) else value))
    print("max |probability - plain jax|: %s" % meta["max_abs_diff_vs_plain_jax"])
    print("wrote %s.json and .csv" % write(rows, meta, args.quick, args.out_dir))


if __name__ == "__main__":
    main()
