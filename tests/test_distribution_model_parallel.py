"""mlcore.distribution's model parallelism (TensorLayout, LayoutMap, ModelParallel,
distribute_tensor) against Keras 3.15's keras.distribution on its jax backend.

Layouts need several devices, and jax fixes its device count when it starts, so one subprocess
on 8 simulated CPU devices (XLA_FLAGS=--xla_force_host_platform_device_count=8) builds, lays out
and trains the same model with mlcore and with Keras and reports what it saw; this file is also
that worker: python tests/test_distribution_model_parallel.py OUT.  LayoutMap's lookups and the
constructors' errors need no devices and are checked here, beside Keras, on one.
"""
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlcore import distribution as dist

ROOT = Path(__file__).resolve().parents[1]
# float32 training of 4 steps: a sharded step sums the same products in another order (the
# contraction over the split "model" axis and the gradient over the split batch are all-reduces),
# so the weights differ from one device's in the last few bits, each step; 1e-5 leaves that room.
RTOL, ATOL = 1e-5, 1e-6


def layout_map(api, mesh):
    """The kernel of "hidden" split by columns (an exact key), its bias by a regex, the kernel of "out"
    split by rows (a sharded contraction), the bias of "out" left to no key: replicated."""
    layouts = api.LayoutMap(mesh)
    layouts["mlp/hidden/kernel"] = (None, "model")
    layouts[".*hidden/bias"] = ("model",)
    layouts[".*out.*kernel"] = api.TensorLayout(("model", None))
    return layouts


def mlp(api, hidden=8):
    """6 -> hidden relu -> 4, compiled with momentum SGD (optimizer slots to lay out like their weights)."""
    model = api.Sequential([api.layers.Input((6,)), api.layers.Dense(hidden, activation="relu", name="hidden"),
                            api.layers.Dense(4, name="out")], name="mlp")
    model.compile(optimizer=api.optimizers.SGD(0.1, momentum=0.9), loss="mse", **_jax_backend(api))
    return model


def _jax_backend(api):
    return {"backend": "jax"} if api.__name__ == "mlcore" else {}


def spec(value):
    """The PartitionSpec without its trailing Nones: jit's outputs drop them, and ("model", None) and
    ("model",) are one layout."""
    axes = list(value.sharding.spec)
    while axes and axes[-1] is None:
        axes.pop()
    return tuple(axes)


def laid_out(api, x, y, initial):
    """What a ModelParallel over a (2, 4) mesh does with the model: the layouts of its weights and
    optimizer slots, its weights after 4 steps from `initial`, and its predictions."""
    mesh = api.distribution.DeviceMesh((2, 4), ["batch", "model"])
    with api.distribution.ModelParallel(layout_map=layout_map(api.distribution, mesh)).scope():
        model = mlp(api)
        model.set_weights(initial)
        result = {"weights": {w.path: spec(w.value) for w in model.weights}}
        model.fit(x, y, batch_size=8, shuffle=False, verbose=0)
        result["trained"] = {w.path: spec(w.value) for w in model.weights}
        result["slots"] = sorted(map(str, (spec(v.value) for v in model.optimizer.variables)))
        result["predict"] = model.predict(x, batch_size=8, verbose=0)
    return dict(result, fitted=model.get_weights())


def tensors(api):
    """distribute_tensor on a host array, on an array laid out already, and on a tracer; a variable
    given a layout; a variable made under DataParallel."""
    import jax
    d = api.distribution
    mesh = d.DeviceMesh((2, 4), ["batch", "model"])
    layout = d.TensorLayout(("batch", "model"), mesh)
    value = np.arange(32, dtype="float32").reshape(8, 4)
    placed = d.distribute_tensor(value, layout)
    traced = jax.jit(lambda t: d.distribute_tensor(t * 2, layout))(value)
    variable = api.Variable(np.ones((3, 8), "float32"), layout=d.TensorLayout((None, "model"), mesh))
    with d.DataParallel().scope():
        replicated = api.Variable(np.ones((3, 8), "float32"))
    return {"placed": (spec(placed), np.asarray(placed)), "same": d.distribute_tensor(placed, layout) is placed,
            "traced": (spec(traced), np.asarray(traced)), "variable": spec(variable.value),
            "data_parallel": spec(replicated.value)}


