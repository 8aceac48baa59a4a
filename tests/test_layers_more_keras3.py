"""SpectralNormalization, ReversibleEmbedding, Pipeline, GroupQueryAttention and the adaptive pooling layers
against Keras 3's own layers holding the same weights: outputs (and attention scores) on every backend,
SpectralNormalization's training steps, gradients against finite differences, configs, signatures,
errors, and .keras archives written by Keras loading in mlcore.

All the layers are wired into one functional model, compiled into one function per backend (theano's
C compilation is the slow part)."""
import os

import numpy as np
import pytest

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import mlcore  # noqa: E402
from mlcore import function, layers  # noqa: E402
from mlcore.graph.basic import TensorType  # noqa: E402
from mlcore.models import load_model  # noqa: E402
from test_conv_layers_more import (BACKENDS, assert_config_is_keras, assert_keras_archives_load_both_ways,  # noqa: E402
                                   assert_signature_is_keras)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # jax arrays' __array__ in Keras

T, D, VOCAB = 5, 4, 9
IMAGE, VOLUME = (7, 5, 3), (5, 4, 6, 2)
ADAPTIVE_CASES = [      # (name, output_size, data_format, input)
    ("AdaptiveAveragePooling1D", 3, "channels_last", "x"), ("AdaptiveMaxPooling1D", 7, "channels_first", "x"),
    ("AdaptiveAveragePooling2D", (2, 3), "channels_last", "image"),
    ("AdaptiveMaxPooling2D", 2, "channels_first", "image"), ("AdaptiveMaxPooling2D", (3, 4), "channels_last", "image"),
    ("AdaptiveAveragePooling3D", (2, 3, 4), "channels_first", "volume"),
    ("AdaptiveMaxPooling3D", (3, 2, 4), "channels_last", "volume"),
]


def all_layers_model(lib, scores=True):
    """Every layer and call form under test, in one functional model of mlcore or Keras (scores=False: the
    attention layers without their scores, whose (outputs, scores) tuples mlcore's h5 configs cannot replay)."""
    L = lib.layers
    ids, x = lib.Input((T,), dtype="int32"), lib.Input((T, D))
    inputs = {"x": x, "image": lib.Input(IMAGE), "volume": lib.Input(VOLUME)}
    tied = L.ReversibleEmbedding(VOCAB, D, mask_zero=True, name="tied")
    untied = L.ReversibleEmbedding(VOCAB, D, tie_weights=False, logit_soft_cap=2.0, name="untied")
    vectors = tied(ids)
    outputs = [vectors, tied(x, reverse=True), untied(untied(ids), reverse=True),
               L.SpectralNormalization(L.Dense(3), power_iterations=2, name="sn_dense")(x),
               L.SpectralNormalization(L.Conv2D(2, 2), name="sn_conv")(inputs["image"]),
               L.SpectralNormalization(L.Embedding(VOCAB, 3), name="sn_embedding")(ids)]
    outputs += as_list(L.GroupQueryAttention(3, 4, 2, name="gqa")(x, x, return_attention_scores=scores,
                                                                   use_causal_mask=True))
    # vectors carry Embedding's mask: the value_mask
    outputs += as_list(L.GroupQueryAttention(2, 2, 1, use_gate=True, use_bias=False, sliding_window=2,
                                             name="gated")(x, vectors, return_attention_scores=scores))
    outputs += [getattr(L, name)(size, data_format=data_format)(inputs[source])
                for name, size, data_format, source in ADAPTIVE_CASES]
    outputs.append(L.Pipeline([L.Dense(3, name="p1"), L.Dense(2, activation="tanh", name="p2")], name="pipe")(x))
    return lib.Model([ids] + list(inputs.values()), outputs)


