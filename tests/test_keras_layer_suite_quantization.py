"""What tools/keras_layer_suite.py found in the quantization of Dense, EinsumDense and Embedding, against
Keras 3 on jax: the `kernel` / `embeddings` property of an int4 or calibrated GPTQ/AWQ layer gives the
unpacked values, a quantized dtype policy set on a built layer quantizes it, and Keras's error phrases."""
import re

import numpy as np
import pytest

import mlcore
from mlcore.quantizers import unpack_int4

RNG = np.random.RandomState(0)


def _value(x):
    return np.asarray(mlcore.ops.convert_to_numpy(x))


def _int4_layers(library):
    """A built Dense, EinsumDense (3-D kernel) and Embedding of library, with the same float weights."""
    layers = [library.layers.Dense(6), library.layers.EinsumDense("ab,bcd->acd", (2, 3), bias_axes="d"),
              library.layers.Embedding(10, 6)]
    for layer, shape in zip(layers, ((None, 8), (None, 8), None)):
        layer.build(shape)
    rng = np.random.RandomState(1)
    for layer in layers:
        layer.set_weights([rng.randn(*w.shape).astype("float32") for w in layer.get_weights()])
    return layers


@pytest.mark.parametrize("block_size", [None, 4])
def test_int4_kernel_property_gives_the_unpacked_values(keras, block_size):
    theirs, ours = _int4_layers(keras), _int4_layers(mlcore)
    for their_layer, our_layer in zip(theirs, ours):
        for layer, library in ((their_layer, keras), (our_layer, mlcore)):
            layer.quantize("int4", config=library.quantizers.Int4QuantizationConfig(block_size=block_size))
        name = "embeddings" if isinstance(our_layer, mlcore.layers.Embedding) else "kernel"
        expected = np.asarray(getattr(their_layer, name))
        got = _value(getattr(our_layer, name))
        assert got.dtype == expected.dtype == np.int8
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(_value(getattr(our_layer, "_" + name)),
                                      np.asarray(getattr(their_layer, "_" + name)))    # packed as stored


@pytest.mark.parametrize("mode", ["gptq", "awq"])
def test_calibrated_kernel_property_gives_the_unpacked_values(keras, mode):
    for library in (keras, mlcore):
        layer = library.layers.Dense(3)
        layer.build((None, 4))
        config = (library.quantizers.GPTQConfig(dataset=None, tokenizer=None, weight_bits=4, group_size=8)
                  if mode == "gptq" else library.quantizers.AWQConfig(dataset=None, tokenizer=None, group_size=8))
        layer.quantize(mode, config=config)
        packed = RNG.randint(0, 256, layer.quantized_kernel.shape).astype("uint8")
        layer.quantized_kernel.assign(packed)
        setattr(layer, "is_%s_calibrated" % mode, True)
        got = _value(layer.kernel) if library is mlcore else np.asarray(layer.kernel)
        assert got.dtype == np.uint8 and got.shape == (3, 4)
        np.testing.assert_array_equal(got, _value(unpack_int4(packed, 3, axis=0, dtype="uint8")))


def keras_words(message):
    """An error's text as Keras words it: mlcore adds the layer's name and class at the end."""
    return re.sub(r" \(layer '[^']*', \w+\)$", "", message)


@pytest.mark.parametrize("policy", ["int8_from_float32", "float8_from_float32", "int4_from_float32",
                                    "int4/2_from_float32"])
def test_setting_a_quantized_policy_quantizes_the_built_layer(keras, policy):
    def variables(library, make):
        layer = make(library)
        layer.build((None, 4))
        try:
            layer.dtype_policy = policy
        except NotImplementedError as error:
            return keras_words(str(error))
        return layer.dtype_policy.name, [(v.name, tuple(v.shape), str(np.dtype(v.dtype))) for v in layer.variables]

    for make in (lambda k: k.layers.Dense(3), lambda k: k.layers.EinsumDense("ab,bcd->acd", (2, 3), bias_axes="d"),
                 lambda k: k.layers.Embedding(5, 4)):
        assert variables(mlcore, make) == variables(keras, make)


def test_setting_a_gptq_policy_is_refused_as_in_keras(keras):
    errors = []
    for library in (keras, mlcore):
        layer = library.layers.Dense(3)
        layer.build((None, 4))
        with pytest.raises(ValueError) as error:
            layer.dtype_policy = "gptq/4/128_from_float32"
        errors.append(str(error.value))
    assert errors[0] == errors[1]


def test_an_unquantizable_mode_gives_keras_error(keras):
    def message(library, make, action):
        layer = make(library)
        layer.build((None, 4))
        with pytest.raises(NotImplementedError) as error:
            action(layer)
        return keras_words(str(error.value))

    for make in (lambda k: k.layers.Dense(3), lambda k: k.layers.EinsumDense("ab,bc->ac", (3,)),
                 lambda k: k.layers.Embedding(5, 4)):
        for action in (lambda layer: layer.quantized_build((4, 3), "int7"),
                       lambda layer: layer.quantized_call(np.zeros((2, 4), "float32"))):
            assert message(mlcore, make, action) == message(keras, make, action)
    embedding = (lambda k: k.layers.Embedding(5, 4))
    assert message(mlcore, embedding, lambda layer: layer.quantize("float8")) == \
        message(keras, embedding, lambda layer: layer.quantize("float8"))


def test_embedding_dim_error_says_what_keras_says(keras):
    for library in (keras, mlcore):
        with pytest.raises(ValueError, match=r"Received: input_dim=3 \(of type str\)\."):
            library.layers.Embedding(input_dim="3", output_dim=8)


@pytest.mark.parametrize("mode", ["int8", "int4"])
def test_quantized_lora_kernel_property_adds_the_update_as_keras(keras, mode):
    def kernels(library):
        rng = np.random.RandomState(2)
        found = []
        for layer in _int4_layers(library):
            layer.enable_lora(2)
            name = "embeddings" if isinstance(layer, library.layers.Embedding) else "kernel"
            for side in "ab":
                factor = getattr(layer, "lora_%s_%s" % (name, side))
                factor.assign(rng.randn(*factor.shape).astype("float32"))
            layer.quantize(mode)
            found.append(np.asarray(getattr(layer, name)) if library is keras else _value(getattr(layer, name)))
        return found

    for got, expected in zip(kernels(mlcore), kernels(keras)):
        assert got.dtype == expected.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
