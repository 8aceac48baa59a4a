"""Data-parallel training step time over 1, 2, 4 and 8 devices (mlcore.distribution on jax).

    python benchmarks/distribution.py                     # simulated CPU devices, both models
    python benchmarks/distribution.py --platform gpu      # this machine's GPUs (1, 2, 4, 8 as present)
    python benchmarks/distribution.py --model convnet --devices 1,2 --steps 10

Each device count runs in a process of its own, because jax fixes its devices when it starts;
simulated CPU devices come from XLA_FLAGS=--xla_force_host_platform_device_count=N. The global
batch stays fixed, so N devices each get 1/N of it; one device runs without a distribution, the
baseline. Every run starts from the same weights and data, and its losses are checked against
one device's (rtol 1e-4).

Simulated CPU devices share the machine's cores: beyond the core count they measure what
partitioning a step and reducing its gradients costs, not a speed-up.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

MODELS = {"mlp": "the Sonar MLP, 60 -> 60 relu -> 1 sigmoid", "convnet": "32x32x3, 32@3x3, pool, 64@3x3, pool, 10"}
BATCH = {"mlp": 64, "convnet": 256}


def build(name, steps, device):
    """A compiled model and `steps` batches of seeded data for it."""
    import numpy as np

    import mlcore
    from mlcore.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from mlcore.models import Sequential
    mlcore.utils.set_random_seed(0)
    rng, n = np.random.default_rng(0), BATCH[name] * steps
    if name == "mlp":
        model = Sequential([Dense(60, input_dim=60, activation="relu"), Dense(1, activation="sigmoid")])
        x, y, loss = rng.normal(size=(n, 60)), rng.integers(0, 2, n), "binary_crossentropy"
    else:
        model = Sequential([Conv2D(32, 3, activation="relu", input_shape=(32, 32, 3)), MaxPooling2D(2),
                            Conv2D(64, 3, activation="relu"), MaxPooling2D(2), Flatten(),
                            Dense(10, activation="softmax")])
        x, y, loss = rng.normal(size=(n, 32, 32, 3)), rng.integers(0, 10, n), "sparse_categorical_crossentropy"
    model.compile(optimizer=mlcore.optimizers.SGD(0.01), loss=loss, backend="jax", device=device)
    return model, x.astype("float32"), y


def measure(name, devices, steps, repeats):
    """In a process with `devices` devices: the first epoch's time (with compiling), the best
    time per step of the next ones, and the first epoch's losses."""
    from contextlib import nullcontext

    from mlcore import callbacks, distribution
    data_parallel = distribution.DataParallel(devices=distribution.list_devices()[:devices])
    device = data_parallel.device_mesh.backend_mesh.devices.flat[0]
    model, x, y = build(name, steps, device.platform)
    losses = []
    record = callbacks.LambdaCallback(on_train_batch_end=lambda step, logs: losses.append(logs["loss"]))
    with data_parallel.scope() if devices > 1 else nullcontext():
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH[name], shuffle=False, verbose=0, callbacks=[record])
        first = time.perf_counter() - start
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model.fit(x, y, batch_size=BATCH[name], shuffle=False, verbose=0)
            times.append((time.perf_counter() - start) / steps)
    return dict(devices=devices, platform=device.platform, kind=device.device_kind,
                first_s=first, step_s=min(times), losses=losses)


def run_child(name, devices, args):
    env = dict(os.environ)
    if args.platform == "cpu":
        env["JAX_PLATFORMS"] = "cpu"
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=%d" % devices).strip()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    command = [sys.executable, __file__, "--child", name, str(devices), str(args.steps), str(args.repeats)]
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError("%s on %d devices failed:\n%s" % (name, devices, proc.stderr[-3000:]))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(name, results):
    import numpy as np
    base = results[0]
    print("\n%s, global batch %d, %s (%s)" % (MODELS[name], BATCH[name], base["platform"], base["kind"]))
    print("| devices | batch per device | ms per step | samples/s | speed-up | first epoch s | losses vs 1 device |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        same = np.allclose(r["losses"], base["losses"], rtol=1e-4)
        print("| %d | %d | %.2f | %.0f | %.2fx | %.1f | %s |"
              % (r["devices"], BATCH[name] // r["devices"], r["step_s"] * 1e3, BATCH[name] / r["step_s"],
                 base["step_s"] / r["step_s"], r["first_s"], "same (rtol 1e-4)" if same else "DIFFERENT"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS) + ["all"], default="all")
    parser.add_argument("--platform", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--devices", default="1,2,4,8", help="device counts (gpu: those present)")
    parser.add_argument("--steps", type=int, default=8, help="training steps per timed epoch")
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs; the best is reported")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        name, devices, steps, repeats = args.child[0], *map(int, args.child[1:])
        print(json.dumps(measure(name, devices, steps, repeats)))
        return
    counts = [int(n) for n in args.devices.split(",")]
    if args.platform == "gpu":
        import jax
        counts = [n for n in counts if n <= len(jax.devices("gpu"))]
    print("Machine: %s, %d CPU cores (os.cpu_count), Python %s, load average %.1f at the start"
          % (platform.processor() or platform.machine(), os.cpu_count(), platform.python_version(),
             os.getloadavg()[0]))
    if args.platform == "cpu":
        print("Simulated CPU devices share these %d cores: more devices cannot run faster than the cores "
              "allow." % os.cpu_count())
    for name in sorted(MODELS) if args.model == "all" else [args.model]:
        report(name, [run_child(name, n, args) for n in counts])


if __name__ == "__main__":
    main()
