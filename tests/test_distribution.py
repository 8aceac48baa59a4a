"""mlcore.distribution: data-parallel training on the jax backend matches one device.

jax fixes its device count when it starts, and pytest's process already runs it on one CPU
device, so the checks on 8 simulated devices (XLA_FLAGS=--xla_force_host_platform_device_count=8)
and on two processes joined by jax.distributed run in subprocesses; this file is also their
worker: python tests/test_distribution.py devices OUT | host PORT PROCESS_ID OUT.
"""
import os
import pickle
import socket
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest

import mlcore
from mlcore import distribution as dist

ROOT = Path(__file__).resolve().parents[1]
RTOL, ATOL = 1e-4, 1e-6


# --- what both the workers and the tests run -----------------------------------------------------
def sonar_mlp():
    """The Sonar example's model, 60 -> 60 relu -> 1 sigmoid, with plain SGD."""
    from mlcore.layers import Dense
    from mlcore.models import Sequential
    model = Sequential([Dense(60, input_dim=60, activation="relu"), Dense(1, activation="sigmoid")])
    return model, "binary_crossentropy", mlcore.optimizers.SGD(0.1)


def small_convnet():
    """Conv2D -> MaxPooling2D -> Dense softmax, with momentum (an optimizer state to replicate)."""
    from mlcore.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from mlcore.models import Sequential
    model = Sequential([Conv2D(4, 3, activation="relu", input_shape=(10, 10, 2)), MaxPooling2D(2), Flatten(),
                        Dense(3, activation="softmax")])
    return model, "sparse_categorical_crossentropy", mlcore.optimizers.SGD(0.1, momentum=0.9)


def sonar_data(n):
    from mlcore.datasets import sonar
    x, labels = sonar.load_data()
    return x[:n].astype("float32"), (labels[:n] == "M").astype("float32")


def image_data(n):
    rng = np.random.default_rng(1)
    return rng.normal(size=(n, 10, 10, 2)).astype("float32"), rng.integers(0, 3, n)


def train(build, x, y, batch_size, steps_per_execution=1, distribution=None, seed=0, rows=None, infer=True):
    """One epoch from fixed initial weights: per-step losses, weights, and (infer) evaluate() and
    predict().  rows: this process's rows of the data (several hosts); predict() covers them only."""
    mlcore.utils.set_random_seed(seed)
    model, loss, optimizer = build()
    model.compile(optimizer=optimizer, loss=loss, steps_per_execution=steps_per_execution, backend="jax")
    losses = []
    record = mlcore.callbacks.LambdaCallback(on_train_batch_end=lambda step, logs: losses.append(logs["loss"]))
    x, y = (x, y) if rows is None else (x[rows], y[rows])
    with distribution.scope() if distribution else nullcontext():
        model.fit(x, y, batch_size=batch_size, shuffle=False, verbose=0, callbacks=[record])
        result = dict(losses=losses, devices=len(model.weights[0].container_value.sharding.device_set))
        if infer:
            result.update(evaluate=model.evaluate(x, y, batch_size=batch_size, verbose=0),
                          predict=model.predict(x, batch_size=batch_size, verbose=0))
    return dict(result, weights=model.get_weights())


# name: model, data, global batch size, steps_per_execution (batch 16 is 2 rows per device)
CASES = {"sonar64": (sonar_mlp, sonar_data(192), 64, 1), "sonar16": (sonar_mlp, sonar_data(64), 16, 2),
         "convnet64": (small_convnet, image_data(128), 64, 1), "convnet16": (small_convnet, image_data(64), 16, 1)}


def assert_same(got, want, devices):
    assert got["devices"] == devices and got.keys() == want.keys()
    for key in ("losses", "evaluate", "predict"):
        if key in got:
            np.testing.assert_allclose(got[key], want[key], rtol=RTOL, atol=ATOL)
    for g, w in zip(got["weights"], want["weights"], strict=True):
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)


# --- subprocess workers ------------------------------------------------------------------------------
def devices_worker(out):
    """On 8 devices: each case on one device and data-parallel, and the edge cases."""
    import mlcore.tensor as T
    results = {}
    for name, (build, (x, y), batch_size, k) in CASES.items():
        infer = batch_size == 64
        results[name] = (train(build, x, y, batch_size, k, infer=infer),
                         train(build, x, y, batch_size, k, dist.DataParallel(), infer=infer))
    build, (x, y), _, _ = CASES["sonar64"]
    try:
        train(build, x, y, 12, distribution=dist.DataParallel(), infer=False)
    except ValueError as err:
        results["uneven"] = str(err)
    a, w = T.scalar("a"), mlcore.shared(np.arange(3.0, dtype="float32"), name="w")
    f = mlcore.function([a], (w * a).sum(), updates=[(w, w + a)])  # not batched: its inputs are replicated
    with dist.DataParallel(devices=dist.list_devices()[:4]).scope():
        results["theano"] = [float(f(2.0)), float(f(1.0)), len(w.container_value.sharding.device_set)]
    results["theano"].append(float(f(0.0)))  # back on one device, the shared value followed
    Path(out).write_bytes(pickle.dumps(results))