def as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def copy_weights(ours, theirs):
    """Each of our model's layers gets the weights of Keras's layer of the same name (layer by layer:
    mlcore's model lists a layer's trainable weights first, Keras SpectralNormalization's vector_u second)."""
    for layer in theirs.layers:
        if layer.weights:
            ours.get_layer(layer.name).set_weights(layer.get_weights())


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    ids = rng.integers(0, VOCAB, size=(3, T)).astype("int32")
    return [ids] + [rng.standard_normal((3,) + shape).astype("float32") for shape in ((T, D), IMAGE, VOLUME)]


@pytest.fixture(scope="module")
def models(keras):
    """(mlcore's model, Keras's twin), the same random weights in both (biases and vector_u too)."""
    rng = np.random.default_rng(11)
    theirs, ours = all_layers_model(keras), all_layers_model(mlcore)
    theirs.set_weights([w + rng.normal(0, 0.5, w.shape).astype("float32") for w in theirs.get_weights()])
    copy_weights(ours, theirs)
    return ours, theirs


@pytest.mark.parametrize("backend", BACKENDS)
def test_outputs_and_scores_match_keras(require_backend, backend, models, data):
    ours, theirs = models
    # training=False: else Pipeline's default training=True reaches the layers Keras runs after it
    expected = [np.asarray(y) for y in theirs(data, training=False)]
    results = function(ours.inputs, ours.outputs, backend=require_backend(backend))(*data)
    assert len(results) == len(expected) == 11 + len(ADAPTIVE_CASES)
    for k, (mine, ref) in enumerate(zip(results, expected)):
        assert mine.shape == ref.shape, k
        np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=2e-5, err_msg="output %d" % k)


# --- SpectralNormalization's training ----------------------------------------------------------------------
def spectral_model(lib):
    L = lib.layers
    return lib.Sequential([lib.Input((6, 6, 2)), L.SpectralNormalization(L.Conv2D(3, 3), name="sn_conv"),
                           L.Flatten(), L.SpectralNormalization(L.Dense(2), power_iterations=3, name="sn_dense")])


def test_spectral_normalization_trains_as_keras(keras, numpy_backend):
    """A few SGD steps: the same losses, the same u vectors, the same raw kernels (Keras's jax trainer keeps
    the kernel unnormalised: the step's forward pass alone uses W / sigma), then the same predictions."""
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((8, 6, 6, 2)).astype("float32"), rng.standard_normal((8, 2)).astype("float32")
    theirs, ours = spectral_model(keras), spectral_model(mlcore)
    copy_weights(ours, theirs)
    theirs.compile(keras.optimizers.SGD(0.1), "mse")
    ours.compile(mlcore.optimizers.SGD(0.1), "mse")
    for _ in range(3):
        np.testing.assert_allclose(ours.train_on_batch(x, y), theirs.train_on_batch(x, y), rtol=1e-5)
    for name in ("sn_conv", "sn_dense"):
        mine, ref = ours.get_layer(name), theirs.get_layer(name)
        assert [w.path.split("/")[-1] for w in ref.weights] == [w.path.split("/")[-1] for w in mine.weights]
        for a, b in zip(mine.get_weights(), ref.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert np.abs(theirs.get_layer("sn_dense").vector_u.numpy() - 0).max() > 0.05     # u moved from its init
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)),
                               rtol=1e-5, atol=1e-6)


