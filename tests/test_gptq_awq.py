"""model.quantize("gptq" / "awq") against Keras 3.15 on jax: configs, policies, the zero-point quantizers,
GPTQ's error-correcting quantization, and whole models calibrated through an Embedding and two blocks of
Dense / EinsumDense layers, then saved and loaded both in mlcore and in Keras.

Keras 3.15.1's own model.quantize("gptq"/"awq") never feeds its calibration hooks: it wraps each layer's
`call`, but a quantized layer is dispatched to `quantized_call`, so every Hessian (every activation maximum)
stays zero and GPTQ and AWQ fall back to plain rounding.  The model tests therefore build Keras's reference
as its calibration means it: Keras's own GPTQ / AWQ objects fed each layer's inputs, block by block.

Float tolerances: jax on CPU divides by a broadcast value as a multiplication by its reciprocal, one ulp
away from numpy's correctly rounded division, so scales may differ in their last bit (rtol 2.5e-7); the
integers (quantized values, zero points) are the same.  AWQ's scales, x_max ** ratio normalised by a square
root, come from XLA's and libm's pow and sqrt, a few ulps apart, and the ranges of the scaled weights carry
that (rtol 1e-6)."""
import functools

import numpy as np
import pytest

import mlcore
from mlcore import dtype_policies, quantizers
from mlcore.quantizers import calibration, grouped
from mlcore.quantizers.gptq import damped_hessian, gptq_quantize_matrix

pytestmark = pytest.mark.usefixtures("numpy_backend")

VOCAB, LENGTH, DIM = 16, 6, 8
TOKENS = np.random.RandomState(3).randint(0, VOCAB, 120)
ULP = dict(rtol=2.5e-7, atol=0)
FLOAT_TOLERANCE = {"gptq": ULP, "awq": dict(rtol=1e-6, atol=0)}


def _twin_model(lib):
    """tokens -> Embedding -> block 1 (Dense, EinsumDense) -> block 2 (EinsumDense kernels (in, heads, head_dim)
    and (heads, head_dim, out), as attention's).  Every kernel is 8 x 8 as GPTQ sees it, so that Keras's eager
    column loop compiles its ops once."""
    inputs = lib.Input((LENGTH,), dtype="int32")
    embedding = lib.layers.Embedding(VOCAB, DIM, name="embed")
    blocks = [lib.Sequential([lib.layers.Dense(DIM, activation="relu", name="up"),
                              lib.layers.EinsumDense("abc,cd->abd", (LENGTH, DIM), bias_axes="d", name="down")],
                             name="block1"),
              lib.Sequential([lib.layers.EinsumDense("abc,cde->abde", (LENGTH, 2, 4), name="heads"),
                              lib.layers.EinsumDense("abde,def->abf", (LENGTH, DIM), bias_axes="f", name="out")],
                             name="block2")]
    x = embedding(inputs)
    for block in blocks:
        x = block(x)
    return lib.Model(inputs, x), {"pre_block_layers": [embedding], "sequential_blocks": blocks}


def _config(lib, mode, structure, **kwargs):
    config_class = lib.quantizers.GPTQConfig if mode == "gptq" else lib.quantizers.AWQConfig
    settings = dict(num_samples=4, sequence_length=LENGTH, group_size=4, quantization_layer_structure=structure)
    return config_class(dataset=[TOKENS], tokenizer=lambda text: text, **{**settings, **kwargs})


