"""mlcore.visualization against keras.visualization (Keras 3 on jax, drawing with OpenCV where it is
installed) and against box coordinates directly; galleries on matplotlib's Agg backend."""
import numpy as np
import pytest

import mlcore.visualization as mv
from mlcore.utils.bounding_boxes import convert_format

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 1, (2, 40, 50, 3)).astype("float32")
BOXES = {"boxes": np.array([[[5, 6, 30, 35], [-3, 2, 20, 60], [40, 20, 44, 24]],
                            [[10, 10, 45, 38], [0, 0, 49, 39], [3, 3, 8, 8]]], "float32"),
         "labels": np.array([[0, 1, -1], [2, 0, 1]])}
MASKS = RNG.integers(-1, 4, (2, 40, 50, 1)).astype("int32")


@pytest.fixture(scope="module")
def kvis(keras):
    return keras.visualization


@pytest.fixture
def figures():
    """The figures a test leaves open, closed after it."""
    yield plt
    plt.close("all")


def one_box(x1, y1, x2, y2, thickness, color=(255, 0, 0)):
    images = np.zeros((1, 20, 24, 3), "uint8")
    box = {"boxes": np.array([[[x1, y1, x2, y2]]], "float32"), "labels": np.array([[0]])}
    return mv.draw_bounding_boxes(images, box, "xyxy", color=color, line_thickness=thickness)[0]


def test_outline_pixels_follow_the_box_coordinates():
    drawn = one_box(4, 5, 15, 13, 1)
    expected = np.zeros((20, 24), bool)
    expected[5, 4:16] = expected[13, 4:16] = expected[5:14, 4] = expected[5:14, 15] = True
    np.testing.assert_array_equal(drawn[..., 0] == 255, expected)
    assert (drawn[..., 1:] == 0).all()
    thick = one_box(4, 5, 15, 13, 2)[..., 0] == 255          # 3-pixel bands, corners rounded off
    expected = np.zeros((20, 24), bool)
    expected[4:7, 4:16] = expected[12:15, 4:16] = expected[5:14, 3:6] = expected[5:14, 14:17] = True
    expected[[4, 4, 14, 14], [3, 16, 3, 16]] = False
    expected[[4, 4, 14, 14], [4, 15, 4, 15]] = True
    np.testing.assert_array_equal(thick, expected)


def test_padding_boxes_are_skipped_and_images_converted():
    out = mv.draw_bounding_boxes(IMAGES, BOXES, "xyxy", color=(9, 9, 9))
    assert out.dtype == np.uint8 and out.shape == IMAGES.shape
    np.testing.assert_array_equal(out[0, 19:26, 39:46], (IMAGES[0, 19:26, 39:46] * 255).astype("uint8"))  # label -1
    assert (out[0, 6, 5:31] == 9).all()
    first = mv.draw_bounding_boxes(np.moveaxis(IMAGES, -1, 1), BOXES, "xyxy", data_format="channels_first")
    np.testing.assert_array_equal(np.moveaxis(first, 1, -1), mv.draw_bounding_boxes(IMAGES, BOXES, "xyxy"))


@pytest.mark.parametrize("thickness", [1, 2, 3, 6])
def test_boxes_match_keras_pixel_for_pixel(kvis, thickness):
    pytest.importorskip("cv2")
    for fmt in ("xyxy", "rel_center_xywh"):
        boxes = dict(BOXES, boxes=convert_format(BOXES["boxes"], "xyxy", fmt, 40, 50))
        got = mv.draw_bounding_boxes(IMAGES * 200, boxes, fmt, color=(0, 188, 212), line_thickness=thickness)
        want = kvis.draw_bounding_boxes(IMAGES * 200, dict(boxes), fmt, color=(0, 188, 212), line_thickness=thickness)
        np.testing.assert_array_equal(got, want)


def test_class_names_are_written_above_the_box():
    images = np.zeros((1, 80, 120, 3), "uint8")
    box = {"boxes": np.array([[[20, 50, 100, 75]]], "float32"), "labels": np.array([[1]]),
           "confidences": np.array([[0.87]])}
    plain = mv.draw_bounding_boxes(images, box, "xyxy", color=(255, 255, 255))
    named = mv.draw_bounding_boxes(images, box, "xyxy", class_mapping={1: "dog"}, color=(255, 255, 255))
    text = np.argwhere((named[0] != plain[0]).any(-1))
    assert len(text) > 20
    assert text[:, 0].max() <= 50 - 8 + 6 and text[:, 0].min() >= 50 - 8 - 30     # rows above the top side
    assert text[:, 1].min() >= 20


