"""What Keras's own layer tests (tools/keras_layer_suite.py) found in mlcore's attention, convolution,
pooling and normalization layers, compared with Keras 3 (jax): Keras's argument errors, the "valid"
window larger than the input, attention over (batch, ..., T, dim) inputs, MultiHeadAttention's and
GroupQueryAttention's `_compute_attention` override point, LayerNormalization's rms_scaling and the
stateless layers built once made."""
import inspect
import warnings

import numpy as np
import pytest

from mlcore import layers, ops

RNG = np.random.default_rng(0)


def _error(make):
    """The ValueError make() raises, as a string."""
    with pytest.raises(ValueError) as info:
        make()
    return str(info.value)


def _same_error(keras, make):
    """make(layers module) raises the same ValueError with mlcore's layers as with Keras's."""
    assert _error(lambda: make(layers)) == _error(lambda: make(keras.layers))


@pytest.mark.parametrize("make", [
    lambda L: L.Conv2D(filters=2, kernel_size=(1, 0)),
    lambda L: L.Conv2D(filters=2, kernel_size=(2, 2), strides=(1, 0)),
    lambda L: L.Conv1D(filters=2, kernel_size=-1),
    lambda L: L.DepthwiseConv2D(kernel_size=(1, 0)),
    lambda L: L.Conv2DTranspose(2, 2, output_padding=-1),
    lambda L: L.Conv2D(filters=5, kernel_size=(2, 2), groups=0),
    lambda L: L.Conv1D(filters=5, kernel_size=2, groups=0),
], ids=["kernel_size", "strides", "conv1d_kernel", "depthwise", "output_padding", "groups_zero", "conv1d_groups"])
def test_conv_argument_errors_as_keras(keras, make):
    _same_error(keras, make)


@pytest.mark.parametrize("make, shape", [
    (lambda L: L.DepthwiseConv1D(11, strides=5, data_format="channels_last"), (4, 10, 3)),
    (lambda L: L.DepthwiseConv2D(5, strides=2, data_format="channels_last"), (2, 4, 4, 3)),
    (lambda L: L.SeparableConv2D(2, (1, 11), data_format="channels_last"), (4, 1, 10, 3)),
    (lambda L: L.Conv2D(2, 3, data_format="channels_first"), (1, 3, 2, 8)),
    (lambda L: L.Conv1D(2, 2, dilation_rate=5, data_format="channels_last"), (1, 5, 3)),
], ids=["depthwise_1d", "depthwise_2d", "separable_2d", "conv2d_channels_first", "conv1d_dilated"])
def test_window_larger_than_the_input_is_keras_error(keras, make, shape):
    """... where a transposed convolution's window, which grows its input, is no error."""
    x = RNG.random(shape).astype("float32")
    for library in (layers, keras.layers):
        with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
            make(library)(x)
        assert library.Conv2DTranspose(2, 5)(np.ones((1, 2, 2, 3), "float32")).shape == (1, 6, 6, 2)


@pytest.mark.parametrize("kwargs", [{}, {"use_scale": True}, {"score_mode": "concat"}])
def test_attention_over_more_leading_dims_as_keras(keras, kwargs):
    query = RNG.random((2, 3, 6, 4)).astype("float32")
    value = RNG.random((2, 3, 5, 4)).astype("float32")
    value_mask = RNG.random((2, 3, 5)) > 0.3
    ours = layers.Attention(**kwargs)([query, value], mask=[None, value_mask], return_attention_scores=True,
                                      use_causal_mask=True)
    theirs = keras.layers.Attention(**kwargs)([query, value], mask=[None, value_mask], return_attention_scores=True,
                                              use_causal_mask=True)
    for got, expected in zip(ours, theirs):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_additive_attention_over_more_leading_dims_as_keras(keras):
    query, value = RNG.random((2, 3, 6, 4)).astype("float32"), RNG.random((2, 3, 5, 4)).astype("float32")
    query_mask = RNG.random((2, 3, 6)) > 0.3
    ours, theirs = layers.AdditiveAttention(), keras.layers.AdditiveAttention()
    ours.build([query.shape, value.shape])
    theirs.build([query.shape, value.shape])
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours([query, value], mask=[query_mask, None]),
                               theirs([query, value], mask=[query_mask, None]), rtol=1e-5, atol=1e-6)


