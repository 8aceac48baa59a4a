"""Keras 3.15's int4 quantization (per channel and grouped with zero points), EinsumDense int8/int4 with the
scale layout read off the equation, and ReversibleEmbedding's quantized reverse path, against Keras on jax:
the same quantized weights (values, dtypes, shapes, paths, order), the same predictions, .keras files both
ways and Keras's errors.

Predictions are bit-identical where the inputs are quantized too (int8 by int8 products, exact in int32,
then the same float rescaling).  Where a float product runs (weights-only modes, the dequantized int4
kernels) its sums may run in another order than XLA's, so those compare to 1e-6 relative."""
import numpy as np
import pytest

import mlcore
from mlcore import quantizers

RNG = np.random.RandomState(1)


def _int4_config(lib, block_size, activations=False):
    if block_size is None:
        return None
    quantizer = lib.quantizers.AbsMaxQuantizer() if activations else None
    return lib.quantizers.Int4QuantizationConfig(block_size=block_size, activation_quantizer=quantizer)


def _quantize_both(keras, ours, theirs, mode, config):
    """Quantize the twins (Keras's starting from our float weights); the weights must come out the same."""
    theirs.set_weights(ours.get_weights())
    ours.quantize(mode, config=config(mlcore))
    theirs.quantize(mode, config=config(keras))
    assert [(w.path, np.dtype(w.dtype).name, tuple(w.shape), w.trainable) for w in ours.weights] == \
        [(w.path, w.dtype, tuple(w.shape), w.trainable) for w in theirs.weights]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert _quantized_policies(ours) == _quantized_policies(theirs)


def _quantized_policies(model):
    return [layer.dtype_policy.name for layer in model.layers if layer.dtype_policy.quantization_mode]


def _compare_predictions(ours, theirs, x, exact):
    a, b = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
    if exact:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("block_size,activations", [(None, False), (-1, False), (4, False), (-1, True)])
def test_int4_dense_matches_keras(keras, block_size, activations):
    def model(lib):
        return lib.Sequential([lib.Input((10,)), lib.layers.Dense(5, name="d")], name="m")
    ours, theirs = model(mlcore), model(keras)
    _quantize_both(keras, ours, theirs, "int4", lambda lib: _int4_config(lib, block_size, activations))
    assert ours.layers[0].dtype_policy.name == ("int4/-1_from_float32" if block_size == -1 else
                                                "int4/%d_from_float32" % (block_size or 128))
    _compare_predictions(ours, theirs, RNG.randn(6, 10).astype("float32"), exact=activations)


EQUATIONS = [("ab,bc->ac", (10,), (6,), "c"), ("abc,cde->abde", (3, 10), (3, 2, 5), "de"),
             ("abc,cd->abd", (3, 10), (3, 6), None), ("abcd,cde->abe", (4, 3, 5), (4, 6), "e"),
             ("abcd,bce->ade", (3, 4, 2), (2, 5), None)]


@pytest.mark.parametrize("equation,input_shape,output_shape,bias_axes", EQUATIONS)
@pytest.mark.parametrize("mode,config", [("int8", "default"), ("int8", "weights only"), ("int4", None),
                                         ("int4", -1), ("int4", 4)])
def test_einsum_dense_quantization_matches_keras(keras, equation, input_shape, output_shape, bias_axes, mode, config):
    def model(lib):
        return lib.Sequential([lib.Input(input_shape),
                               lib.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, name="e")],
                              name="m")

    def make_config(lib):
        if mode == "int8":
            return None if config == "default" else lib.quantizers.Int8QuantizationConfig(activation_quantizer=None)
        return _int4_config(lib, config)
    ours, theirs = model(mlcore), model(keras)
    _quantize_both(keras, ours, theirs, mode, make_config)
    _compare_predictions(ours, theirs, RNG.randn(5, *input_shape).astype("float32"),
                         exact=(mode, config) == ("int8", "default"))


def test_einsum_dense_int8_gradient_uses_the_dequantized_kernel():
    layer = mlcore.layers.EinsumDense("abc,cde->abde", (3, 2, 4), bias_axes="de")
    mlcore.Sequential([mlcore.Input((3, 5)), layer]).quantize("int8")
    x = mlcore.tensor.tensor3("x")
    scale = layer.kernel_scale.get_value().reshape(1, 2, 4)      # laid out as the output (1, 1, 2, 4)
    float_kernel = layer.kernel.get_value() / scale
    outputs = layer(x)
    for d, e in np.ndindex(2, 4):   # one output column at a time: no float32 sum of the kernel to cancel
        value = mlcore.function([x], mlcore.grad(outputs[:, :, d, e].sum(), x))(np.ones((2, 3, 5), "float32"))
        np.testing.assert_allclose(value, np.broadcast_to(float_kernel[:, d, e], (2, 3, 5)), rtol=1e-6)


