"""What Keras 3's own recurrent layer tests (keras/src/layers/rnn/*_test.py, run by
tools/keras_layer_suite.py) found different in mlcore's RNN, Bidirectional and TimeDistributed: each
checked against Keras 3 itself, or against Keras's exact words."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

from mlcore import layers
from mlcore.models import Model

pytestmark = pytest.mark.usefixtures("numpy_backend", "float32_jax")
BATCH, STEPS, FEATURES = 4, 5, 3


def sequences():
    return np.random.default_rng(0).uniform(size=(BATCH, STEPS, FEATURES)).astype("float32")


def raised(make):
    """The (type, message) of the error make() raises."""
    with pytest.raises(Exception) as info:
        make()
    return type(info.value), str(info.value)


class _Cell:
    """A cell whose state_size is neither an int nor a list of them."""
    state_size = "units"

    def call(self, inputs, states):
        return inputs, states


def test_rnn_refuses_a_state_size_that_is_not_ints_as_keras(keras):
    expected = raised(lambda: keras.layers.RNN(_Cell()))
    assert raised(lambda: layers.RNN(_Cell())) == expected


def test_stateful_rnn_without_a_batch_size_says_so_in_keras_words(keras):
    _, expected = raised(lambda: keras.layers.GRU(2, stateful=True)(keras.Input((STEPS, FEATURES))))
    error, message = raised(lambda: layers.GRU(2, stateful=True)(layers.Input((STEPS, FEATURES))))
    assert error is ValueError and message.startswith(expected)


def test_stateful_rnn_given_another_batch_size_says_so_in_keras_words():
    inputs = layers.Input((STEPS, FEATURES), batch_size=BATCH)
    model = Model(inputs, layers.GRU(2, stateful=True)(inputs))
    model(sequences())
    with pytest.raises(ValueError, match="If an RNN is stateful, the batch size of the input sequences must be "
                                         "the same as the batch size of the initial state") as info:
        model(sequences()[:1])
    assert "- Expected batch size: 4\n- Received batch size: 1" in str(info.value)


@pytest.mark.parametrize("mask_shape", [(BATCH, STEPS), (BATCH, STEPS, 1), (BATCH, STEPS, 2)])
def test_time_distributed_takes_a_numpy_mask_as_keras(keras, mask_shape):
    """An eager call with a mask given as an array (it reached the layer as numpy, without `.type`)."""
    mask = np.random.default_rng(1).uniform(size=mask_shape) > 0.3
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(2))
    ours = layers.TimeDistributed(layers.Dense(2))
    expected = np.asarray(theirs(sequences(), mask=mask))
    ours.build((BATCH, STEPS, FEATURES))
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(np.asarray(ours(sequences(), mask=mask)), expected, rtol=1e-6)


@pytest.mark.parametrize("mask_shape", [(BATCH,), (BATCH, STEPS + 1), (BATCH + 1, STEPS), (BATCH, STEPS + 1, 2)])
def test_time_distributed_refuses_a_mask_of_another_shape_as_keras(keras, mask_shape):
    mask = np.ones(mask_shape, bool)
    _, expected = raised(lambda: keras.layers.TimeDistributed(keras.layers.Dense(2))(sequences(), mask=mask))
    error, message = raised(lambda: layers.TimeDistributed(layers.Dense(2))(sequences(), mask=mask))
    assert error is ValueError and message in expected     # Keras adds the arguments of the call


@pytest.mark.parametrize("use_cudnn", [True, False])
def test_bidirectional_keeps_use_cudnn(use_cudnn):
    """use_cudnn is not in an LSTM's config; Keras's Bidirectional copies it onto both halves."""
    bidirectional = layers.Bidirectional(layers.LSTM(1, use_cudnn=use_cudnn))
    assert bidirectional.forward_layer.use_cudnn == use_cudnn
    assert bidirectional.backward_layer.use_cudnn == use_cudnn


def test_bidirectional_states_as_keras(keras):
    for lib in (keras.layers, layers):
        assert lib.Bidirectional(lib.LSTM(2)).states is None
    theirs = keras.layers.Bidirectional(keras.layers.LSTM(2, stateful=True))
    ours = layers.Bidirectional(layers.LSTM(2, stateful=True))
    theirs(sequences())
    ours(sequences())
    assert isinstance(ours.states, tuple)
    assert [tuple(s.shape) for s in ours.states] == [tuple(s.shape) for s in theirs.states]
    assert ours.states == tuple(ours.forward_layer.states + ours.backward_layer.states)


@pytest.mark.parametrize("make", [
    lambda lib: lib.TimeDistributed("dense"),
    lambda lib: lib.Bidirectional("lstm"),
    lambda lib: lib.Bidirectional(lib.LSTM(2), backward_layer="lstm"),
    lambda lib: lib.Bidirectional(lib.LSTM(2), merge_mode="max"),
])
def test_wrapper_argument_errors_in_keras_words(keras, make):
    assert raised(lambda: make(layers)) == raised(lambda: make(keras.layers))


def test_conv_lstm_strides_with_dilation_error_in_keras_words(keras):
    expected = raised(lambda: keras.layers.ConvLSTM2D(2, 3, strides=2, dilation_rate=2))
    assert raised(lambda: layers.ConvLSTM2D(2, 3, strides=2, dilation_rate=2)) == expected


def test_unrolling_an_unknown_number_of_steps_is_refused_in_keras_words(keras):
    """Keras refuses it when the layer runs (its symbolic call only infers shapes); mlcore when it is called."""
    unknown_steps = keras.KerasTensor((BATCH, None, FEATURES))
    _, expected = raised(lambda: keras.layers.SimpleRNN(2, unroll=True).call(unknown_steps))
    error, message = raised(lambda: layers.SimpleRNN(2, unroll=True)(layers.Input((None, FEATURES))))
    assert error is ValueError and message == expected