def _keras_reference(keras, model, structure, config):
    """What Keras's layer-wise calibration computes when its hooks see the layers' inputs."""
    from keras.src.quantizers.awq import AWQ
    from keras.src.quantizers.gptq import GPTQ
    from keras.src.quantizers.gptq_core import get_dataloader
    for layer in model.layers[1:]:
        for leaf in getattr(layer, "layers", [layer]):
            if isinstance(leaf, (keras.layers.Dense, keras.layers.EinsumDense)):
                leaf.quantize(config.mode, config=config)
    samples = get_dataloader(config.tokenizer, LENGTH, config.dataset, num_samples=config.num_samples)
    inputs = [structure["pre_block_layers"][0](sample) for sample in samples]
    for block in structure["sequential_blocks"]:
        objects, outputs = {}, []
        for x in inputs:
            for layer in block.layers:
                if hasattr(layer, "quantized_kernel"):
                    obj = objects.setdefault(layer.name, GPTQ(layer, config) if config.mode == "gptq" else
                                             AWQ(layer, config))
                    flat = keras.ops.reshape(x, (-1, obj.rows))
                    obj.update_hessian_with_batch(flat) if config.mode == "gptq" else \
                        obj.update_activation_magnitudes(flat)
                x = layer(x)
        for obj in objects.values():
            obj.quantize_and_correct_layer() if config.mode == "gptq" else obj.quantize_layer()
        for x in inputs:
            outputs.append(block(x))
        inputs = outputs


@pytest.fixture(scope="module", params=["gptq", "awq"])
def quantized_pair(request, keras):
    ours, structure = _twin_model(mlcore)
    theirs, k_structure = _twin_model(keras)
    theirs.set_weights(ours.get_weights())
    ours.quantize(request.param, config=_config(mlcore, request.param, structure))
    _keras_reference(keras, theirs, k_structure, _config(keras, request.param, k_structure))
    return request.param, ours, theirs


def test_calibrated_weights_match_keras(quantized_pair):
    mode, ours, theirs = quantized_pair
    ours_weights, their_weights = ours.weights, theirs.weights
    assert [(w.path, np.dtype(w.dtype).name, tuple(w.shape)) for w in ours_weights] == \
        [(w.path, w.dtype, tuple(w.shape)) for w in their_weights]
    for ours_w, theirs_w in zip(ours_weights, their_weights):
        a, b = ours_w.get_value(), np.asarray(theirs_w.value)
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, err_msg=ours_w.path, **FLOAT_TOLERANCE[mode])
        else:
            np.testing.assert_array_equal(a, b, err_msg=ours_w.path)
    for layer in ("up", "down", "heads", "out"):
        ours_layer = [leaf for block in ours.layers[2:] for leaf in block.layers if leaf.name == layer][0]
        assert ours_layer.dtype_policy.name == "%s/4/4_from_float32" % mode
        assert getattr(ours_layer, "is_%s_calibrated" % mode)


