"""Keras masks: Embedding(mask_zero=True) and Masking make them, the layers that support masking pass them
on, RNNs skip the padded steps, GlobalAveragePooling1D, BatchNormalization and the merge layers take them
into account, and the loss and metrics of a masked output leave padded steps out.  Checked against
Keras 3 models holding the same weights (outputs, evaluate, and the weights after fit, on every backend),
and against an independent reading: an RNN over a masked sequence ends where the same RNN over the
sequence without its padding ends."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import layers
from mlcore.keras_masks import get_keras_mask

pytestmark = pytest.mark.usefixtures("numpy_backend", "float32_jax")
STEPS, VOCAB = 7, 20


@pytest.fixture
def tokens(rng):
    """Padded token sequences: trailing padding, leading padding, a hole, and none."""
    x = rng.integers(1, VOCAB, size=(4, STEPS))
    x[0, 4:] = 0
    x[1, :2] = 0
    x[2, 3] = 0
    return x


def as_list(outputs):
    return [np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def embedded(lib, head, mask_zero=True):
    """Input -> Embedding(mask_zero) -> head(lib, tensor), in mlcore or in Keras."""
    inputs = lib.layers.Input((STEPS,), dtype="int32")
    return lib.Model(inputs, head(lib, lib.layers.Embedding(VOCAB, 5, mask_zero=mask_zero)(inputs)))


def twin_models(keras, rng, make):
    """(mlcore model, Keras model) from make(module), with the same weights (Keras's, perturbed)."""
    ours, theirs = make(mlcore), make(keras)
    weights = [w + 0.3 * rng.normal(size=w.shape).astype(w.dtype) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return ours, theirs


def assert_predictions_match(ours, theirs, x):
    a, b = as_list(ours.predict(x, verbose=0)), as_list(theirs.predict(x, verbose=0))
    assert len(a) == len(b)
    for p, q in zip(a, b):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=2e-6)


# --- RNNs skip padded steps ------------------------------------------------------------------------
RNN_CASES = [
    ("SimpleRNN", {}),
    ("SimpleRNN", dict(return_sequences=True, go_backwards=True)),
    ("LSTM", {}),
    ("LSTM", dict(return_sequences=True)),
    ("LSTM", dict(return_sequences=True, zero_output_for_mask=True, return_state=True)),
    ("GRU", dict(go_backwards=True)),
    ("GRU", dict(return_sequences=True, zero_output_for_mask=True)),
]


@pytest.mark.parametrize("name,options", RNN_CASES)
def test_masked_rnns_match_keras(keras, rng, tokens, name, options):
    ours, theirs = twin_models(keras, rng, lambda lib: embedded(lib, lambda lib, e: getattr(lib.layers, name)(
        4, **options)(e)))
    assert_predictions_match(ours, theirs, tokens)
    unmasked = embedded(mlcore, lambda lib, e: getattr(lib.layers, name)(4, **options)(e), mask_zero=False)
    unmasked.set_weights(ours.get_weights())
    assert not np.allclose(as_list(unmasked.predict(tokens, verbose=0))[0], as_list(ours.predict(tokens, verbose=0))[0])


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_a_masked_rnn_ends_where_the_rnn_over_the_unpadded_sequence_ends(rng, name):
    """Independent of Keras: padding anywhere (after Masking) changes nothing, so each sample's last
    output is the RNN's output over its real steps alone."""
    x = rng.normal(size=(3, STEPS, 2)).astype("float32")
    real = [np.r_[0:7], np.r_[0:4], np.r_[0, 2, 3, 6]]
    padded = np.zeros_like(x)
    for k, steps in enumerate(real):
        padded[k, steps] = x[k, steps]
    rnn = getattr(layers, name)(3)
    model = mlcore.Sequential([layers.Input((STEPS, 2)), layers.Masking(), rnn])
    ends = model.predict(padded, verbose=0)
    for k, steps in enumerate(real):
        alone = rnn(x[k:k + 1, steps])         # the same layer, eagerly, on the real steps only
        np.testing.assert_allclose(ends[k], alone[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
def test_bidirectional_over_masked_sequences_matches_keras(keras, rng, tokens, merge_mode):
    ours, theirs = twin_models(keras, rng, lambda lib: embedded(lib, lambda lib, e: lib.layers.Bidirectional(
        lib.layers.LSTM(3, return_sequences=True), merge_mode=merge_mode)(e)))
    assert_predictions_match(ours, theirs, tokens)
    assert ours.layers[-1].forward_layer.zero_output_for_mask       # as Keras forces it


def test_wrappers_pooling_merges_and_normalization_pass_masks_as_keras(keras, rng, tokens):
    def make(lib):
        inputs = lib.layers.Input((STEPS,), dtype="int32")
        masked = lib.layers.Embedding(VOCAB, 3, mask_zero=True)(inputs)
        plain = lib.layers.Embedding(VOCAB, 2)(inputs)
        steps = lib.layers.TimeDistributed(lib.layers.Dense(3))(masked)
        joined = lib.layers.Concatenate()([steps, plain])                       # mask: masked's
        largest = lib.layers.Maximum()([lib.layers.Dense(3)(masked),
                                        lib.layers.Embedding(VOCAB, 3, mask_zero=True)(inputs)])
        normalized = lib.layers.BatchNormalization()(lib.layers.Dropout(0.5)(masked))
        return lib.Model(inputs, [lib.layers.GRU(2, return_sequences=True)(joined),
                                  lib.layers.SimpleRNN(2)(largest),
                                  lib.layers.GlobalAveragePooling1D()(normalized)])
    ours, theirs = twin_models(keras, rng, make)
    assert_predictions_match(ours, theirs, tokens)


# --- training: losses and metrics leave padded steps out -------------------------------------------
def sequence_tagger(lib):
    """A bidirectional tagger: its backward half is a go_backwards loop, whose gradient once tripped XLA."""
    return embedded(lib, lambda lib, e: lib.layers.Dense(2)(lib.layers.Bidirectional(
        lib.layers.LSTM(3, return_sequences=True))(e)))


@pytest.mark.parametrize("backend", ["numpy", "theano", "jax"])
def test_fit_on_masked_sequences_matches_keras(keras, rng, tokens, backend):
    ours, theirs = twin_models(keras, rng, sequence_tagger)
    y = rng.normal(size=(len(tokens), STEPS, 2)).astype("float32")
    ours.compile("sgd", "mse", metrics=["mae"], backend=backend)
    theirs.compile("sgd", "mse", metrics=["mae"])
    np.testing.assert_allclose(ours.evaluate(tokens, y, verbose=0), theirs.evaluate(tokens, y, verbose=0), rtol=1e-5)
    ours.fit(tokens, y, epochs=2, batch_size=2, shuffle=False, verbose=0)
    theirs.fit(tokens, y, epochs=2, batch_size=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_the_masked_loss_is_the_mean_over_real_steps(rng, tokens):
    """Independent of Keras: evaluate's loss is the squared error averaged over unpadded steps only."""
    model = sequence_tagger(mlcore)
    y = rng.normal(size=(len(tokens), STEPS, 2)).astype("float32")
    model.compile("sgd", "mse")
    per_step = ((model.predict(tokens, verbose=0) - y) ** 2).mean(axis=-1)
    real = tokens != 0
    np.testing.assert_allclose(model.evaluate(tokens, y, verbose=0), per_step[real].mean(), rtol=1e-5)


@pytest.mark.parametrize("loss", ["mse", mlcore.losses.MeanSquaredError()])
def test_sample_weights_of_masked_sequences_weigh_their_real_steps(rng, tokens, loss):
    """One weight per sequence spreads over its steps (Keras 3 raises on this broadcast): the loss is
    sum(weight * squared error over real steps) / number of real steps."""
    model = sequence_tagger(mlcore)
    y = rng.normal(size=(len(tokens), STEPS, 2)).astype("float32")
    weights = np.array([1.0, 0.5, 2.0, 0.0], "float32")
    model.compile("sgd", loss)
    per_step = ((model.predict(tokens, verbose=0) - y) ** 2).mean(axis=-1)
    real = tokens != 0
    expected = (per_step * weights[:, None] * real).sum() / real.sum()
    np.testing.assert_allclose(model.evaluate(tokens, y, sample_weight=weights, verbose=0), expected, rtol=1e-5)


def test_a_loss_object_weighs_samples_as_keras_without_masks(keras, rng):
    def make(lib):
        return lib.Sequential([lib.layers.Input((3,)), lib.layers.Dense(2)])
    ours, theirs = twin_models(keras, rng, make)
    x, y = rng.normal(size=(5, 3)).astype("float32"), rng.normal(size=(5, 2)).astype("float32")
    weights = np.array([1.0, 0.0, 3.0, 0.5, 1.0], "float32")
    ours.compile("sgd", mlcore.losses.Huber())
    theirs.compile("sgd", keras.losses.Huber())
    np.testing.assert_allclose(ours.evaluate(x, y, sample_weight=weights, verbose=0),
                               theirs.evaluate(x, y, sample_weight=weights, verbose=0), rtol=1e-5)


def test_a_masked_sequence_model_learns_to_count_real_tokens(rng):
    """Embedding(mask_zero) -> LSTM learns how many tokens a padded sequence holds; without the mask the
    same net must also learn to ignore zeros."""
    mlcore.utils.set_random_seed(1)
    lengths = rng.integers(1, STEPS + 1, size=512)
    x = rng.integers(1, VOCAB, size=(512, STEPS)) * (np.arange(STEPS) < lengths[:, None])
    model = embedded(mlcore, lambda lib, e: lib.layers.Dense(1)(lib.layers.LSTM(8)(e)))
    model.compile(mlcore.optimizers.Adam(0.02), "mse")
    model.fit(x, lengths.astype("float32"), epochs=15, batch_size=64, verbose=0)
    assert np.mean((model.predict(x, verbose=0)[:, 0] - lengths) ** 2) < 0.1 * np.var(lengths)


# --- the mask itself ---------------------------------------------------------------------------------------
def test_masks_are_readable_symbolically_and_eagerly(tokens):
    embedding = layers.Embedding(VOCAB, 4, mask_zero=True)
    np.testing.assert_array_equal(embedding.compute_mask(tokens), tokens != 0)
    symbolic = embedding(layers.Input((STEPS,), dtype="int32"))
    assert symbolic._keras_mask is not None and symbolic._keras_mask.dtype == "bool"
    assert layers.Dense(2)(symbolic)._keras_mask is symbolic._keras_mask      # passed on unchanged
    assert layers.LSTM(2)(symbolic)._keras_mask is None                          # a last output has none
    eager = embedding(tokens)
    np.testing.assert_array_equal(get_keras_mask(eager), tokens != 0)
    lstm = layers.LSTM(3)
    inputs = layers.Input((STEPS,), dtype="int32")
    model = mlcore.Model(inputs, lstm(embedding(inputs)))
    np.testing.assert_allclose(lstm(eager), model.predict(tokens, verbose=0), rtol=1e-6)   # eager calls chain


def test_masking_zeroes_and_masks_the_padding_steps(rng):
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    x[0, 1] = -1.0
    x[1, 3, 0] = -1.0            # not every feature: a real step
    out = layers.Masking(mask_value=-1.0)(x)
    np.testing.assert_array_equal(get_keras_mask(out), [[True, False, True, True], [True] * 4])
    np.testing.assert_array_equal(out[0, 1], 0.0)
    np.testing.assert_array_equal(out[1], x[1])
    assert layers.Masking(mask_value=-1.0).get_config()["mask_value"] == -1.0


def test_a_layer_without_mask_support_drops_the_mask_with_kerass_warning(tokens):
    masked = layers.Embedding(VOCAB, 2, mask_zero=True)(layers.Input((STEPS,), dtype="int32"))
    with pytest.warns(UserWarning, match="'flatten_masked'.*does not support masking"):
        flat = layers.Flatten(name="flatten_masked")(masked)
    assert flat._keras_mask is None


def test_custom_layers_receive_and_make_masks_as_in_keras(tokens):
    class MaskedSum(layers.Layer):
        def call(self, inputs, mask=None):
            return mlcore.ops.sum(inputs * mlcore.ops.expand_dims(mlcore.ops.cast(mask, inputs.dtype), -1), axis=1)

    class KeepMask(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs):     # Keras's Layer has no call of its own
            return inputs

    assert not MaskedSum().supports_masking and KeepMask().supports_masking
    inputs = layers.Input((STEPS,), dtype="int32")
    embedded_ = layers.Embedding(VOCAB, 3, mask_zero=True)(inputs)
    kept = KeepMask()(embedded_)
    assert kept._keras_mask is embedded_._keras_mask
    model = mlcore.Model(inputs, [MaskedSum()(kept), embedded_])
    sums, vectors = model.predict(tokens, verbose=0)
    np.testing.assert_allclose(sums, (vectors * (tokens != 0)[..., None]).sum(axis=1), rtol=1e-6)


def test_lambda_layers_take_a_mask_function():
    inputs = layers.Input((STEPS,), dtype="int32")
    lam = layers.Lambda(lambda x: x * 2, mask=lambda x, mask: mlcore.ops.logical_not(mask))
    out = lam(layers.Embedding(VOCAB, 2, mask_zero=True)(inputs))
    fn = mlcore.function([inputs], out._keras_mask)
    np.testing.assert_array_equal(fn(np.array([[0, 1, 2, 0, 0, 3, 4]], "int32")), [[True, False, False, True, True, False, False]])


def test_masked_models_save_and_load_their_masks(tmp_path, rng, tokens):
    model = sequence_tagger(mlcore)
    assert model.get_config()["layers"][1]["config"]["mask_zero"] is True
    path = str(tmp_path / "tagger.keras")
    model.save(path)
    again = mlcore.models.load_model(path)
    np.testing.assert_allclose(again.predict(tokens, verbose=0), model.predict(tokens, verbose=0), rtol=1e-6)
    assert again.layers[1].mask_zero


def test_a_models_call_takes_masks_for_its_inputs_as_keras(keras, rng):
    """model(x, mask=m) attaches m to x, as if a Masking layer had made it: called eagerly, on a
    symbolic input and inside another model, as Keras's Functional.call."""
    x = rng.normal(size=(3, STEPS, 4)).astype("float32")
    mask = np.arange(STEPS) < np.array([[4], [STEPS], [1]])

    def make(lib):
        return lib.Sequential([lib.layers.Input((STEPS, 4)), lib.layers.LSTM(3, name="lstm"),
                               lib.layers.Dense(2, name="dense")], name="masked_call")
    ours, theirs = twin_models(keras, rng, make)
    with pytest.warns(UserWarning, match="'masked_call'.*does not support masking"):
        eager = np.asarray(ours(x, mask=mask))
    np.testing.assert_allclose(eager, np.asarray(theirs(x, mask=mask)), rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(eager[0], np.asarray(ours(x[:1, :4]))[0], rtol=1e-5, atol=2e-6)   # as if cut short
    sequences, masks = layers.Input((STEPS, 4)), layers.Input((STEPS,), dtype="bool")
    with pytest.warns(UserWarning, match="does not support masking"):
        outer = mlcore.Model([sequences, masks], ours(sequences, mask=masks))
    np.testing.assert_allclose(outer.predict([x, mask], verbose=0), eager, rtol=1e-5, atol=2e-6)
    with pytest.raises(ValueError, match="2 mask.*for 1 input"):
        ours(x, mask=[mask, mask])
