"""The GPU paths: mlcore's jax backend on jax's GPU device, and the theano backend through PyTensor's
JAX linker there, checked against the numpy reference on the CPU.  Every test is gpu-marked and
skips where jax sees no GPU (tests/test_conformance.py runs the op-by-op suite on the GPU too)."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from histories import assert_histories_close
from training_steps import convnet_batches, convnet_steps, mlp_batches, mlp_step

pytestmark = pytest.mark.gpu
jax = pytest.importorskip("jax")


def on_gpu(array):
    return {d.platform for d in array.devices()} == {"gpu"}


@pytest.mark.parametrize("backend", ["jax", "theano"])
def test_mlp_step_on_the_gpu_matches_numpy(backend, require_backend):
    """Ten steps of the 784-500-10 MLP: the same losses (rtol 1e-4) and the same weights."""
    require_backend(backend)
    (step, params), (reference, ref_params) = mlp_step(backend, "gpu"), mlp_step("numpy")
    for batch in mlp_batches(10):
        np.testing.assert_allclose(step(*batch), reference(*batch), rtol=1e-4)
    for p, r in zip(params, ref_params):
        assert on_gpu(p.container_value)            # the weights live on the device between steps
        np.testing.assert_allclose(p.get_value(), r.get_value(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("backend", ["jax", "theano"])
def test_convnet_step_on_the_gpu_matches_numpy(backend, require_backend):
    require_backend(backend)
    batches = convnet_batches()
    (losses, params), (ref_losses, ref_params) = convnet_steps(backend, batches, "gpu"), convnet_steps("numpy", batches)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-4)
    for p, r in zip(params, ref_params):
        np.testing.assert_allclose(p, r, rtol=1e-4, atol=1e-6)


def test_float32_products_are_not_rounded_to_tf32():
    """1 + 2**-12 survives a float32 dot (TensorFloat-32 keeps 10 mantissa bits and would drop it)."""
    a = T.fmatrix("a")
    fn = mlcore.function([a], T.dot(a, a.T), backend="jax", device="gpu")
    x = np.full((4, 64), 1 + 2.0 ** -12, dtype="float32")
    np.testing.assert_allclose(fn(x), x @ x.T, rtol=1e-6)


def test_gpu_functions_compile_with_every_kernel_run_in_a_cuda_graph():
    """The GPU's options: XLA records even a short run of kernels as one CUDA graph; the numbers
    are those of the numpy reference (the convolution and MLP steps above run with them too)."""
    from backends.jax.compiler import GPU_COMPILER_OPTIONS, compiler_options
    assert compiler_options("gpu") == GPU_COMPILER_OPTIONS == {"xla_gpu_graph_min_graph_size": 1}
    assert compiler_options("gpu", True) is compiler_options("gpu")   # small programs: the same options
    x = T.fmatrix("x")
    fn = mlcore.function([x], T.nnet.softmax(T.tanh(x) * 2), backend="jax", device="gpu")
    value = np.linspace(-2, 2, 12, dtype="float32").reshape(3, 4)
    reference = mlcore.function([x], T.nnet.softmax(T.tanh(x) * 2), backend="numpy")
    np.testing.assert_allclose(fn(value), reference(value), rtol=1e-6)


def test_a_shared_value_updated_on_the_gpu_is_seen_everywhere():
    counter = mlcore.shared(np.zeros(3, dtype="float32"), name="counter")
    on_device = mlcore.function([], [], updates={counter: counter + 1}, backend="jax", device="gpu")
    on_cpu = mlcore.function([], [], updates={counter: counter * 10}, backend="numpy")
    on_device()
    assert on_gpu(counter.container_value)
    on_cpu()
    on_device()
    np.testing.assert_array_equal(counter.get_value(), [11, 11, 11])


def test_cpu_functions_stay_on_the_cpu_of_a_gpu_machine():
    """jit would put numpy inputs on jax's default device, the GPU: a CPU function moves them itself."""
    x = T.fvector("x")
    fn = mlcore.function([x], mlcore.Out(2 * x, borrow=True), backend="jax", device="cpu")
    result = fn(np.ones(3, dtype="float32"))
    assert {d.platform for d in result.devices()} == {"cpu"}
    gpu_fn = mlcore.function([x], mlcore.Out(2 * x, borrow=True), backend="jax", device="gpu")
    assert on_gpu(gpu_fn(np.ones(3, dtype="float32")))


def test_keras_model_fits_on_the_gpu_as_on_the_cpu(rng):
    """A Sequential model trained with steps_per_execution (one lax.scan per run of steps) on each device."""
    x = rng.normal(size=(64, 8)).astype("float32")
    y = (x[:, :2].sum(axis=1) > 0).astype("float32")
    runs = []
    for device in ("cpu", "gpu"):
        mlcore.utils.set_random_seed(3)
        model = mlcore.Sequential([mlcore.Input((8,)), mlcore.layers.Dense(16, activation="relu"),
                                   mlcore.layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"], steps_per_execution=4,
                      backend="jax", device=device)
        history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, validation_split=0.25)
        runs.append((history.history, model.get_weights(), model.predict(x, verbose=0)))
    (cpu_history, cpu_weights, cpu_pred), (gpu_history, gpu_weights, gpu_pred) = runs
    assert_histories_close(gpu_history, cpu_history, rtol=1e-4)
    for g, c in zip(gpu_weights, cpu_weights):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gpu_pred, cpu_pred, rtol=1e-4, atol=1e-6)


def test_theano_gpu_functions_take_and_return_device_arrays(require_backend):
    """The JAX linker's functions run where the data are: no round trip through the host."""
    require_backend("theano")
    x = T.fvector("x")
    fn = mlcore.function([x], mlcore.Out(x * 2, borrow=True), backend="theano", device="gpu")
    result = fn(jax.device_put(np.arange(3, dtype="float32"), jax.devices("gpu")[0]))
    assert on_gpu(result) and np.asarray(result).tolist() == [0, 2, 4]