def host_worker(port, process_id, out):
    """One of two processes of 4 devices each: trains on its half of each global batch."""
    dist.initialize("127.0.0.1:%s" % port, num_processes=2, process_id=int(process_id))
    (x, y), rows = sonar_data(128), host_rows(int(process_id))
    # each process draws different initial weights: process 0's are the ones trained
    result = train(sonar_mlp, x, y, 32, distribution=dist.DataParallel(), seed=int(process_id), rows=rows)
    Path(out).write_bytes(pickle.dumps(result))


def host_rows(process_id):
    """Process p's rows: the p-th half of each global batch of 64."""
    return np.concatenate([np.arange(start, start + 32) + 32 * process_id for start in range(0, 128, 64)])


def start_worker(devices, *argv):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=%d" % devices,
               JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, __file__, *argv], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


# --- tests ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    """The results of all workers, run at once: one on 8 devices, two hosts of 4 devices each;
    meanwhile, here on one device, the hosts' reference."""
    folder = tmp_path_factory.mktemp("distribution")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outs = {name: folder / (name + ".pkl") for name in ("devices", "host0", "host1")}
    procs = [start_worker(8, "devices", str(outs["devices"]))]
    procs += [start_worker(4, "host", str(port), str(p), str(outs["host%d" % p])) for p in (0, 1)]
    try:
        x, y = sonar_data(128)
        results = {"hosts_reference": train(sonar_mlp, x, y, 64)}
        for proc in procs:
            output = proc.communicate(timeout=240)[0]
            assert proc.returncode == 0, output[-4000:]
    finally:
        for proc in procs:
            proc.kill()  # a host left waiting for the other one
    return dict(results, **{name: pickle.loads(out.read_bytes()) for name, out in outs.items()})


@pytest.fixture(scope="module")
def on_8_devices(workers):
    return workers["devices"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_data_parallel_on_8_devices_matches_one_device(on_8_devices, case):
    one, eight = on_8_devices[case]
    assert one["devices"] == 1 and len(one["losses"]) >= 2
    assert_same(eight, one, devices=8)


def test_uneven_batch_is_a_clear_error(on_8_devices):
    assert "batch of 12 rows does not split evenly over the 8 devices" in on_8_devices["uneven"]


def test_functions_without_batch_inputs_are_replicated(on_8_devices):
    # w = [0, 1, 2]: sum(w * 2) = 6, then w += 2: sum(w * 1) = 9, then w += 1: sum(w * 0) = 0
    assert on_8_devices["theano"] == [6.0, 9.0, 4, 0.0]


def test_two_hosts_with_jax_distributed_match_one_device(workers):
    want = workers["hosts_reference"]
    for p in (0, 1):
        assert_same(workers["host%d" % p], dict(want, predict=want["predict"][host_rows(p)]), devices=8)


def test_api_follows_keras():
    devices = dist.list_devices("cpu")
    assert devices[0] == "cpu:0" and dist.get_device_count("cpu") == len(devices)
    data_parallel = dist.DataParallel()
    assert data_parallel.batch_dim_name == "batch" and data_parallel.device_mesh.shape == (len(devices),)
    mesh = dist.DeviceMesh((1,), ["data"], devices[:1])
    assert dist.DataParallel(device_mesh=mesh).batch_dim_name == "data"
    assert dist.distribution() is None
    with data_parallel.scope():
        assert dist.distribution() is data_parallel
    assert dist.distribution() is None
    dist.set_distribution(data_parallel)
    try:
        assert mlcore.distribution.distribution() is data_parallel
    finally:
        dist.set_distribution(None)
    with pytest.raises(ValueError, match="needs 2 devices"):
        dist.DeviceMesh((2,), ["batch"], devices[:1])
    with pytest.raises(ValueError, match="not both"):
        dist.DataParallel(device_mesh=mesh, devices=devices)
    with pytest.raises(ValueError, match="1-D"):
        dist.DataParallel(device_mesh=dist.DeviceMesh((1, 1), ["batch", "model"], devices[:1]))
    with pytest.raises(ValueError, match="No device 'cpu:99'"):
        dist.DataParallel(devices=["cpu:99"]).device_mesh.backend_mesh
    with pytest.raises(TypeError):
        dist.set_distribution("data_parallel")


def test_other_backends_refuse_a_distribution():
    x, y = sonar_data(16)
    model, loss, optimizer = sonar_mlp()
    model.compile(optimizer=optimizer, loss=loss, backend="numpy")
    with dist.DataParallel().scope(), pytest.raises(RuntimeError, match="jax backend only"):
        model.fit(x, y, batch_size=16, verbose=0)
    model.fit(x, y, batch_size=16, verbose=0)  # without a distribution it trains as before


if __name__ == "__main__":
    {"devices": devices_worker, "host": host_worker}[sys.argv[1]](*sys.argv[2:])