def spectral_twins(keras, power_iterations, x):
    """mlcore's and Keras's SpectralNormalization(Dense(3)) built on x's shape, with Keras's weights in both."""
    ours = layers.SpectralNormalization(layers.Dense(3), power_iterations=power_iterations)
    theirs = keras.layers.SpectralNormalization(keras.layers.Dense(3), power_iterations=power_iterations)
    theirs(x)
    ours.build((None,) + x.shape[1:])
    ours.set_weights(theirs.get_weights())
    return ours, theirs


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")   # u of a zero kernel, as in Keras
def test_spectral_normalization_call_in_training_normalizes_the_kernel(keras, float32_jax, rng):
    """layer(x, training=True) uses W / sigma, sigma the largest singular value once u has converged;
    inference uses the stored kernel; an all-zero kernel stays zero, with u unchanged.  Keras's generator is
    seeded so that the kernel's top singular values are apart (1.74, 1.07) and 50 power steps converge."""
    keras.utils.set_random_seed(1)
    x = rng.standard_normal((4, 5)).astype("float32")
    ours, theirs = spectral_twins(keras, 50, x)
    kernel = ours.layer.kernel.get_value()
    np.testing.assert_allclose(ours(x), x @ kernel, rtol=1e-5, atol=1e-6)
    sigma = np.linalg.svd(kernel, compute_uv=False)[0]
    trained = ours(x, training=True)           # one call each: each moves u on by 50 steps
    np.testing.assert_allclose(trained, x @ kernel / sigma, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(trained, np.asarray(theirs(x, training=True)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.vector_u.get_value(), theirs.vector_u.numpy(), rtol=1e-4, atol=1e-6)

    ours.layer.kernel.set_value(np.zeros_like(kernel))
    u = ours.vector_u.get_value()
    np.testing.assert_allclose(ours(x, training=True), np.zeros((4, 3)) + ours.layer.bias.get_value(), atol=1e-7)
    np.testing.assert_array_equal(ours.vector_u.get_value(), u)


def test_spectral_normalization_one_power_step_per_training_call_as_keras(keras, float32_jax, rng):
    """With power_iterations=1, u after each training call equals Keras's: a step too many or too few
    would show (50 steps converge and would hide it)."""
    x = rng.standard_normal((4, 5)).astype("float32")
    ours, theirs = spectral_twins(keras, 1, x)
    for _ in range(3):
        np.testing.assert_allclose(ours(x, training=True), np.asarray(theirs(x, training=True)), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(ours.vector_u.get_value(), theirs.vector_u.numpy(), rtol=1e-5, atol=1e-6)


# --- gradients ---------------------------------------------------------------------------------------------
def gradient_cases():
    """(layer, input shape, call): float64 layers whose gradients are checked against finite differences."""
    return [
        (layers.ReversibleEmbedding(VOCAB, 3, logit_soft_cap=1.5), (2, 3, 3), lambda layer, x: layer(x, reverse=True)),
        (layers.ReversibleEmbedding(VOCAB, 3), (2, 3), lambda layer, x: layer(x, reverse=True)),
        (layers.GroupQueryAttention(2, 4, 2, use_gate=True), (2, 3, 3),
         lambda layer, x: layer(x, x[:, ::-1] * 2, use_causal_mask=True)),
        (layers.Pipeline([layers.Dense(3, activation="tanh"), layers.Dense(2)]), (2, 3), lambda layer, x: layer(x)),
        (layers.AdaptiveAveragePooling2D((2, 3), data_format="channels_first"), (2, 2, 5, 4),
         lambda layer, x: layer(x)),
        (layers.AdaptiveMaxPooling2D((3, 2)), (2, 5, 3, 2), lambda layer, x: layer(x)),
        (layers.AdaptiveMaxPooling1D(4), (2, 3, 2), lambda layer, x: layer(x)),
        (layers.AdaptiveAveragePooling3D(2), (1, 3, 4, 3, 1), lambda layer, x: layer(x)),
    ]


@pytest.mark.parametrize("case", range(len(gradient_cases())))
def test_gradients_match_finite_differences(rng, floatx, numpy_backend, layer_gradient_check, case):
    floatx("float64")
    layer, shape, call = gradient_cases()[case]
    symbol = TensorType("float64", (None,) + shape[1:])("x")
    output = call(layer, symbol)
    cost = (output * rng.normal(size=(shape[0],) + output.type.shape[1:])).sum()
    layer_gradient_check(layer, symbol, cost, rng.normal(size=shape))


# --- configs, signatures, errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [dict(), dict(tie_weights=False, mask_zero=True, reverse_dtype="float32",
                                                  logit_soft_cap=30.0)])
