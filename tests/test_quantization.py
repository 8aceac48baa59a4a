"""keras.quantizers and model.quantize("int8") against Keras 3 on jax: the quantizer functions' numbers,
the quantized weights, names, order and predictions of Dense and Embedding layers quantized in both
libraries from the same float weights, .keras files both ways, and Keras's errors."""
import numpy as np
import pytest

import mlcore
from mlcore import dtype_policies, quantizers

RNG = np.random.RandomState(0)


def test_abs_max_quantize_matches_keras(keras):
    x = RNG.randn(5, 7).astype("float32")
    for axis in (0, -1, (0, 1)):
        for to_numpy in (False, True):
            ours = quantizers.abs_max_quantize(x, axis, to_numpy=to_numpy)
            theirs = keras.quantizers.abs_max_quantize(x, axis, to_numpy=to_numpy)
            for a, b in zip(ours, theirs):
                assert np.asarray(a).dtype == np.asarray(b).dtype
                np.testing.assert_array_equal(a, np.asarray(b))
    ours = quantizers.AbsMaxQuantizer(value_range=(-8, 7))(x, axis=0)
    theirs = keras.quantizers.AbsMaxQuantizer(value_range=(-8, 7))(x, axis=0)
    np.testing.assert_array_equal(ours[0], np.asarray(theirs[0]))
    np.testing.assert_array_equal(ours[1], np.asarray(theirs[1]))


def test_fake_quant_and_float8_helpers_match_keras(keras):
    x = RNG.randn(4, 3).astype("float32") * 3
    for axis, lo, hi in ((None, -1.5, 2.0), (1, np.array([-1.0, -2.0, -0.5], "float32"),
                                             np.array([1.0, 2.5, 0.7], "float32"))):
        for narrow in (False, True):
            ours = quantizers.fake_quant_with_min_max_vars(x, lo, hi, num_bits=4, narrow_range=narrow, axis=axis)
            theirs = keras.quantizers.fake_quant_with_min_max_vars(x, lo, hi, num_bits=4, narrow_range=narrow,
                                                                   axis=axis)
            np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-6, atol=1e-6)
    amax, scale = np.array([0.0, 3.0, np.inf], "float32"), np.array([2.0, 2.0, 2.0], "float32")
    np.testing.assert_array_equal(quantizers.compute_float8_scale(amax, scale, 448.0, margin=1),
                                  np.asarray(keras.quantizers.compute_float8_scale(amax, scale, 448.0, margin=1)))
    history = np.array([1.0, 2.0, 3.0, 4.0], "float32")
    np.testing.assert_array_equal(quantizers.compute_float8_amax_history(x, history),
                                  np.asarray(keras.quantizers.compute_float8_amax_history(x, history)))
    np.testing.assert_array_equal(
        quantizers.quantize_and_dequantize(x * 100, np.float32(0.5), "float8_e4m3fn", "float32"),
        np.asarray(keras.quantizers.quantize_and_dequantize(x * 100, np.float32(0.5), "float8_e4m3fn", "float32")))


def test_int4_packing_matches_keras(keras):
    arr = RNG.randint(-8, 8, size=(5, 3)).astype("int8")
    for axis in (0, 1, -1):
        packed, shape, length = quantizers.pack_int4(arr, axis=axis)
        k_packed, k_shape, k_length = keras.quantizers.pack_int4(arr, axis=axis)
        np.testing.assert_array_equal(packed, np.asarray(k_packed))
        assert (shape, length) == (k_shape, k_length)
        np.testing.assert_array_equal(quantizers.unpack_int4(packed, length, axis=axis), arr)
    with pytest.raises(TypeError, match="Expected int8 tensor for packing, got int32"):
        quantizers.pack_int4(arr.astype("int32"))


def test_quantizer_serialization_matches_keras(keras):
    config = quantizers.Int8QuantizationConfig(weight_quantizer=quantizers.AbsMaxQuantizer(axis=0))
    k_config = keras.quantizers.Int8QuantizationConfig(weight_quantizer=keras.quantizers.AbsMaxQuantizer(axis=0))
    assert quantizers.serialize(config) == keras.quantizers.serialize(k_config)
    back = quantizers.deserialize(keras.quantizers.serialize(k_config))
    assert isinstance(back, quantizers.Int8QuantizationConfig) and back.weight_quantizer.axis == (0,)
    assert isinstance(quantizers.get("AbsMaxQuantizer"), quantizers.AbsMaxQuantizer)
    assert quantizers.get("abs_max_quantizer").value_range == (-127, 127)
    with pytest.raises(ValueError, match="Could not interpret quantizer identifier"):
        quantizers.get(3)
    with pytest.raises(ValueError, match=r"value_range=\(-8, 7\)"):
        quantizers.Int4QuantizationConfig(weight_quantizer=quantizers.AbsMaxQuantizer(), block_size=-1)


