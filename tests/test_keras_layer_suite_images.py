"""What tools/keras_layer_suite.py found in the image preprocessing layers and MelSpectrogram (Keras 3's own
tests of keras/src/layers/preprocessing/, run against mlcore), fixed and checked here against Keras 3
itself: MixUp's boxes of one image, one set of boxes for a whole batch through the crop and resize layers,
MelSpectrogram of audio whose length is known only at run time, and the layers' Keras `backend`
attribute, whose random functions their draws go through."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import unittest.mock

import numpy as np
import pytest

from mlcore import layers, models, ops

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning")]   # jax arrays' __array__ in Keras


def values(x):
    return np.asarray(ops.convert_to_numpy(x))


def test_mix_up_joins_the_boxes_of_one_image_as_keras(keras):
    """Unbatched boxes (n, 4) and labels (n,): Keras joins the boxes on axis 1 and the labels on axis 0;
    mlcore joined both on axis 1, which a rank-1 label vector does not have."""
    boxes = {"boxes": np.array([[2, 1, 4, 3], [6, 4, 8, 6]], "float32"), "labels": np.array([1, 2])}
    mixing = {"mix_weight": np.array([0.5, 0.5], "float32"), "permutation_order": np.array([1, 0])}
    want = keras.layers.MixUp(bounding_box_format="xyxy").transform_bounding_boxes(boxes, mixing, training=True)
    got = layers.MixUp(bounding_box_format="xyxy").transform_bounding_boxes(boxes, mixing, training=True)
    for key in ("boxes", "labels"):
        np.testing.assert_array_equal(values(got[key]), np.asarray(want[key]))


def test_mix_up_joins_batched_box_labels_along_the_boxes():
    """Batched labels (batch, n) follow their boxes to (batch, 2n) (Keras's axis 0 would give (2 batch, n),
    no longer one label per box)."""
    boxes = {"boxes": np.ones((2, 3, 4), "float32"), "labels": np.arange(6).reshape(2, 3)}
    mixing = {"mix_weight": np.array([0.5, 0.5], "float32"), "permutation_order": np.array([1, 0])}
    got = layers.MixUp(bounding_box_format="xyxy").transform_bounding_boxes(boxes, mixing, training=True)
    assert values(got["boxes"]).shape == (2, 6, 4)
    np.testing.assert_array_equal(values(got["labels"]), [[0, 1, 2, 3, 4, 5], [3, 4, 5, 0, 1, 2]])


@pytest.mark.parametrize("name, args", [("CenterCrop", (3, 3)), ("Resizing", (3, 3)), ("RandomCrop", (4, 5))])
def test_crop_and_resize_layers_take_one_set_of_boxes_for_a_batch(keras, name, args):
    """Their transformation is the same for every image, so Keras takes (n, 4) boxes with a batch of
    images and moves them once; mlcore asked for (batch, n, 4).  (RandomCrop's window the size of the
    image leaves the boxes where they are: Keras swaps x and y when it moves them.)"""
    def run(module):
        data = {"images": np.random.RandomState(0).rand(2, 4, 5, 3).astype("float32"),
                "bounding_boxes": {"boxes": np.array([[1, 2, 2, 3], [0, 0, 4, 3]], "float32"),
                                   "labels": np.array([0, 1])}}
        return getattr(module, name)(*args, bounding_box_format="xyxy")(data, training=True)["bounding_boxes"]
    want, got = run(keras.layers), run(layers)
    np.testing.assert_allclose(values(got["boxes"]), np.asarray(want["boxes"]), atol=1e-6)
    np.testing.assert_array_equal(values(got["labels"]), np.asarray(want["labels"]))


def test_per_image_layers_still_want_boxes_for_each_image():
    """A flip drawn for each image cannot move one shared set of boxes."""
    data = {"images": np.zeros((2, 4, 5, 3), "float32"),
            "bounding_boxes": {"boxes": np.zeros((1, 4), "float32"), "labels": np.array([0])}}
    with pytest.raises(ValueError, match=r"expected bounding_boxes\['boxes'\] of shape \(batch, num_boxes, 4\)"):
        layers.RandomFlip(bounding_box_format="xyxy")(data, training=True)


@pytest.mark.parametrize("batch_shape, data_shape", [((None, None), (2, 16000)), ((None,), (16000,))])
def test_mel_spectrogram_of_audio_of_unknown_length(keras, batch_shape, data_shape):
    """Keras builds the layer on audio of unknown length (frames unknown); mlcore's stft needed the length
    when the graph was built.  The model gives the eager call's values and Keras's."""
    kwargs = dict(num_mel_bins=80, sampling_rate=8000, sequence_stride=128, fft_length=2048)
    audio = np.random.RandomState(0).uniform(-1, 1, data_shape).astype("float32")
    inputs = layers.Input(batch_shape=batch_shape)
    outputs = layers.MelSpectrogram(**kwargs)(inputs)
    theirs = keras.layers.MelSpectrogram(**kwargs)
    assert tuple(outputs.type.shape) == tuple(theirs(keras.Input(batch_shape=batch_shape)).shape)
    got = values(models.Model(inputs, outputs)(audio))
    np.testing.assert_allclose(got, values(layers.MelSpectrogram(**kwargs)(audio)), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(got, np.asarray(theirs(audio)), atol=1e-2)


@pytest.mark.parametrize("samples", [1, 2, 300])
def test_mel_spectrogram_of_audio_shorter_than_half_a_frame(keras, samples):
    """The centring pad reflects back and forth (a single sample fills every frame), as Keras pads, also
    when the length is known only at run time."""
    kwargs = dict(num_mel_bins=16, sampling_rate=8000, sequence_stride=128, fft_length=512)
    audio = np.random.RandomState(1).uniform(-1, 1, (2, samples)).astype("float32")
    inputs = layers.Input(batch_shape=(None, None))
    got = values(models.Model(inputs, layers.MelSpectrogram(**kwargs)(inputs))(audio))
    np.testing.assert_allclose(got, np.asarray(keras.layers.MelSpectrogram(**kwargs)(audio)), atol=1e-3)


def mocked_flip(base):
    """Keras's MockedRandomFlip (random_flip_test.py) on `base`: every draw of backend.random.uniform
    replaced by 0.1, so that every image is flipped."""
    class MockedRandomFlip(base):
        def call(self, inputs, training=True):
            batch_size = 1 if len(inputs.shape) == 3 else self.backend.shape(inputs)[0]
            mocked_value = self.backend.numpy.full((batch_size, 1, 1, 1), 0.1, dtype="float32")
            with unittest.mock.patch.object(self.backend.random, "uniform", return_value=mocked_value):
                return super().call(inputs, training=training)
    return MockedRandomFlip


@pytest.mark.parametrize("shape", [(2, 1, 2, 3), (1, 2, 3)])
def test_image_layers_draw_through_their_keras_backend(keras, shape):
    """Keras's preprocessing layers have `backend`, whose random functions their draws go through (Keras's
    own tests patch them); mlcore's image layers had none."""
    images = np.arange(np.prod(shape), dtype="float32").reshape(shape)
    want = mocked_flip(keras.layers.RandomFlip)(mode="horizontal", seed=42)(images, training=True)
    got = mocked_flip(layers.RandomFlip)(mode="horizontal", seed=42)(images, training=True)
    np.testing.assert_array_equal(values(got), np.asarray(want))
    np.testing.assert_array_equal(values(got), np.flip(images, axis=-2))


def test_image_layer_backend_answers_mlcore_ops_under_keras_names():
    backend = layers.RandomFlip().backend
    assert backend.numpy.where is ops.numpy.where and backend.image.resize is ops.image.resize
    assert backend.shape is ops.shape and backend.cast is ops.cast