def test_reversible_embedding_config_is_keras(keras, kwargs):
    """Keras's keys (quantization_config at Keras's None: mlcore does not quantize)."""
    ours, theirs = layers.ReversibleEmbedding(7, 3, **kwargs), keras.layers.ReversibleEmbedding(7, 3, **kwargs)
    reference = theirs.get_config()
    assert set(ours.get_config()) == set(reference)
    for key in set(kwargs) | {"input_dim", "output_dim"}:
        assert ours.get_config()[key] == reference[key]
    assert layers.ReversibleEmbedding.from_config(ours.get_config()).get_config() == ours.get_config()


@pytest.mark.parametrize("name, kwargs", [
    ("GroupQueryAttention", dict(head_dim=2, num_query_heads=4, num_key_value_heads=2)),
    ("GroupQueryAttention", dict(head_dim=3, num_query_heads=2, num_key_value_heads=1, dropout=0.1,
                                 use_bias=False, sliding_window=3, use_gate=True, seed=4)),
    ("AdaptiveAveragePooling1D", dict(output_size=3)),
    ("AdaptiveMaxPooling2D", dict(output_size=(2, 3), data_format="channels_first")),
    ("AdaptiveAveragePooling3D", dict(output_size=4)),
])
def test_configs_have_keras_keys_and_round_trip(keras, name, kwargs):
    assert_config_is_keras(keras, name, kwargs, getattr(layers, name)(**kwargs))


def test_wrapping_layers_configs_round_trip(keras):
    ours = layers.SpectralNormalization(layers.Dense(2), power_iterations=3)
    assert set(ours.get_config()) == set(keras.layers.SpectralNormalization(keras.layers.Dense(2)).get_config())
    again = layers.SpectralNormalization.from_config(ours.get_config())
    assert again.power_iterations == 3 and again.layer.units == 2
    pipeline = layers.Pipeline([layers.Dense(2), layers.Dropout(0.5)], name="steps")
    assert set(pipeline.get_config()) == set(keras.layers.Pipeline([keras.layers.Dense(2)]).get_config())
    again = layers.Pipeline.from_config(pipeline.get_config())
    assert again.name == "steps" and [type(layer) for layer in again.layers] == [layers.Dense, layers.Dropout]


@pytest.mark.parametrize("name", ["SpectralNormalization", "ReversibleEmbedding", "Pipeline", "GroupQueryAttention",
                                  "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
                                  "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D"])
def test_signatures_match_keras(keras, name):
    assert_signature_is_keras(keras, name)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="power_iterations"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="has no attribute 'kernel' nor 'embeddings'"):
        layers.SpectralNormalization(layers.Dropout(0.5)).build((None, 3))
    with pytest.raises(ValueError, match="divisible"):
        layers.GroupQueryAttention(2, 3, 2)
    with pytest.raises(ValueError, match="last dimension"):
        layers.GroupQueryAttention(2, 2, 1).build((None, 3, 4), (None, 3, 5))
    with pytest.raises(TypeError, match="output_size"):
        layers.AdaptiveMaxPooling2D((2, 3, 4))
    with pytest.raises(ValueError, match="data_format"):
        layers.AdaptiveAveragePooling1D(2, data_format="channels_middle")
    with pytest.raises(ValueError, match="Pipeline"):
        layers.Pipeline(layers.Dense(2))
    with pytest.raises(ValueError, match="takes 4-d inputs"):
        layers.AdaptiveMaxPooling2D(2)(TensorType("float32", (None, 4, 3))())


