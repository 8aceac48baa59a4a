"""InputSpec, as Keras 3's: a layer's input_spec is checked by __call__ (symbolic and eager inputs) with
Keras's errors, compared message for message with Keras's own check."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import layers

pytestmark = pytest.mark.usefixtures("numpy_backend")

SPECS = [  # (InputSpec arguments, an input shape and dtype it refuses)
    (dict(ndim=3), (2, 4), "float32"),
    (dict(min_ndim=3), (2, 4), "float32"),
    (dict(max_ndim=2), (2, 4, 5), "float32"),
    (dict(dtype="int32"), (2, 4), "float32"),
    (dict(ndim=2, axes={-1: 5}), (2, 4), "float32"),
    (dict(shape=(None, 4, 3)), (2, 4, 2), "float32"),
]


def spec_layer(lib, arguments):
    """A user's layer that sets input_spec in __init__, as Keras code does."""
    class Checked(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.input_spec = lib.layers.InputSpec(**arguments)

        def call(self, x):
            return x
    return Checked(name="checked")


@pytest.mark.parametrize("arguments,shape,dtype", SPECS)
def test_refusals_match_kerass_messages(keras, arguments, shape, dtype):
    value = np.zeros(shape, dtype)
    with pytest.raises(ValueError) as theirs:
        spec_layer(keras, arguments)(value)
    with pytest.raises(ValueError) as ours:
        spec_layer(mlcore, arguments)(value)
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="layer 'checked' is incompatible"):        # symbolic inputs too
        spec_layer(mlcore, arguments)(layers.Input(shape[1:], batch_size=shape[0], dtype=dtype))


def test_compatible_inputs_pass_and_squeeze_is_allowed():
    layer = spec_layer(mlcore, dict(shape=(None, 4, 1), allow_last_axis_squeeze=True))
    np.testing.assert_array_equal(layer(np.ones((2, 4), "float32")), np.ones((2, 4)))
    layer = spec_layer(mlcore, dict(ndim=2, axes={1: 4}, dtype="float32"))
    assert layer(layers.Input((4,))).type.shape == (None, 4)


def test_a_list_of_specs_counts_the_inputs(keras):
    class Pair(layers.Layer):
        def __init__(self):
            super().__init__(name="pair")
            self.input_spec = [layers.InputSpec(ndim=2), layers.InputSpec(ndim=2)]

        def call(self, inputs):
            return inputs[0] + inputs[1]
    with pytest.raises(ValueError, match='Layer "pair" expects 2 input\\(s\\), but it received 1 input tensors'):
        Pair()([np.ones((1, 2), "float32")])
    np.testing.assert_array_equal(Pair()([np.ones((1, 2)), np.ones((1, 2))]), 2 * np.ones((1, 2)))


def test_spec_repr_and_config_are_kerass(keras):
    for arguments in (dict(ndim=3, axes={-1: 4}), dict(shape=(None, 3), dtype="float32"), dict(min_ndim=2)):
        ours, theirs = layers.InputSpec(**arguments), keras.layers.InputSpec(**arguments)
        assert repr(ours) == repr(theirs)
        assert ours.get_config() == theirs.get_config()
    with pytest.raises(ValueError, match="Axis 3 is greater than the maximum allowed value: 1"):
        layers.InputSpec(ndim=2, axes={3: 1})
    with pytest.raises(TypeError, match="integer keys"):
        layers.InputSpec(axes={"last": 1})