def errors(api):
    """A layout that does not split a weight's dimension evenly."""
    mesh = api.distribution.DeviceMesh((2, 4), ["batch", "model"])
    with api.distribution.ModelParallel(layout_map=layout_map(api.distribution, mesh)).scope():
        try:
            mlp(api, hidden=6)
        except ValueError as err:
            return str(err)


def worker(out):
    import keras
    import mlcore
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 6)).astype("float32"), rng.normal(size=(32, 4)).astype("float32")
    mlcore.utils.set_random_seed(0)
    one_device = mlp(mlcore)
    initial = one_device.get_weights()
    one_device.fit(x, y, batch_size=8, shuffle=False, verbose=0)
    results = {"one_device": one_device.get_weights(), "one_device_predict": one_device.predict(x, verbose=0)}
    results["uneven_batch"] = None
    with mlcore.distribution.ModelParallel(layout_map=layout_map(dist, dist.DeviceMesh((2, 4), ["batch", "model"]))
                                           ).scope():
        try:
            one_device.predict(x, batch_size=3, verbose=0)
        except ValueError as err:
            results["uneven_batch"] = str(err)
    for api in (mlcore, keras):
        results[api.__name__] = dict(laid_out(api, x, y, initial), tensors=tensors(api), uneven=errors(api))
    Path(out).write_bytes(pickle.dumps(results))


# --- tests ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def on_8_devices(tmp_path_factory):
    out = tmp_path_factory.mktemp("model_parallel") / "results.pkl"
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu",
               KERAS_BACKEND="jax", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, __file__, str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return pickle.loads(out.read_bytes())


def test_variables_are_laid_out_as_keras_lays_them_out(on_8_devices):
    ours, theirs = on_8_devices["mlcore"], on_8_devices["keras"]
    assert ours["weights"] == theirs["weights"] == {
        "mlp/hidden/kernel": (None, "model"), "mlp/hidden/bias": ("model",),
        "mlp/out/kernel": ("model",), "mlp/out/bias": ()}
    assert ours["trained"] == theirs["trained"] == ours["weights"]   # training keeps the layouts
    assert ours["slots"] == theirs["slots"]                          # the momentums follow their weights


