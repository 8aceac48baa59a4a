"""mlcore.utils.bounding_boxes against keras.utils.bounding_boxes (Keras 3 on jax) on the same boxes, and
the same functions inside compiled graphs and layers on every backend."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.utils import bounding_boxes as bb

FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx", "rel_xywh",
           "rel_center_xywh")
HEIGHT, WIDTH = 60, 80


def random_boxes(shape, seed):
    """xyxy boxes with positive sizes, inside and around an 80 x 60 image."""
    rng = np.random.default_rng(seed)
    corners = rng.uniform(-10, 60, shape + (2,)).astype("float32")
    return np.concatenate([corners, corners + rng.uniform(1, 30, shape + (2,)).astype("float32")], axis=-1)


@pytest.fixture(scope="module")
def kbb(keras):
    return keras.utils.bounding_boxes


BOXES = random_boxes((2, 5), 0)
OTHER = random_boxes((2, 3), 1)


@pytest.mark.parametrize("source", FORMATS)
def test_convert_format_matches_keras_for_every_pair(kbb, source):
    for target in FORMATS:
        got = bb.convert_format(BOXES, source, target, height=HEIGHT, width=WIDTH)
        want = np.asarray(kbb.convert_format(BOXES, source, target, height=HEIGHT, width=WIDTH))
        assert got.dtype == want.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg="%s -> %s" % (source, target))


def test_convert_format_round_trips_and_keeps_dicts():
    for target in FORMATS:
        there = bb.convert_format(BOXES, "xyxy", target, HEIGHT, WIDTH)
        np.testing.assert_allclose(bb.convert_format(there, target, "xyxy", HEIGHT, WIDTH), BOXES, rtol=1e-5,
                                   atol=1e-4)
    labels = np.arange(10).reshape(2, 5)
    given = {"boxes": BOXES, "labels": labels}
    out = bb.convert_format(given, "XYXY", "xywh", dtype="float64")
    assert out["boxes"].dtype == np.float64 and out["labels"] is labels and given["boxes"] is BOXES
    wide = BOXES.astype("float64")
    np.testing.assert_array_equal(out["boxes"][..., 2:], wide[..., 2:] - wide[..., :2])


def test_convert_format_errors_as_keras():
    with pytest.raises(ValueError, match="last dimension of 4"):
        bb.convert_format(np.zeros((3, 5)), "xyxy", "xywh")
    with pytest.raises(ValueError, match="Supported formats"):
        bb.convert_format(BOXES, "xyxy", "corners")
    with pytest.raises(ValueError, match="`height` and `width`"):
        bb.convert_format(BOXES, "xyxy", "rel_xyxy")


def test_clip_to_image_size_matches_keras_and_marks_vanished_boxes(kbb):
    boxes = BOXES.copy()
    boxes[0, 1] = [-1, -1, -1, -1]                      # a padding box
    boxes[1, 2] = [90, 10, 120, 30]                     # right of the image
    given = {"boxes": boxes, "labels": np.arange(10).reshape(2, 5)}
    got = bb.clip_to_image_size(given, height=HEIGHT, width=WIDTH)
    want = kbb.clip_to_image_size(dict(given), height=HEIGHT, width=WIDTH)
    np.testing.assert_array_equal(got["boxes"], np.asarray(want["boxes"]))
    np.testing.assert_array_equal(got["labels"], np.asarray(want["labels"]))
    assert got["labels"][0, 1] == got["labels"][1, 2] == -1
    relative = {"boxes": bb.convert_format(boxes, "xyxy", "rel_xyxy", HEIGHT, WIDTH), "labels": given["labels"]}
    got = bb.clip_to_image_size(relative, bounding_box_format="rel_xyxy")
    want = kbb.clip_to_image_size(dict(relative), bounding_box_format="rel_xyxy")
    np.testing.assert_array_equal(got["boxes"], np.asarray(want["boxes"]))
    np.testing.assert_array_equal(got["labels"], np.asarray(want["labels"]))
    with pytest.raises(ValueError, match="`height` and `width`"):
        bb.clip_to_image_size(given)
    with pytest.raises(NotImplementedError, match="xywh"):
        bb.clip_to_image_size(given, HEIGHT, WIDTH, bounding_box_format="xywh")


def test_crop_and_pad_match_keras(kbb):
    np.testing.assert_array_equal(bb.crop(BOXES, 5, 7, 30, 40), np.asarray(kbb.crop(BOXES, 5, 7, 30, 40)))
    np.testing.assert_array_equal(bb.pad(BOXES, 5, 7), np.asarray(kbb.pad(BOXES, 5, 7)))
    np.testing.assert_array_equal(bb.crop(np.array([[10, 20, 50, 60]]), 10, 20, 40, 30), [[0, 10, 30, 40]])
    with pytest.raises(NotImplementedError, match="xyxy"):
        bb.pad(BOXES, 1, 1, bounding_box_format="yxyx")


def test_affine_transform_matches_keras(kbb):
    rng = np.random.default_rng(2)
    angle, tx, ty, shear_x, shear_y = [rng.uniform(-1, 1, 2).astype("float32") * c for c in (30, .2, .1, 10, 5)]
    scale = rng.uniform(0.8, 1.2, 2).astype("float32")
    got = bb.affine_transform(BOXES, angle, tx, ty, scale, shear_x, shear_y, HEIGHT, WIDTH, center_x=0.3)
    want = kbb.affine_transform(BOXES, angle, tx, ty, scale, shear_x, shear_y, HEIGHT, WIDTH, center_x=0.3)
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-4)
    zeros = np.zeros(2, "float32")        # a pure translation moves every box by (tx, ty) * (size - 1)
    moved = bb.affine_transform(BOXES, zeros, tx, ty, zeros + 1, zeros, zeros, HEIGHT, WIDTH)
    shift = np.stack([tx * (WIDTH - 1), ty * (HEIGHT - 1)] * 2, axis=-1)[:, None]
    np.testing.assert_allclose(moved, BOXES + shift, rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="batched boxes"):
        bb.affine_transform(BOXES[0], angle, tx, ty, scale, shear_x, shear_y, HEIGHT, WIDTH)


@pytest.mark.parametrize("first, second", [(BOXES, OTHER), (BOXES[0], OTHER[0]), (BOXES, OTHER[0]),
                                           (BOXES[0], OTHER)])
def test_compute_iou_matches_keras_for_every_rank(kbb, first, second):
    got = bb.compute_iou(first, second, "xyxy")
    np.testing.assert_allclose(got, np.asarray(kbb.compute_iou(first, second, "xyxy")), rtol=1e-6)


def test_compute_iou_values_masking_and_errors(kbb):
    unit = np.array([[0, 0, 10, 10]], "float32")
    half = np.array([[5, 0, 15, 10], [20, 20, 30, 30]], "float32")       # IoU 50/150 and 0
    np.testing.assert_allclose(bb.compute_iou(unit, half, "xyxy"), [[1 / 3, 0]], rtol=1e-6)
    padded = BOXES.copy()
    padded[1, 3] = -1
    got = bb.compute_iou(padded, OTHER, "xywh", use_masking=True, mask_val=-5)
    want = kbb.compute_iou(padded, OTHER, "xywh", use_masking=True, mask_val=-5)
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-6)
    assert (got[1, 3] == -5).all()
    relative = bb.convert_format(BOXES, "xyxy", "rel_yxyx", HEIGHT, WIDTH)
    got = bb.compute_iou(relative, relative, "rel_yxyx", image_shape=(HEIGHT, WIDTH, 3))
    np.testing.assert_allclose(got, bb.compute_iou(BOXES, BOXES, "xyxy"), rtol=1e-5)
    with pytest.raises(ValueError, match="image_shape"):
        bb.compute_iou(relative, relative, "rel_yxyx")
    with pytest.raises(ValueError, match="boxes1"):
        bb.compute_iou(BOXES[0, 0], OTHER, "xyxy")


def test_compute_ciou_matches_keras(kbb):
    got = bb.compute_ciou(BOXES, BOXES[:, ::-1], "center_xywh")
    np.testing.assert_allclose(got, np.asarray(kbb.compute_ciou(BOXES, BOXES[:, ::-1], "center_xywh")), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(bb.compute_ciou(BOXES, BOXES, "xyxy"), 1, rtol=1e-5)    # a box with itself
    with pytest.raises(ValueError, match="relative"):
        bb.compute_ciou(BOXES, BOXES, "rel_xyxy", image_shape=(HEIGHT, WIDTH, 3))


def test_deltas_match_keras_and_decode_inverts_encode(kbb):
    anchors = BOXES[0]
    kwargs = dict(anchor_format="xyxy", box_format="xywh", variance=[0.1, 0.1, 0.2, 0.2])
    boxes = bb.convert_format(BOXES, "xyxy", "xywh")
    deltas = bb.encode_box_to_deltas(anchors, boxes, encoding_format="center_xywh", **kwargs)
    want = kbb.encode_box_to_deltas(anchors, boxes, encoding_format="center_xywh", **kwargs)
    np.testing.assert_allclose(deltas, np.asarray(want), rtol=1e-5, atol=1e-5)
    decoded = bb.decode_deltas_to_boxes(anchors, deltas, encoded_format="center_xywh", **kwargs)
    np.testing.assert_allclose(decoded, np.asarray(kbb.decode_deltas_to_boxes(
        anchors, deltas, encoded_format="center_xywh", **kwargs)), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(decoded, boxes, rtol=1e-5, atol=1e-4)
    levels = bb.decode_deltas_to_boxes({3: anchors, 4: anchors[:2]}, {3: deltas, 4: deltas[:, :2]}, **kwargs,
                                       encoded_format="center_xywh")
    np.testing.assert_allclose(levels[4], decoded[:, :2], rtol=1e-6)
    with pytest.raises(ValueError, match="length 4"):
        bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", variance=[1, 1])
    with pytest.raises(ValueError, match="encoded_format"):
        bb.decode_deltas_to_boxes(anchors, deltas, "xyxy", "xyxy", encoded_format="xyxy")


@pytest.mark.parametrize("backend", ["numpy", "theano", "jax"])
def test_symbolic_in_compiled_functions(backend):
    boxes, angle = T.tensor3("boxes"), T.vector("angle")
    labels = T.imatrix("labels")
    zeros = angle * 0
    outputs = [bb.convert_format(boxes, "center_yxhw", "rel_xywh", HEIGHT, WIDTH),
               bb.compute_iou(boxes, boxes, "xyxy", use_masking=True),
               bb.affine_transform(boxes, angle, zeros, zeros, zeros + 1, zeros, zeros, HEIGHT, WIDTH),
               bb.clip_to_image_size({"boxes": boxes, "labels": labels}, HEIGHT, WIDTH)["labels"]]
    angles, label_values = np.array([10, -20], "float32"), np.arange(10, dtype="int32").reshape(2, 5)
    got = mlcore.function([boxes, angle, labels], outputs, backend=backend)(BOXES, angles, label_values)
    want = [bb.convert_format(BOXES, "center_yxhw", "rel_xywh", HEIGHT, WIDTH),
            bb.compute_iou(BOXES, BOXES, "xyxy", use_masking=True),
            bb.affine_transform(BOXES, angles, *[np.zeros(2, "float32")] * 2, np.ones(2, "float32"),
                                *[np.zeros(2, "float32")] * 2, HEIGHT, WIDTH),
            bb.clip_to_image_size({"boxes": BOXES, "labels": label_values}, HEIGHT, WIDTH)["labels"]]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_in_a_lambda_layer_and_from_keras_utils():
    import mlcore as keras
    assert keras.utils.bounding_boxes.convert_format is bb.convert_format
    inputs = keras.Input((5, 4))
    outputs = keras.layers.Lambda(lambda b: bb.convert_format(b, "xyxy", "center_xywh"))(inputs)
    model = keras.Model(inputs, outputs)
    np.testing.assert_allclose(model.predict(BOXES, verbose=0), bb.convert_format(BOXES, "xyxy", "center_xywh"),
                               rtol=1e-6)