def test_attention_output_shape_of_input_shapes(keras):
    """x.shape of an Input (unknown batch) gives Keras's (None, Tq, dim), whatever an earlier call asked."""
    for library in (layers, keras.layers):
        attention = library.Attention()
        attention([RNG.random((2, 3, 5)), RNG.random((2, 4, 5))], return_attention_scores=True)
        query, value = library.Input(shape=(3, 5)), library.Input(shape=(4, 5))
        assert attention.compute_output_shape([query.shape, value.shape]) == (None, 3, 5)
        assert attention([query, value]).shape == (None, 3, 5)


@pytest.mark.parametrize("name, call", [
    ("AdditiveAttention", lambda layer, t: layer(t)),       # its build() read the shape as a list of shapes
    ("Attention", lambda layer, t: layer([t, t], mask=t)),
    ("AdditiveAttention", lambda layer, t: layer([t, t], mask=t)),
    ("Attention", lambda layer, t: layer([t, t], mask=[t])),
], ids=["not_a_list", "mask_not_a_list", "additive_mask_not_a_list", "one_mask"])
def test_attention_input_errors_as_keras(keras, name, call):
    tensor = np.ones((1, 2, 2), "float32")
    ours, theirs = (_error(lambda: call(getattr(library, name)(), tensor)) for library in (layers, keras.layers))
    assert ours.split("Received")[0] in theirs      # Keras's eager call wraps its message


@pytest.mark.parametrize("kwargs", [
    {"num_heads": 0, "key_dim": 4}, {"num_heads": 1.5, "key_dim": 4}, {"num_heads": 4, "key_dim": -2},
    {"num_heads": 4, "key_dim": 4, "value_dim": 1.5}, {"num_heads": 2, "key_dim": 16, "output_shape": 8.0},
    {"num_heads": 2, "key_dim": 4, "sliding_window": 0}, {"num_heads": 2, "key_dim": 4, "attention_axes": "x"},
], ids=["num_heads", "num_heads_float", "key_dim", "value_dim", "output_shape", "sliding_window", "attention_axes"])
def test_multi_head_attention_argument_errors_as_keras(keras, kwargs):
    _same_error(keras, lambda L: L.MultiHeadAttention(**kwargs))


def test_compute_attention_signatures_are_keras(keras):
    for ours, theirs in ((layers.MultiHeadAttention, keras.layers.MultiHeadAttention),
                         (layers.GroupedQueryAttention, keras.layers.GroupQueryAttention)):
        assert list(inspect.signature(ours._compute_attention).parameters) == \
            list(inspect.signature(theirs._compute_attention).parameters)


@pytest.mark.parametrize("make", [
    lambda L: L.MultiHeadAttention(num_heads=4, key_dim=4),
    lambda L: getattr(L, "GroupQueryAttention", None) and L.GroupQueryAttention(head_dim=4, num_query_heads=4,
                                                                                 num_key_value_heads=2)
    or L.GroupedQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2),
], ids=["multi_head", "grouped_query"])
def test_compute_attention_applies_its_causal_mask_as_keras(keras, make):
    """Called directly (heads already repeated for GroupQueryAttention), with an attention mask and
    use_causal_mask=True: both masks apply, the outputs Keras's."""
    t = 5
    query, key, value = (RNG.standard_normal((1, t, 4, 4)).astype("float32") for _ in range(3))
    extra = np.ones((1, t, t), dtype="bool")
    extra[:, 3, 1] = False
    outputs = []
    for library in (layers, keras.layers):
        layer = make(library)
        layer.build(query_shape=(1, t, 16), value_shape=(1, t, 16))
        both = layer._compute_attention(query, key, value, attention_mask=extra, use_causal_mask=True)[0]
        merged = layer._compute_attention(query, key, value, attention_mask=extra & np.tril(np.ones((t, t), bool)))[0]
        both, merged = (np.asarray(ops.convert_to_numpy(y)) for y in (both, merged))
        np.testing.assert_allclose(both, merged, atol=1e-5)
        outputs.append(both)
    np.testing.assert_allclose(*outputs, rtol=1e-5, atol=1e-5)


def test_subclass_with_keras_older_compute_attention_signature():
    """A subclass overriding _compute_attention without use_causal_mask gets the causal mask in attention_mask."""
    seen = {}

    class Sub(layers.MultiHeadAttention):
        def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                               return_attention_scores=False):
            seen["mask"] = attention_mask
            return super()._compute_attention(query, key, value, attention_mask, training, return_attention_scores)

    x = RNG.standard_normal((2, 5, 8)).astype("float32")
    Sub(num_heads=2, key_dim=4)(x, x, use_causal_mask=True)
    assert seen["mask"] is not None