def test_draw_bounding_boxes_errors():
    with pytest.raises(ValueError, match="4D"):
        mv.draw_bounding_boxes(IMAGES[0], BOXES, "xyxy")
    with pytest.raises(TypeError, match="dict"):
        mv.draw_bounding_boxes(IMAGES, BOXES["boxes"], "xyxy")
    with pytest.raises(ValueError, match="'labels'"):
        mv.draw_bounding_boxes(IMAGES, {"boxes": BOXES["boxes"]}, "xyxy")
    with pytest.raises(ValueError, match="format"):
        mv.draw_bounding_boxes(IMAGES, BOXES, "corners")


@pytest.mark.parametrize("blend", [True, False])
def test_segmentation_masks_match_keras(kvis, blend):
    for num_classes in (None, 3):
        got = mv.draw_segmentation_masks(IMAGES * 255, MASKS, num_classes=num_classes, blend=blend)
        want = np.asarray(kvis.draw_segmentation_masks(IMAGES * 255, MASKS, num_classes=num_classes, blend=blend))
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_segmentation_mask_colors_and_errors():
    masks = np.zeros((1, 4, 4), "int32")
    masks[0, :2] = 1
    masks[0, 3] = -1
    out = mv.draw_segmentation_masks(np.full((1, 4, 4, 3), 100.0), masks, color_mapping={0: (0, 0, 0),
                                                                                         1: (200, 0, 0)},
                                     num_classes=2, alpha=0.5)
    np.testing.assert_array_equal(out[0, 0, 0], [150, 50, 50])
    np.testing.assert_array_equal(out[0, 2, 0], [50, 50, 50])
    np.testing.assert_array_equal(out[0, 3, 0], [100, 100, 100])           # ignore_index: left as it was
    with pytest.raises(TypeError, match="integer dtype"):
        mv.draw_segmentation_masks(IMAGES, MASKS.astype("float32"))


def images_shown(figure):
    return [axis.images[0].get_array() for axis in figure.axes if axis.images]


def test_image_gallery_as_keras(kvis, figures):
    kvis.plot_image_gallery(IMAGES[:1].repeat(5, 0), value_range=(0, 1), show=False)
    want = plt.gcf()
    mv.plot_image_gallery(IMAGES[:1].repeat(5, 0), value_range=(0, 1), show=False)
    got = plt.gcf()
    assert got is not want and len(got.axes) == len(want.axes) == 3                 # rows 3, cols 5 // 3
    np.testing.assert_array_equal(images_shown(got)[0], (IMAGES[0] * 255).astype("uint8"))
    for a, b in zip(images_shown(got), images_shown(want)):
        np.testing.assert_array_equal(a, b)
    mv.plot_image_gallery(IMAGES, y_true=[0, 1], label_map={0: "cat", 1: "dog"}, rows=1, cols=2, show=False)
    assert [axis.get_title() for axis in plt.gcf().axes] == ["Label: cat", "Label: dog"]
    with pytest.raises(ValueError, match="label_map"):
        mv.plot_image_gallery(IMAGES, y_pred=[0, 1])


def test_image_gallery_saves_to_path(figures, tmp_path):
    path = tmp_path / "gallery.png"
    mv.plot_image_gallery(IMAGES * 255, path=str(path))
    assert path.stat().st_size > 0 and not plt.get_fignums()
    with pytest.raises(ValueError, match="`path`"):
        mv.plot_image_gallery(IMAGES, path=str(path), show=True)


def test_bounding_box_gallery_shows_drawn_images(figures):
    mv.plot_bounding_box_gallery(IMAGES * 255, "xyxy", y_true=BOXES, y_pred=dict(BOXES, labels=BOXES["labels"] * 0),
                                 legend=True, rows=1, cols=2, show=False)
    figure = plt.gcf()
    once = mv.draw_bounding_boxes(IMAGES * 255, BOXES, "xyxy", color=(0, 188, 212))
    twice = mv.draw_bounding_boxes(once, dict(BOXES, labels=BOXES["labels"] * 0), "xyxy", color=(255, 235, 59))
    shown = images_shown(figure)
    assert len(shown) == 2 and len(figure.legends) == 1
    for got, want in zip(shown, twice):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="legend"):
        mv.plot_bounding_box_gallery(IMAGES, "xyxy", legend=True, legend_handles=[object()])


def test_segmentation_mask_gallery_rows_of_image_truth_prediction(kvis, figures):
    mv.plot_segmentation_mask_gallery(IMAGES * 255, 4, y_true=MASKS, y_pred=MASKS[::-1], show=False)
    got = images_shown(plt.gcf())
    kvis.plot_segmentation_mask_gallery(IMAGES * 255, 4, y_true=MASKS, y_pred=MASKS[::-1], show=False)
    want = images_shown(plt.gcf())
    assert len(got) == len(want) == 6
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(got[4], mv.draw_segmentation_masks(IMAGES * 255, MASKS, num_classes=4)[1])