# --- files -------------------------------------------------------------------------------------------------
def reversible_and_pooling_model(lib):
    L = lib.layers
    ids, image = lib.Input((T,), dtype="int32"), lib.Input(IMAGE)
    embedding = L.ReversibleEmbedding(VOCAB, D, tie_weights=False, logit_soft_cap=2.0)
    pooled = L.Flatten()(L.AdaptiveMaxPooling2D((2, 2))(L.AdaptiveAveragePooling2D(3, data_format="channels_first")(
        image)))
    return lib.Model([ids, image], L.Concatenate()([L.Flatten()(embedding(embedding(ids), reverse=True)), pooled]))


def test_archives_load_both_ways(tmp_path, keras, numpy_backend, data):
    theirs, ours = reversible_and_pooling_model(keras), reversible_and_pooling_model(mlcore)
    rng = np.random.default_rng(2)
    theirs.set_weights([w + rng.normal(0, 0.5, w.shape).astype("float32") for w in theirs.get_weights()])
    ours.set_weights(theirs.get_weights())
    x = [data[0], data[2]]
    expected = np.asarray(theirs.predict(x, verbose=0))
    assert_keras_archives_load_both_ways(tmp_path, keras, ours, theirs, x, expected)


def keras_archive_cases(lib):
    """Models holding GroupQueryAttention, Pipeline or SpectralNormalization (whose archives Keras writes
    in layouts mlcore reads, but not yet writes: see each case)."""
    L = lib.layers
    query, value = lib.Input((T, D)), lib.Input((T + 1, D))
    flat = lib.Input((D,))
    return {"gqa": lib.Model([query, value], L.GroupQueryAttention(2, 4, 2, use_gate=True)(query, value)),
            "pipeline": lib.Model(flat, L.Pipeline([L.Dense(3), L.Dense(2, activation="relu")])(flat)),
            "spectral": lib.Model(flat, L.SpectralNormalization(L.Dense(3))(flat))}