def test_grouped_query_attention_output_shape_errors_as_keras(keras):
    _same_error(keras, lambda L: L.MultiHeadAttention(2, 2).compute_output_shape((2, 4, 8), (2, 2, 8), (2, 1, 7)))
    for library, cls in ((layers, "GroupedQueryAttention"), (keras.layers, "GroupQueryAttention")):
        layer = getattr(library, cls)(head_dim=2, num_query_heads=4, num_key_value_heads=4)
        with pytest.raises(ValueError, match="must be equal"):
            layer.compute_output_shape((2, 4, 8), (2, 2, 7), 2)
        query, value = library.Input((4, 8)), library.Input((2, 8))
        assert layer.compute_output_shape(query.shape, value.shape) == (None, 4, 8)
        assert library.MultiHeadAttention(2, 2, output_shape=3).compute_output_shape(query.shape, value.shape) \
            == (None, 4, 3)


def test_multi_head_attention_built_from_input_shapes_as_keras(keras):
    configs = []
    for library in (layers, keras.layers):
        layer = library.MultiHeadAttention(2, 2)
        assert layer.get_build_config() is None
        layer.build(library.Input((4, 8)).shape, library.Input((2, 8)).shape)
        configs.append({name: list(shape) for name, shape in layer.get_build_config()["shapes_dict"].items()})
    assert configs[0] == configs[1] == {"query_shape": [None, 4, 8], "value_shape": [None, 2, 8]}


@pytest.mark.parametrize("groups, shape", [(3, (2, 2, 2, 4)), (5, (2, 2, 2, 4)), (32, (None, 2, 2, 2, None))],
                         ids=["not_a_multiple", "more_groups", "undefined_channels"])
def test_group_normalization_errors_say_keras_words(keras, groups, shape):
    def call(library):
        inputs = library.Input(batch_shape=shape) if None in shape else np.ones(shape, "float32")
        library.GroupNormalization(groups=groups)(inputs)
    assert _error(lambda: call(keras.layers)) in _error(lambda: call(layers))


@pytest.mark.parametrize("kwargs", [{}, {"scale": False, "center": False}, {"axis": [1, 2]}])
def test_layer_normalization_rms_scaling_as_keras(keras, kwargs):
    x = RNG.standard_normal((3, 4, 5)).astype("float32")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = layers.LayerNormalization(rms_scaling=True, gamma_initializer="random_normal", **kwargs)
    assert "`rms_scaling=True`, which is deprecated" in str(caught[0].message)
    theirs = keras.layers.LayerNormalization(rms_scaling=True, **kwargs)
    ours.build(x.shape)
    theirs.build(x.shape)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights] == ["gamma"]
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-5, atol=1e-5)
    config = ours.get_config()
    assert config["rms_scaling"] is True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert layers.LayerNormalization.from_config(config).get_config() == config


@pytest.mark.parametrize("name, args", [
    ("MaxPooling1D", ()), ("AveragePooling2D", ((2, 2),)), ("MaxPooling3D", ()), ("GlobalAveragePooling1D", ()),
    ("GlobalMaxPooling2D", ()), ("GlobalAveragePooling3D", ()), ("UnitNormalization", ())])
def test_stateless_layers_are_built_once_made_as_keras(keras, name, args):
    assert getattr(layers, name)(*args).built and getattr(keras.layers, name)(*args).built


@pytest.mark.parametrize("name, kwargs", [("GroupNormalization", {"groups": 2}), ("LayerNormalization", {})])
def test_normalization_that_does_not_autocast_takes_float32_above_the_float16_range(name, kwargs):
    """Under mixed_float16 these layers take float inputs as they come and normalize in float32 (Keras's
    autocast=False): 70000 must not become inf in float16 on its way into an eager call."""
    keras = pytest.importorskip("keras")
    x = np.full((2, 4, 8), 70000.0, "float32")
    x[:, :, ::2] = 69000.0
    ours = getattr(layers, name)(dtype="mixed_float16", **kwargs)(x)
    theirs = getattr(keras.layers, name)(dtype="mixed_float16", **kwargs)(x)
    assert ours.dtype == np.float16 and not np.isnan(ours).any()
    np.testing.assert_allclose(ours.astype("float32"), np.asarray(theirs).astype("float32"), atol=1e-3)
