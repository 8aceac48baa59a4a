"""CTC: mlcore.ops.ctc_loss / ctc_decode, mlcore.losses.ctc / CTC and K.ctc_batch_cost against Keras 3
(keras.ops on its jax backend, and jax.grad of Keras's loss for the gradient), finite differences,
and a model trained with the CTC loss."""
import numpy as np
import pytest

import mlcore
import mlcore.backend as K
import mlcore.tensor as T
from mlcore import ops


def ctc_case(rng, batch=5, steps=9, classes=5, max_label=4):
    """Logits, labels (0-padded, some with repeats, one empty) and lengths that admit an alignment."""
    logits = rng.normal(size=(batch, steps, classes)).astype("float32")
    target_length = np.minimum([max_label, 2, 0, 3, 1], max_label)[:batch]
    output_length = np.array([steps, steps - 1, 3, 7, 2][:batch])
    target = rng.integers(1, classes, size=(batch, max_label)).astype("int32")
    if max_label > 1:
        target[0, 1] = target[0, 0]                               # a repeat needs a blank between
    target[np.arange(max_label)[None, :] >= target_length[:, None]] = 0
    return target, logits, target_length.astype("int32"), output_length.astype("int32")


def compiled_loss_and_grad(backend, dtype="float32"):
    target, logits, target_length, output_length = T.imatrix(), T.tensor3(dtype=dtype), T.ivector(), T.ivector()
    loss = ops.ctc_loss(target, logits, target_length, output_length)
    return mlcore.function([target, logits, target_length, output_length],
                           [loss, mlcore.grad(loss.sum(), logits)], backend=backend)


def keras_loss_and_grad(keras, target, logits, target_length, output_length):
    import jax

    def total(x):
        return keras.ops.ctc_loss(target, x, target_length, output_length).sum()
    return np.asarray(keras.ops.ctc_loss(target, logits, target_length, output_length)), np.asarray(
        jax.grad(total)(logits))


def test_loss_and_gradient_match_keras(backend, keras, float32_jax, rng):
    target, logits, target_length, output_length = ctc_case(rng)
    loss, gradient = compiled_loss_and_grad(backend)(target, logits, target_length, output_length)
    expected_loss, expected_gradient = keras_loss_and_grad(keras, target, logits, target_length, output_length)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-5)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-4, atol=1e-5)
    assert np.all(gradient[np.arange(9)[None, :] >= output_length[:, None]] == 0)     # steps past the end


def test_gradient_matches_finite_differences(numeric_grad, rng):
    target, logits, target_length, output_length = ctc_case(rng, batch=3, steps=5, classes=3, max_label=2)
    target_length = np.array([2, 1, 0], "int32")
    logits = logits.astype("float64")
    run = compiled_loss_and_grad("numpy", dtype="float64")

    def total(x):
        return run(target, x, target_length, output_length)[0].sum()
    expected = numeric_grad(total, [logits], 0)
    np.testing.assert_allclose(run(target, logits, target_length, output_length)[1], expected, rtol=1e-6,
                               atol=1e-8)