@pytest.mark.parametrize("case", ["gqa", "pipeline", "spectral"])
def test_keras_archives_load_in_mlcore(tmp_path, keras, numpy_backend, case):
    rng = np.random.default_rng(4)
    theirs = keras_archive_cases(keras)[case]
    theirs.set_weights([w + rng.normal(0, 0.5, w.shape).astype("float32") for w in theirs.get_weights()])
    x = [rng.standard_normal((3,) + tuple(t.shape[1:])).astype("float32") for t in theirs.inputs]
    theirs.save(str(tmp_path / "k.keras"))
    ours = load_model(str(tmp_path / "k.keras"))
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)),
                               rtol=1e-5, atol=1e-5)
    ours.save(str(tmp_path / "m.keras"))
    again = load_model(str(tmp_path / "m.keras"))
    for a, b in zip(again.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", ["gqa", "pipeline", "spectral"])
def test_mlcore_archives_load_in_keras(tmp_path, keras, numpy_backend, case):
    rng = np.random.default_rng(6)
    ours = keras_archive_cases(mlcore)[case]
    ours.set_weights([w + rng.normal(0, 0.5, w.shape).astype("float32") for w in ours.get_weights()])
    x = [rng.standard_normal((3,) + tuple(t.type.shape[1:])).astype("float32") for t in ours.inputs]
    ours.save(str(tmp_path / "m.keras"))
    theirs = keras.saving.load_model(str(tmp_path / "m.keras"))
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
    for mine, loaded in zip(ours.layers, theirs.layers):     # layer by layer: see copy_weights
        for a, b in zip(loaded.get_weights(), mine.get_weights()):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("extension", ["h5", "weights.h5"])
def test_mlcore_files_round_trip(tmp_path, numpy_backend, models, data, extension):
    ours = all_layers_model(mlcore, scores=False)
    ours.set_weights(models[0].get_weights())
    path = str(tmp_path / ("m." + extension))
    if extension == "h5":
        ours.save(path)
        again = load_model(path)
    else:
        ours.save_weights(path)
        again = all_layers_model(mlcore, scores=False)
        again.load_weights(path)
    for a, b in zip(again.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(again.predict(data, verbose=0), ours.predict(data, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# --- IntegerLookup: Keras 3.15's needs TensorFlow, so the expected values are those of its docs and tests ----
def lookup(data, **kwargs):
    adapt = kwargs.pop("adapt", None)
    layer = layers.IntegerLookup(**kwargs)
    if adapt is not None:
        layer.adapt(adapt)
    return np.asarray(layer(np.asarray(data)))


def test_integer_lookup_indices_as_keras_documents_them():
    vocab, data = [12, 36, 1138, 42], [[12, 1138, 42], [42, 1000, 36]]
    np.testing.assert_array_equal(lookup(data, vocabulary=vocab), [[1, 3, 4], [4, 0, 2]])
    np.testing.assert_array_equal(lookup(data, adapt=data), [[5, 2, 1], [1, 3, 4]])
    np.testing.assert_array_equal(lookup([[12, 1138, 42], [37, 1000, 36]], vocabulary=vocab, num_oov_indices=2),
                                  [[2, 4, 5], [1, 0, 3]])           # 37 % 2 = 1, 1000 % 2 = 0
    np.testing.assert_array_equal(lookup([0, 1, 2, 3], vocabulary=[1, 2, 3], mask_token=0), [0, 2, 3, 4])
    np.testing.assert_array_equal(lookup([[1, 3, 4], [4, 0, 2]], vocabulary=vocab, invert=True),
                                  [[12, 1138, 42], [42, -1, 36]])
    np.testing.assert_array_equal(lookup([1, 2, 3, 0, 7, -2], vocabulary=[10, 20, 30], invert=True, mask_token=5),
                                  [-1, 10, 20, 5, -1, -1])
    np.testing.assert_array_equal(lookup([2, 3, 4, 5], vocabulary=[1, 2, 3, 4], num_oov_indices=0), [1, 2, 3, -1])


def test_integer_lookup_adapts_as_keras():
    layer = layers.IntegerLookup()
    layer.adapt(np.array([[12, 1138, 42], [42, 1000, 36]]))
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]       # ties: the larger token first
    assert layer.get_vocabulary(include_special_tokens=False) == [42, 1138, 1000, 36, 12]
    layer = layers.IntegerLookup(max_tokens=4, mask_token=0)
    layer.adapt([1, 2, 3, 4, 5, 6, 1, 1, 2, 2, 0, 0, 0, 0])
    assert layer.get_vocabulary() == [0, -1, 2, 1] and layer.vocabulary_size() == 4     # 1 and 2: 3 times each
    with pytest.raises(ValueError, match="static vocabulary"):
        layers.IntegerLookup(vocabulary=[1, 2]).adapt([1, 2])


def test_integer_lookup_encodings_as_keras():
    adapt, sample = [1, 1, 1, 2, 2, 3], [1, 2, 4]
    np.testing.assert_array_equal(lookup(sample, adapt=adapt, output_mode="one_hot"),
                                  [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]])
    np.testing.assert_array_equal(lookup(sample, adapt=adapt, output_mode="multi_hot"), [1, 1, 1, 0])
    np.testing.assert_array_equal(lookup([1, 2, 3, 4, 1, 2, 1], adapt=adapt, output_mode="count"), [1, 3, 2, 1])
    np.testing.assert_allclose(lookup(sample, adapt=adapt, output_mode="tf_idf"),
                               [1.133732, 0.916291, 1.098612, 0.0], rtol=1e-6)
    vocab, data = [12, 36, 1138, 42], [[12, 1138, 42, 42], [42, 7, 36, 7]]
    np.testing.assert_array_equal(lookup(data, vocabulary=vocab, output_mode="multi_hot"),
                                  [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(lookup(data, vocabulary=vocab, output_mode="count"),
                                  [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    np.testing.assert_allclose(lookup(data, vocabulary=vocab, output_mode="tf_idf", idf_weights=[0.25, 0.75, 0.6, 0.4]),
                               [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6)
    np.testing.assert_allclose(lookup(data, vocabulary=[-1] + vocab, output_mode="tf_idf",
                                      idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4]),
                               [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]], rtol=1e-6)
    assert lookup([[1, 2], [3, 0]], vocabulary=[1, 2, 3], output_mode="one_hot").shape == (2, 2, 4)
    assert lookup([1, 2], vocabulary=[1, 2], output_mode="multi_hot", max_tokens=5,
                  pad_to_max_tokens=True).shape == (5,)
    # the mask token counts nowhere
    np.testing.assert_array_equal(lookup([[0, 1, 0, 9]], vocabulary=[1, 2], mask_token=0, output_mode="count"),
                                  [[1, 1, 0]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_integer_lookup_in_a_model_on_every_backend(require_backend, backend):
    tokens = mlcore.Input((4,), dtype="int64")
    forward = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], num_oov_indices=2, mask_token=0)
    backward = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], num_oov_indices=2, mask_token=0, invert=True)
    counts = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], output_mode="count")
    indices = forward(tokens)
    model = mlcore.Model(tokens, [indices, backward(indices), counts(tokens)])
    run = function(model.inputs, model.outputs, backend=require_backend(backend))
    got = run(np.array([[12, 0, 37, 42], [1138, 1000, 36, -3]]))
    np.testing.assert_array_equal(got[0], [[3, 0, 2, 6], [5, 1, 4, 2]])
    np.testing.assert_array_equal(got[1], [[12, 0, -1, 42], [1138, -1, 36, -1]])
    np.testing.assert_array_equal(got[2], [[2, 1, 0, 0, 1], [2, 0, 1, 1, 0]])


def test_integer_lookup_config_round_trips_and_refuses_what_it_cannot_do():
    layer = layers.IntegerLookup(vocabulary=[1, 2, 3], oov_token=7, mask_token=0, num_oov_indices=2)
    again = layers.IntegerLookup.from_config(layer.get_config())
    assert again.get_config() == layer.get_config() and again.get_vocabulary() == [0, 7, 7, 1, 2, 3]
    with pytest.raises(NotImplementedError, match="FarmHash"):
        layers.IntegerLookup(num_oov_indices=2, oov_method="farmhash")
    with pytest.raises(ValueError, match="sparse"):
        layers.IntegerLookup(sparse=True)
    with pytest.raises(ValueError, match="repeated"):
        layers.IntegerLookup(vocabulary=[1, 2, 1])
    with pytest.raises(ValueError, match="idf_weights"):
        layers.IntegerLookup(vocabulary=[1, 2], output_mode="tf_idf")
    with pytest.raises(ValueError, match="max_tokens"):
        layers.IntegerLookup(max_tokens=1)


@pytest.mark.parametrize("extension", ["keras", "h5"])
def test_adapted_integer_lookup_saves_and_loads(tmp_path, numpy_backend, extension):
    tokens = mlcore.Input((4,), dtype="int64")
    lookup_layer = layers.IntegerLookup(output_mode="tf_idf", mask_token=0, pad_to_max_tokens=True, max_tokens=8)
    lookup_layer.adapt(np.array([[1, 2, 2, 3], [3, 3, 4, 0]]))
    model = mlcore.Model(tokens, layers.Dense(2)(lookup_layer(tokens)))
    x = np.array([[1, 2, 9, 3], [0, 4, 4, 7]])
    model.save(str(tmp_path / ("m." + extension)))
    again = load_model(str(tmp_path / ("m." + extension)))
    assert again.layers[1].get_vocabulary() == [-1, 3, 2, 4, 1]
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_attention_scores_outputs_round_trip_through_h5(tmp_path, numpy_backend, data):
    model = all_layers_model(mlcore)
    model.save(str(tmp_path / "m.h5"))
    again = load_model(str(tmp_path / "m.h5"))
    for a, b in zip(again.predict(data, verbose=0), model.predict(data, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