def test_einsum_dense_unquantizable_equation_fails_as_in_keras(keras):
    for lib in (mlcore, keras):
        model = lib.Sequential([lib.Input((3, 4)), lib.layers.EinsumDense("abc,dbc->ad", (6,), name="e")], name="m")
        with pytest.raises(ValueError, match="squeeze|laid out"):   # Keras: a failed squeeze
            model.quantize("int8")
    assert model.layers[0].dtype_policy.name == "float32"


@pytest.mark.parametrize("mode,config", [("int8", None), ("int8", "weights only"), ("int4", None), ("int4", -1),
                                         ("int4", 2)])
@pytest.mark.parametrize("tie_weights", [True, False, "plain Embedding"])
def test_embedding_and_reversible_embedding_quantization_match_keras(keras, mode, config, tie_weights):
    def model(lib):
        inputs = lib.Input((4,), dtype="int32")
        if tie_weights == "plain Embedding":
            return lib.Model(inputs, lib.layers.Embedding(7, 5, name="r")(inputs), name="m")
        layer = lib.layers.ReversibleEmbedding(7, 5, tie_weights=tie_weights, logit_soft_cap=3.0, name="r")
        hidden = layer(inputs)
        return lib.Model(inputs, [hidden, layer(hidden, reverse=True)], name="m")

    def make_config(lib):
        if mode == "int8":
            return None if config is None else lib.quantizers.Int8QuantizationConfig(activation_quantizer=None)
        return _int4_config(lib, config)
    ours, theirs = model(mlcore), model(keras)
    _quantize_both(keras, ours, theirs, mode, make_config)
    x = RNG.randint(0, 7, size=(3, 4))
    outputs, k_outputs = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
    outputs, k_outputs = (o if isinstance(o, list) else [o] for o in (outputs, k_outputs))
    np.testing.assert_array_equal(outputs[0], k_outputs[0])      # rows looked up and rescaled: exact
    if len(outputs) > 1:      # the logits: exact when int8 inputs meet an int8 table
        exact = mode == "int8" and config is None
        np.testing.assert_allclose(outputs[1], k_outputs[1], rtol=0 if exact else 1e-6, atol=0 if exact else 1e-6)


def _mixed_model(lib):
    inputs = lib.Input((3,), dtype="int32")
    embed = lib.layers.ReversibleEmbedding(9, 6, tie_weights=False, name="embed")
    x = embed(inputs)
    x = lib.layers.EinsumDense("abc,cd->abd", (3, 6), bias_axes="d", name="proj")(x)
    x = lib.layers.Dense(6, name="dense")(x)
    return lib.Model(inputs, embed(x, reverse=True), name="m")


@pytest.mark.parametrize("mode,block_size", [("int8", None), ("int4", 4), ("int4", -1)])
def test_quantized_keras_files_load_both_ways(keras, tmp_path, mode, block_size):
    ours, theirs = _mixed_model(mlcore), _mixed_model(keras)
    _quantize_both(keras, ours, theirs, mode, lambda lib: None if mode == "int8" else _int4_config(lib, block_size))
    x = RNG.randint(0, 9, size=(4, 3))
    expected = theirs.predict(x, verbose=0)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    in_keras = keras.saving.load_model(tmp_path / "ours.keras")
    in_mlcore = mlcore.saving.load_model(tmp_path / "theirs.keras")
    exact = mode == "int8"
    for model in (in_keras, in_mlcore):
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=0 if exact else 1e-6,
                                   atol=0 if exact else 1e-6)
    for a, b in zip(in_mlcore.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert _quantized_policies(in_mlcore) == _quantized_policies(theirs) == _quantized_policies(in_keras)


def test_grouped_quantizer_matches_keras(keras):
    x = RNG.randn(10, 6).astype("float32")
    x[:3, 0] = 0.5      # a flat group
    for block_size in (3, 4, 128):
        ours = quantizers.abs_max_quantize_grouped_with_zero_point(x, block_size, to_numpy=True)
        theirs = keras.quantizers.abs_max_quantize_grouped_with_zero_point(x, block_size, to_numpy=True)
        for a, b in zip(ours, theirs):
            assert np.asarray(a).dtype == np.asarray(b).dtype
            np.testing.assert_array_equal(a, np.asarray(b))
        ours = quantizers.abs_max_quantize_grouped_with_zero_point(x, block_size)
        theirs = keras.quantizers.abs_max_quantize_grouped_with_zero_point(x, block_size)
        np.testing.assert_array_equal(ours[0], np.asarray(theirs[0]))
        np.testing.assert_array_equal(ours[2], np.asarray(theirs[2]))
        # XLA's float32 division on this CPU is not correctly rounded: the scales may differ by an ulp
        np.testing.assert_allclose(ours[1], np.asarray(theirs[1]), rtol=2e-7, atol=0)
    values, scale, zero = (np.asarray(a) for a in quantizers.abs_max_quantize_grouped_with_zero_point(x, 4))
    groups = np.arange(10) // 4
    np.testing.assert_array_equal(quantizers.dequantize_with_sz_map(values, scale, zero, groups, group_axis=0),
                                  (values - zero[groups].astype("float32")) * scale[groups])