def test_quantized_dtype_policies_match_keras(keras):
    for name in ("int8_from_float32", "int8_from_mixed_bfloat16", "int4/128_from_float32", "int4/-1_from_float32",
                 "float8_from_float32"):
        ours, theirs = dtype_policies.get(name), keras.dtype_policies.get(name)
        assert repr(ours) == repr(theirs)
        assert (ours.name, ours.compute_dtype, ours.variable_dtype, ours.quantization_mode) == \
            (theirs.name, theirs.compute_dtype, theirs.variable_dtype, theirs.quantization_mode)
        assert dtype_policies.serialize(ours) == keras.dtype_policies.serialize(theirs)
        assert dtype_policies.deserialize(keras.dtype_policies.serialize(theirs)) == ours
    for bad in ("int8_float32", "int4/0_from_float32", "int4/x_from_float32"):
        with pytest.raises(ValueError) as ours:
            dtype_policies.get(bad)
        with pytest.raises(ValueError) as theirs:
            keras.dtype_policies.get(bad)
        assert str(ours.value) == str(theirs.value)


def _twin_models(lib):
    inputs = lib.Input((5,), dtype="int32")
    x = lib.layers.Embedding(12, 6, name="embed")(inputs)
    x = lib.layers.Dense(4, activation="relu", name="hidden")(x)
    outputs = lib.layers.Dense(3, use_bias=False, name="out")(x)
    return lib.Model(inputs, outputs)


def _quantized_pair(keras, config=None):
    ours, theirs = _twin_models(mlcore), _twin_models(keras)
    theirs.set_weights(ours.get_weights())
    ours.quantize("int8", config=config)
    theirs.quantize("int8", config=None if config is None else keras.quantizers.deserialize(
        quantizers.serialize(config)))
    return ours, theirs


@pytest.mark.parametrize("weights_only", [False, True])
def test_int8_model_matches_keras(keras, weights_only):
    config = quantizers.Int8QuantizationConfig(activation_quantizer=None) if weights_only else None
    ours, theirs = _quantized_pair(keras, config)
    for layer, k_layer in zip(ours.layers[1:], theirs.layers[1:]):     # after the InputLayer
        assert layer.dtype_policy == dtype_policies.deserialize(keras.dtype_policies.serialize(k_layer.dtype_policy))
        assert [(w.path, np.dtype(w.dtype).name, tuple(w.shape), w.trainable) for w in layer.weights] == \
            [(w.path, w.dtype, tuple(w.shape), w.trainable) for w in k_layer.weights]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    x = RNG.randint(0, 12, size=(7, 5))
    if weights_only:        # a float matmul: its sums may run in another order than XLA's
        np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-6, atol=1e-7)
    else:                   # int8 by int8, exact in int32, then the same float rescaling
        np.testing.assert_array_equal(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    assert ours.get_layer("hidden").get_config() == theirs.get_layer("hidden").get_config()


def test_quantized_model_gradient_uses_the_dequantized_kernel():
    layer = mlcore.layers.Dense(3)
    model = mlcore.Sequential([mlcore.Input((4,)), layer])
    model.quantize("int8")
    x = mlcore.tensor.matrix("x")
    out = layer(x)
    g = mlcore.grad(out.sum(), x)
    value = mlcore.function([x], g)(np.ones((2, 4), "float32"))
    float_kernel = layer.kernel.get_value() / layer.kernel_scale.get_value()
    np.testing.assert_allclose(value, np.tile(float_kernel.sum(axis=1), (2, 1)), rtol=1e-6)


def test_quantized_keras_files_load_both_ways(keras, tmp_path):
    ours, theirs = _quantized_pair(keras)
    x = RNG.randint(0, 12, size=(4, 5))
    expected = theirs.predict(x, verbose=0)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    in_keras = keras.saving.load_model(tmp_path / "ours.keras")
    in_mlcore = mlcore.saving.load_model(tmp_path / "theirs.keras")
    np.testing.assert_array_equal(in_keras.predict(x, verbose=0), expected)
    np.testing.assert_array_equal(in_mlcore.predict(x, verbose=0), expected)
    assert in_mlcore.get_layer("hidden").dtype_policy.name == "int8_from_float32"
    assert isinstance(in_mlcore.get_layer("hidden").quantization_config, quantizers.Int8QuantizationConfig)
    for a, b in zip(in_mlcore.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


def test_quantize_errors_match_keras(keras):
    def unbuilt(lib):
        return lambda: lib.Sequential([lib.layers.Dense(3)], name="seq").quantize("int8")

    def bad_mode(lib):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3)])
        return lambda: model.quantize("int9")

    def twice(lib):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, name="d")])
        model.quantize("int8")
        return lambda: model.quantize("int8")

    def contradictory(lib):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3)])
        return lambda: model.quantize("int4", config=lib.quantizers.Int8QuantizationConfig())

    def no_mode(lib):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3)])
        return lambda: model.quantize()

    for case in (unbuilt, bad_mode, twice, contradictory, no_mode):
        assert _error(case(mlcore)) == _error(case(keras)), case.__name__


def test_layers_without_quantization_are_left_alone_with_a_warning():
    model = mlcore.Sequential([mlcore.Input((4,)), mlcore.layers.Dense(3), mlcore.layers.ReLU()])
    with pytest.warns(UserWarning, match="ReLU"):
        model.quantize("int8")
    assert model.layers[1].dtype_policy.name == "float32"