def test_calibrated_predictions_match_keras(quantized_pair):
    _, ours, theirs = quantized_pair
    x = np.random.RandomState(0).randint(0, VOCAB, (3, LENGTH))
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_calibrated_keras_files_round_trip_and_load_in_keras(quantized_pair, keras, tmp_path):
    mode, ours, _ = quantized_pair
    x = np.random.RandomState(1).randint(0, VOCAB, (2, LENGTH))
    expected = ours.predict(x, verbose=0)
    ours.save(tmp_path / "ours.keras")
    loaded = mlcore.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    out = loaded.get_layer("block2").get_layer("out")
    assert isinstance(out.dtype_policy, (dtype_policies.GPTQDTypePolicy, dtype_policies.AWQDTypePolicy))
    assert out.quantization_config.get_config() == ours.get_layer("block2").get_layer("out").quantization_config \
        .get_config()
    in_keras = keras.saving.load_model(tmp_path / "ours.keras")     # Keras reads the five / six variables back
    np.testing.assert_allclose(in_keras.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert in_keras.get_layer("block1").get_layer("down").get_config() == \
        loaded.get_layer("block1").get_layer("down").get_config()


def test_gptq_matrix_matches_keras_given_the_same_hessian(keras):
    from keras.src.quantizers import gptq as keras_gptq
    from keras.src.quantizers import quantizers as keras_quantizers
    rng = np.random.RandomState(0)
    weights, x = rng.randn(5, 12).astype("float32"), rng.randn(40, 12).astype("float32")
    hessian = damped_hessian(2 * x.T @ x / 40, 0.01)
    inverse = np.linalg.inv(hessian)
    for group_size, activation_order, symmetric in ((4, False, False), (-1, True, False), (4, True, True)):
        kwargs = dict(bits=3, symmetric=symmetric, per_channel=True, group_size=group_size)
        ours = gptq_quantize_matrix(weights, inverse, group_size=group_size, activation_order=activation_order,
                                    order_metric=np.diagonal(hessian), compute_scale_zero=functools.partial(
                                        grouped.compute_quantization_parameters, **kwargs))
        theirs = keras_gptq.gptq_quantize_matrix(
            weights, inverse, group_size=group_size, activation_order=activation_order,
            order_metric=np.diagonal(hessian),
            compute_scale_zero=functools.partial(keras_quantizers.compute_quantization_parameters, **kwargs))
        for name, a, b in zip(("quantized", "scale", "zero", "g_idx"), ours, theirs):
            assert np.asarray(a).dtype == np.asarray(b).dtype, name
            np.testing.assert_allclose(a, np.asarray(b), err_msg=name, **ULP)     # integers: exactly
        assert np.asarray(ours[0]).max() <= 7


def test_zero_point_quantizers_match_keras(keras):
    from keras.src.quantizers import quantizers as keras_quantizers
    x = np.random.RandomState(2).randn(4, 10).astype("float32")
    x[1] += 3       # a row of positive weights: its zero point saturates at 0, as Keras's cast on jax does
    for kwargs in (dict(bits=4), dict(bits=4, per_channel=True, group_size=4),
                   dict(bits=8, symmetric=True, per_channel=True, signed=True), dict(bits=2, per_channel=True,
                                                                                     epsilon=0.1)):
        ours = grouped.compute_quantization_parameters(x, **kwargs)
        theirs = keras_quantizers.compute_quantization_parameters(x, **kwargs)
        for a, b in zip(ours, theirs):
            assert np.asarray(a).dtype == np.asarray(b).dtype
            np.testing.assert_allclose(a, np.asarray(b), **ULP)
    scale, zero, maxq = grouped.compute_quantization_parameters(x, bits=4, per_channel=True, group_size=4)
    g_idx = np.arange(10) // 4
    q = grouped.quantize_with_sz_map(x, scale, zero, g_idx, maxq)
    np.testing.assert_array_equal(q, keras_quantizers.quantize_with_sz_map(x, scale, zero, g_idx, maxq))
    np.testing.assert_allclose(grouped.dequantize_with_sz_map(q, scale, zero, g_idx),
                               keras_quantizers.dequantize_with_sz_map(q, scale, zero, g_idx), **ULP)


def test_calibration_samples_match_keras(keras):
    from keras.src.quantizers.gptq_core import get_dataloader

    class Tokenizer:
        def tokenize(self, text):
            return np.array([ord(c) % VOCAB for c in text])

    for dataset, kwargs in (([TOKENS[:7]], {}), (["some text", "more text here"], dict(eos_id=1)),
                            ([TOKENS], dict(strategy="linspace")), ([TOKENS], dict(strategy="random", seed=5))):
        np.testing.assert_array_equal(calibration.get_dataloader(Tokenizer(), 5, dataset, 6, **kwargs),
                                      get_dataloader(Tokenizer(), 5, dataset, 6, **kwargs))
    with pytest.raises(TypeError, match="must be an iterable"):
        calibration.get_dataloader(None, 5, "text", 6)


def test_configs_and_policies_match_keras(keras):
    for mode, kwargs in (("gptq", dict(weight_bits=3, group_size=-1, activation_order=True)),
                         ("awq", dict(num_grid_points=5, group_size=32))):
        ours, theirs = _config(mlcore, mode, None, **kwargs), _config(keras, mode, None, **kwargs)
        assert ours.get_config() == theirs.get_config()
        assert quantizers.serialize(ours) == keras.quantizers.serialize(theirs)
        assert (ours.mode, ours.dtype_policy_string()) == (theirs.mode, theirs.dtype_policy_string())
        assert quantizers.deserialize(keras.quantizers.serialize(theirs)).get_config() == theirs.get_config()
    for name in ("gptq/4/128_from_float32", "gptq/3/-1_from_mixed_bfloat16", "awq/4/64_from_float32"):
        ours, theirs = dtype_policies.get(name), keras.dtype_policies.get(name)
        assert (repr(ours), ours.quantization_mode, ours.weight_bits, ours.group_size) == \
            (repr(theirs), theirs.quantization_mode, theirs.weight_bits, theirs.group_size)
        assert dtype_policies.serialize(ours) == keras.dtype_policies.serialize(theirs)
        assert dtype_policies.deserialize(keras.dtype_policies.serialize(theirs)) == ours


def _message(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("mode, kwargs", [
    ("gptq", dict(weight_bits=5)), ("gptq", dict(hessian_damping=2.0)), ("gptq", dict(group_size=0)),
    ("gptq", dict(num_samples=0)), ("awq", dict(weight_bits=8)), ("awq", dict(num_grid_points=0)),
    ("awq", dict(sequence_length=-1))])
def test_bad_configs_fail_as_in_keras(keras, mode, kwargs):
    assert _message(lambda: _config(mlcore, mode, None, **kwargs)) == \
        _message(lambda: _config(keras, mode, None, **kwargs))


@pytest.mark.parametrize("policy", ["gptq/5/128_from_float32", "awq/8/128_from_float32", "gptq/4_from_float32",
                                    "awq/4/0_from_float32", "gptq/x/1_from_float32"])
def test_bad_policies_fail_as_in_keras(keras, policy):
    assert _message(lambda: dtype_policies.get(policy)) == _message(lambda: keras.dtype_policies.get(policy))


def test_quantize_errors_match_keras(keras):
    def small(lib):
        return lib.Sequential([lib.Input((5,)), lib.layers.Dense(10)])

    cases = [lambda lib: small(lib).quantize("gptq"), lambda lib: small(lib).quantize("awq"),
             lambda lib: small(lib).quantize("gptq", config={"weight_bits": 4}),
             lambda lib: small(lib).quantize("gptq", config=lib.quantizers.QuantizationConfig()),
             lambda lib: small(lib).quantize("gptq", config=lib.quantizers.GPTQConfig(["a"], lambda s: s))]
    for case in cases:
        assert _message(lambda: case(mlcore)) == _message(lambda: case(keras))


def test_quantize_checks_data_before_changing_layers():
    model, structure = _twin_model(mlcore)
    for config in (_config(mlcore, "gptq", None), mlcore.quantizers.AWQConfig(None, None)):
        with pytest.raises(ValueError, match="structure|dataset and a tokenizer"):
            model.quantize(config.mode, config=config)
    assert all(layer.dtype_policy.name == "float32" for layer in structure["sequential_blocks"][0].layers)


def test_filters_leave_layers_as_they_were():
    model, structure = _twin_model(mlcore)
    up = structure["sequential_blocks"][0].get_layer("up")
    kernel = up.kernel.get_value()
    model.quantize("gptq", config=_config(mlcore, "gptq", structure), filters=lambda layer: layer.name != "up")
    assert up.quantization_mode is None and not hasattr(up, "quantized_kernel")
    np.testing.assert_array_equal(up.kernel.get_value(), kernel)
    assert structure["sequential_blocks"][0].get_layer("down").is_gptq_calibrated


def test_gptq_needs_a_2d_or_3d_kernel():
    from mlcore.quantizers.gptq import GPTQ
    layer = mlcore.layers.EinsumDense("abc,cdef->abdef", (4, 2, 2, 2))
    layer.build((None, 4, 3))
    with pytest.raises(ValueError, match="EinsumDense '%s'.*2-D and 3-D kernels.*\\(3, 2, 2, 2\\)" % layer.name):
        GPTQ(layer)
