"""Image preprocessing layers on Keras's dict inputs {"images", "labels", "bounding_boxes", "segmentation_masks"}:
images, masks (values and dtype), labels and boxes against Keras 3.15 (jax) where the arguments fix the draw;
where a coin is left (RandomFlip, RandomShear's direction) each image, its mask and its boxes must all be
Keras's outcome for the same side of the coin; MaxNumBoundingBoxes; ragged boxes padded with -1 labels;
the layers in a compiled function on the jax and theano backends and in a functional model; errors."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import function, layers
from mlcore.graph.basic import TensorType

pytestmark = [pytest.mark.usefixtures("numpy_backend"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]   # jax arrays' __array__ in Keras

RNG = np.random.default_rng(0)
IMAGES = (RNG.uniform(size=(2, 4, 6, 3)) * 255).astype("float32")
MASKS = RNG.integers(0, 3, (2, 4, 6, 1)).astype("uint8")
LABELS = np.eye(2, dtype="float32")
BOXES = np.array([[[0, 0, 2, 2], [1, 1, 5, 3]], [[2, 1, 6, 4], [0, 0, 0, 0]]], "float32")     # xyxy on 4 x 6
BOX_LABELS = np.array([[1, 2], [3, -1]], "int32")
HALF_TURN = [[[3, 1, 5, 3], [0, 0, 4, 2]], [[0, 0, 3, 2], [5, 3, 5, 3]]]     # BOXES turned about (2.5, 1.5)


def data(bounding_box_format="xyxy"):
    from mlcore.utils.bounding_boxes import convert_format
    boxes = convert_format(BOXES, "xyxy", bounding_box_format, height=4, width=6)
    return {"images": IMAGES, "labels": LABELS, "segmentation_masks": MASKS,
            "bounding_boxes": {"boxes": np.asarray(boxes), "labels": BOX_LABELS}}


def assert_same(ours, theirs, keys=("images", "segmentation_masks", "labels")):
    for key in keys:
        assert ours[key].dtype == np.asarray(theirs[key]).dtype, key
        np.testing.assert_allclose(ours[key], np.asarray(theirs[key]), rtol=1e-5, atol=1e-4, err_msg=key)
    np.testing.assert_allclose(ours["bounding_boxes"]["boxes"], np.asarray(theirs["bounding_boxes"]["boxes"]),
                               rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(ours["bounding_boxes"]["labels"], np.asarray(theirs["bounding_boxes"]["labels"]))


# (layer, arguments, box format): Keras's output is fixed by the arguments
CASES = [
    ("RandomRotation", dict(factor=(0.25, 0.25)), "xyxy"),             # a quarter turn: boxes leave the 4 x 6 image
    ("RandomZoom", dict(height_factor=(0.5, 0.5)), "rel_yxyx"),
    ("RandomZoom", dict(height_factor=(-0.5, -0.5), width_factor=(0.25, 0.25), fill_mode="constant"), "xywh"),
    ("RandomTranslation", dict(height_factor=(0.25, 0.25), width_factor=(0.5, 0.5)), "center_xywh"),
    ("Resizing", dict(height=8, width=3), "rel_xyxy"),
    ("Resizing", dict(height=8, width=3, crop_to_aspect_ratio=True), "xyxy"),
    ("Resizing", dict(height=8, width=3, pad_to_aspect_ratio=True), "yxyx"),
    ("CenterCrop", dict(height=2, width=4), "xyxy"),
    ("RandomBrightness", dict(factor=(0.1, 0.1)), "rel_xywh"),              # colour: boxes and masks pass
]


@pytest.mark.parametrize("name, kwargs, box_format", CASES, ids=lambda c: str(c))
def test_dict_outputs_match_keras(keras, name, kwargs, box_format):
    ours = getattr(layers, name)(bounding_box_format=box_format, **kwargs)(data(box_format), training=True)
    theirs = getattr(keras.layers, name)(bounding_box_format=box_format, **kwargs)(data(box_format), training=True)
    assert set(ours) == set(theirs)
    assert_same(ours, theirs)


def test_center_crop_of_a_small_image_resizes_masks_with_nearest(keras):
    """Images and boxes as Keras's; the mask is the nearest label (Keras's smart_resize blends labels)."""
    ours = layers.CenterCrop(5, 4, bounding_box_format="xyxy")(data(), training=True)
    theirs = keras.layers.CenterCrop(5, 4, bounding_box_format="xyxy")(data(), training=True)
    assert_same(ours, theirs, keys=("images", "labels"))
    assert set(np.unique(ours["segmentation_masks"])) <= set(np.unique(MASKS).astype("float32"))


@pytest.mark.parametrize("name, kwargs, transformation", [
    ("RandomFlip", dict(mode="horizontal_and_vertical"),
     lambda flip, shape: {"flips": np.full((shape[0], 1, 1, 1), flip), "input_shape": shape}),
    ("RandomShear", dict(x_factor=(0.3, 0.3), y_factor=(0.2, 0.2)),
     lambda flip, shape: {"shear_factor": np.tile(np.array([[0.3, 0.2]], "float32") * (-1 if flip else 1),
                                                  (shape[0], 1)), "input_shape": shape}),
])
def test_a_coin_moves_each_image_its_mask_and_its_boxes_together(keras, name, kwargs, transformation):
    """Over several seeds both sides of the coin show, and each image goes with its own mask and boxes."""
    layer = getattr(keras.layers, name)(bounding_box_format="xyxy", **kwargs)
    outcomes = []
    for flip in (False, True):
        t = transformation(flip, IMAGES.shape)
        boxes = layer.transform_bounding_boxes({"boxes": BOXES, "labels": BOX_LABELS}, t)
        outcomes.append([np.asarray(layer.transform_images(IMAGES, t)),
                         np.asarray(layer.transform_images(MASKS.astype("float32"), t)) if name == "RandomFlip" else
                         np.asarray(layer._transform_images(MASKS, t, "nearest")),
                         np.asarray(boxes["boxes"]), np.asarray(boxes["labels"])])
    sides = set()
    for seed in range(4):
        out = getattr(layers, name)(bounding_box_format="xyxy", seed=seed, **kwargs)(data(), training=True)
        ours = [out["images"], out["segmentation_masks"], out["bounding_boxes"]["boxes"],
                out["bounding_boxes"]["labels"]]
        for k in range(len(IMAGES)):
            side = [all(np.allclose(o[k], t[k], rtol=1e-5, atol=1e-4) for o, t in zip(ours, outcome))
                    for outcome in outcomes]
            assert any(side), (seed, k)
            sides.add(side.index(True))
    assert sides == {0, 1}


def test_inference_leaves_boxes_and_masks_of_random_layers_alone(keras):
    for name, kwargs in [("RandomRotation", dict(factor=0.3)), ("RandomFlip", {}), ("MixUp", {})]:
        ours = getattr(layers, name)(bounding_box_format="xyxy", **kwargs)(data(), training=False)
        theirs = getattr(keras.layers, name)(bounding_box_format="xyxy", **kwargs)(data(), training=False)
        np.testing.assert_array_equal(ours["bounding_boxes"]["boxes"], BOXES)
        np.testing.assert_array_equal(ours["segmentation_masks"], np.asarray(theirs["segmentation_masks"]))


@pytest.mark.parametrize("max_number", [1, 4])
def test_max_num_bounding_boxes_cuts_or_pads_as_keras(keras, max_number):
    ours = layers.MaxNumBoundingBoxes(max_number, bounding_box_format="xyxy")(data())
    theirs = keras.layers.MaxNumBoundingBoxes(max_number, bounding_box_format="xyxy")(data())
    np.testing.assert_array_equal(ours["bounding_boxes"]["boxes"], np.asarray(theirs["bounding_boxes"]["boxes"]))
    np.testing.assert_array_equal(ours["bounding_boxes"]["labels"], np.asarray(theirs["bounding_boxes"]["labels"]))
    filled = layers.MaxNumBoundingBoxes(3, fill_value=0, bounding_box_format="xyxy")(data())["bounding_boxes"]
    np.testing.assert_array_equal(filled["labels"], [[1, 2, 0], [3, -1, 0]])


def test_ragged_boxes_are_padded_with_minus_one_labels_and_one_image_works():
    out = layers.RandomFlip("vertical", bounding_box_format="xyxy")(
        {"images": IMAGES, "bounding_boxes": {"boxes": [[[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 1, 1]]],
                                              "labels": [[1], [2, 3]]}}, training=False)
    np.testing.assert_array_equal(out["bounding_boxes"]["labels"], [[1, -1], [2, 3]])
    np.testing.assert_array_equal(out["bounding_boxes"]["boxes"][0, 1], [0, 0, 0, 0])
    one = layers.RandomRotation((0.5, 0.5), bounding_box_format="xyxy")(
        {"images": IMAGES[0], "segmentation_masks": MASKS[0], "bounding_boxes": {"boxes": BOXES[0],
                                                                                  "labels": BOX_LABELS[0]}})
    np.testing.assert_allclose(one["bounding_boxes"]["boxes"], HALF_TURN[0], atol=1e-4)   # about pixel centres
    np.testing.assert_array_equal(one["segmentation_masks"], MASKS[0, ::-1, ::-1])


@pytest.mark.parametrize("backend", ["jax", "theano"])
def test_symbolic_dict_in_a_compiled_function(backend):
    pytest.importorskip(backend if backend == "jax" else "pytensor")
    x, m = TensorType("float32", (None, 4, 6, 3))("x"), TensorType("uint8", (None, 4, 6, 1))("m")
    b, c = TensorType("float32", (None, None, 4))("b"), TensorType("int32", (None, None))("c")
    layer = layers.RandomRotation((0.5, 0.5), bounding_box_format="xyxy")
    out = layer({"images": x, "segmentation_masks": m, "bounding_boxes": {"boxes": b, "labels": c}}, training=True)
    run = function([x, m, b, c], [out["images"], out["segmentation_masks"], out["bounding_boxes"]["boxes"],
                                  out["bounding_boxes"]["labels"]], backend=backend)
    images, masks, boxes, labels = run(IMAGES, MASKS, BOXES, BOX_LABELS)
    np.testing.assert_allclose(images, IMAGES[:, ::-1, ::-1], atol=1e-3)
    np.testing.assert_array_equal(masks, MASKS[:, ::-1, ::-1])
    np.testing.assert_allclose(boxes, HALF_TURN, atol=1e-4)
    np.testing.assert_array_equal(labels, [[1, 2], [3, -1]])


def test_functional_model_with_dict_inputs():
    images, masks = mlcore.Input((4, 6, 3)), mlcore.Input((4, 6, 1))
    boxes, box_labels = mlcore.Input((2, 4)), mlcore.Input((2,), dtype="int32")
    out = layers.Resizing(8, 12, bounding_box_format="xyxy")(
        {"images": images, "segmentation_masks": masks, "bounding_boxes": {"boxes": boxes, "labels": box_labels}})
    model = mlcore.Model([images, masks, boxes, box_labels],
                         [out["segmentation_masks"], out["bounding_boxes"]["boxes"]])
    resized_masks, resized_boxes = model.predict([IMAGES, MASKS.astype("float32"), BOXES, BOX_LABELS], verbose=0)
    np.testing.assert_allclose(resized_boxes, BOXES * 2)
    np.testing.assert_array_equal(resized_masks, MASKS.repeat(2, axis=1).repeat(2, axis=2))


def test_errors_name_the_layer_and_the_argument():
    with pytest.raises(ValueError, match="bounding_box_format='xyxy'"):
        layers.RandomFlip()(data())
    with pytest.raises(ValueError, match="RandomZoom .*bounding_boxes\\['boxes'\\]"):
        layers.RandomZoom(0.2, bounding_box_format="xyxy")({"images": IMAGES, "bounding_boxes": {
            "boxes": BOXES[0], "labels": BOX_LABELS[0]}})
    with pytest.raises(ValueError, match="'images'"):
        layers.RandomFlip()({"pictures": IMAGES})
    with pytest.raises(NotImplementedError, match="CutMix"):
        layers.CutMix(bounding_box_format="xyxy")(data())
    with pytest.raises(NotImplementedError, match="RandomElasticTransform"):
        layers.RandomElasticTransform(bounding_box_format="xyxy")(data())


def test_bounding_box_format_is_in_the_config_only_when_given(keras):
    ours = layers.RandomFlip(bounding_box_format="yxyx").get_config()
    theirs = keras.layers.RandomFlip(bounding_box_format="yxyx").get_config()
    assert ours["bounding_box_format"] == theirs["bounding_box_format"] == "yxyx"
    assert "bounding_box_format" not in layers.RandomFlip().get_config()
    assert layers.RandomFlip.from_config(ours).bounding_box_format == "yxyx"