def test_model_parallel_fit_matches_one_device_and_keras(on_8_devices):
    ours = on_8_devices["mlcore"]
    for sharded, one, keras_weight in zip(ours["fitted"], on_8_devices["one_device"], on_8_devices["keras"]["fitted"],
                                          strict=True):
        np.testing.assert_allclose(sharded, one, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(sharded, keras_weight, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ours["predict"], on_8_devices["one_device_predict"], rtol=RTOL, atol=ATOL)


def test_distribute_tensor_matches_keras(on_8_devices):
    ours, theirs = on_8_devices["mlcore"]["tensors"], on_8_devices["keras"]["tensors"]
    for key in ("placed", "traced"):
        assert ours[key][0] == theirs[key][0] == ("batch", "model")
        np.testing.assert_array_equal(ours[key][1], theirs[key][1])
    assert ours["same"] and theirs["same"]
    assert ours["variable"] == theirs["variable"] == (None, "model")
    assert ours["data_parallel"] == theirs["data_parallel"] == ()


def test_uneven_splits_are_clear_errors(on_8_devices):
    assert on_8_devices["keras"]["uneven"] is not None     # Keras (jax) refuses it too
    assert on_8_devices["mlcore"]["uneven"].endswith("Variable 'mlp/hidden/kernel' of shape (6, 6) cannot take the "
                                                "layout (None, 'model'): a dimension of 6 does not split into 4 "
                                                "equal parts")
    assert "batch of 3 rows does not split evenly over the 2 devices of the active distribution's 'batch' axis" \
        in on_8_devices["uneven_batch"]


def test_layout_map_lookups_match_keras(keras):
    results = []
    for api in (dist, keras.distribution):
        mesh = api.DeviceMesh((1, 1), ["batch", "model"], api.list_devices()[:1])
        layouts = layout_map(api, mesh)
        found = [layouts[path] for path in ("mlp/hidden/kernel", "mlp/hidden/bias", "mlp/out/kernel", "mlp/out/bias")]
        results.append(([None if f is None else f.axes for f in found], found[0].device_mesh is mesh, len(layouts),
                        list(layouts), layouts.get("nothing/here")))
        layouts["mlp/.*"] = ("batch",)
        with pytest.raises(ValueError, match="matches multiple layout specification keys"):
            layouts["mlp/hidden/bias"]
        del layouts["mlp/.*"]
        with pytest.raises(ValueError, match="already exist in the LayoutMap"):
            layouts[".*hidden/bias"] = ("model",)
        with pytest.raises(ValueError, match="should be a TensorLayout type"):
            layouts["list"] = [None, "model"]
        with pytest.raises(ValueError, match="Invalid axis names for Layout"):
            layouts["bad"] = ("data",)
        with pytest.raises(ValueError, match="Cannot override device mesh"):
            api.TensorLayout((None,), mesh).device_mesh = mesh
    assert results[0] == results[1]
    assert results[0][0] == [(None, "model"), ("model",), ("model", None), None]


def test_model_parallel_arguments_match_keras(keras):
    described = []
    for api in (dist, keras.distribution):
        mesh = api.DeviceMesh((1, 1), ["batch", "model"], api.list_devices()[:1])
        layouts = layout_map(api, mesh)
        default = api.ModelParallel(layout_map=layouts)
        by_model = api.ModelParallel(layout_map=layouts, batch_dim_name="model", device_mesh=mesh,
                                     auto_shard_dataset=False)
        variable = type("V", (), {"path": "mlp/out/bias", "shape": (4,), "_layout": None})()
        given = type("V", (), {"path": "mlp/out/bias", "shape": (4,), "_layout": layouts["mlp/out/kernel"]})()
        described.append((default.batch_dim_name, default.device_mesh is mesh, default.auto_shard_dataset,
                          by_model.batch_dim_name, by_model.auto_shard_dataset, default.num_model_replicas,
                          default.get_data_layout((8, 6, 2)).axes, default.get_variable_layout(variable).axes,
                          default.get_variable_layout(given) is layouts["mlp/out/kernel"],
                          default.get_tensor_layout("mlp/hidden/kernel").axes, default.get_tensor_layout("x"),
                          api.DataParallel().get_tensor_layout("x"), api.DataParallel().get_data_layout((8, 2)).axes))
        with pytest.raises(ValueError, match="You must specify a layout_map argument"):
            api.ModelParallel()
        with pytest.raises(ValueError, match="must be a `LayoutMap` instance"):
            api.ModelParallel(layout_map={".*": (None,)})
        with pytest.raises(TypeError):
            api.ModelParallel(layouts)          # keyword-only, as in Keras
    assert described[0] == described[1]
    layouts = layout_map(dist, dist.DeviceMesh((1, 1), ["batch", "model"], dist.list_devices()[:1]))
    with pytest.raises(TypeError, match="unexpected keyword arguments: \\['mesh'\\]"):
        dist.ModelParallel(layout_map=layouts, mesh=None)
    with pytest.raises(ValueError, match="batch_dim_name 'data' is not an axis"):
        dist.ModelParallel(layout_map=layouts, batch_dim_name="data")


if __name__ == "__main__":
    worker(sys.argv[1])