def test_eager_loss_with_lengths_of_every_kind(keras, float32_jax, rng):
    """One step (only empty labels fit), and long labels with the blank the last class."""
    for steps, max_label, blank in ((1, 1, 0), (12, 5, 4)):
        target, logits, target_length, output_length = ctc_case(rng, batch=3, steps=steps, max_label=max_label)
        target_length = np.minimum(target_length, (steps - 1) // 2)
        target[np.arange(max_label)[None, :] >= target_length[:, None]] = 0
        target = np.where(target == blank, 1, target)
        output_length = np.full(3, steps, "int32")
        np.testing.assert_allclose(ops.ctc_loss(target, logits, target_length, output_length, blank),
                                   keras.ops.ctc_loss(target, logits, target_length, output_length, blank),
                                   rtol=1e-5)


def test_loss_function_and_class_match_keras(keras, float32_jax, rng):
    target, logits, _, _ = ctc_case(rng)
    np.testing.assert_allclose(mlcore.losses.ctc(target, logits), keras.losses.ctc(target, logits), rtol=1e-5)
    weights = rng.uniform(size=5).astype("float32")
    for reduction in ("sum_over_batch_size", "sum", "none"):
        ours, theirs = mlcore.losses.CTC(reduction=reduction), keras.losses.CTC(reduction=reduction)
        np.testing.assert_allclose(ours(target, logits, sample_weight=weights),
                                   theirs(target, logits, sample_weight=weights), rtol=1e-5)
    assert mlcore.losses.CTC().get_config() == keras.losses.CTC().get_config()
    assert isinstance(mlcore.losses.get("CTC"), mlcore.losses.CTC) and mlcore.losses.get("ctc") is mlcore.losses.ctc
    with pytest.raises(ValueError, match="y_true.shape"):
        mlcore.losses.ctc(target[:, :, None], logits)
    with pytest.raises(ValueError, match="y_pred.shape"):
        mlcore.losses.ctc(target, logits[:, 0])


def test_keras2_ctc_batch_cost(keras, float32_jax, rng):
    """Softmax output, the last class the blank (TensorFlow's), lengths as columns, the loss as a column."""
    target, logits, target_length, output_length = ctc_case(rng)
    target = np.where(target == 0, 4, target) - 1          # classes 0..3, 4 the blank
    probabilities = np.asarray(keras.ops.softmax(logits))
    expected = keras.ops.ctc_loss(target, np.log(probabilities + 1e-7), target_length, output_length, mask_index=4)
    cost = K.ctc_batch_cost(target, probabilities, output_length[:, None], target_length[:, None])
    assert cost.shape == (5, 1)
    np.testing.assert_allclose(cost[:, 0], expected, rtol=1e-5)


def test_a_model_trained_with_ctc_loss_learns(rng):
    """Each step's features name its label or the blank; the CTC loss of a per-step Dense falls as it learns."""
    steps, classes, count = 8, 4, 64
    labels = rng.integers(1, classes, size=(count, 3))
    tokens = np.zeros((count, steps), int)            # blank, label 1, blank, label 2, blank, label 3, blanks
    tokens[:, [1, 3, 5]] = labels
    x = np.eye(classes, dtype="float32")[tokens]
    x += rng.normal(0, 0.1, x.shape).astype("float32")
    mlcore.utils.set_random_seed(0)
    model = mlcore.Sequential([mlcore.layers.Input((steps, classes)), mlcore.layers.Dense(classes)])
    model.compile(optimizer=mlcore.optimizers.Adam(0.05), loss=mlcore.losses.CTC())
    history = model.fit(x, labels.astype("float32"), epochs=20, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < 0.2 * history[0]
    decoded, _ = ops.ctc_decode(model.predict(x, verbose=0), np.full(count, steps))
    assert np.mean(np.all(decoded[0][:, :3] == labels, axis=1)) > 0.9


def compiled_greedy(backend, **kwargs):
    inputs, lengths = T.tensor3(), T.ivector()
    decoded, scores = ops.ctc_decode(inputs, lengths, **kwargs)
    return mlcore.function([inputs, lengths], [decoded, scores], backend=backend)


@pytest.mark.parametrize("kwargs", [{}, {"merge_repeated": False}, {"mask_index": 3}])
def test_greedy_decode_matches_keras(backend, keras, float32_jax, rng, kwargs):
    logits = np.round(rng.normal(size=(4, 7, 4)), 0).astype("float32")    # ties and repeats
    logits[:, :, 0] += 0.3
    lengths = np.array([7, 4, 1, 0], "int32")
    decoded, scores = compiled_greedy(backend, **kwargs)(logits, lengths)
    expected_decoded, expected_scores = keras.ops.ctc_decode(logits, lengths, **kwargs)
    assert decoded.dtype == np.int32 and decoded.shape == (1, 4, 7)
    np.testing.assert_array_equal(decoded, expected_decoded)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-6)


@pytest.mark.parametrize("beam_width, top_paths", [(100, 1), (2, 2)])
def test_beam_search_matches_keras(keras, float32_jax, rng, beam_width, top_paths):
    logits = rng.normal(size=(3, 8, 4)).astype("float32")
    lengths = np.array([8, 5, 1])
    decoded, scores = ops.ctc_decode(logits, lengths, strategy="beam_search", beam_width=beam_width,
                                     top_paths=top_paths)
    expected_decoded, expected_scores = keras.ops.ctc_decode(logits, lengths, strategy="beam_search",
                                                             beam_width=beam_width, top_paths=top_paths)
    np.testing.assert_array_equal(decoded, expected_decoded)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5)


def test_decode_errors():
    with pytest.raises(NotImplementedError, match="values only"):
        ops.ctc_decode(T.tensor3(), T.ivector(), strategy="beam_search")
    with pytest.raises(ValueError, match="Invalid strategy"):
        ops.ctc_decode(np.zeros((1, 2, 3)), np.array([2]), strategy="best")
    with pytest.raises(ValueError, match="`output` must have rank 3"):
        ops.ctc_loss(np.zeros((1, 2), "int32"), np.zeros((1, 3)), np.array([2]), np.array([3]))
