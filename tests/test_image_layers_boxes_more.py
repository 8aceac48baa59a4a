"""Dict inputs {"images", "labels", "bounding_boxes", "segmentation_masks"} through pipelines and the layers
that draw more than a coin: a Sequential of augmentation layers (called, in a dataset's map, inside a
functional model) against Keras's; RandomPerspective, RandAugment and AugMix against Keras's fed mlcore's
own draw (a twin layer of the same seed draws it again); RandomElasticTransform's masks following their
images, and the errors."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import function, layers, tree
from mlcore.graph.basic import TensorType, Variable
from mlcore.utils.bounding_boxes import convert_format
from mlcore.utils.dataset_ops import Dataset

pytestmark = [pytest.mark.usefixtures("numpy_backend"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]   # jax arrays' __array__ in Keras

RNG = np.random.default_rng(0)
IMAGES = (RNG.uniform(size=(2, 4, 6, 3)) * 255).astype("float32")
MASKS = RNG.integers(0, 3, (2, 4, 6, 1)).astype("uint8")
LABELS = np.eye(2, dtype="float32")
BOXES = np.array([[[0, 0, 2, 2], [1, 1, 5, 3]], [[2, 1, 6, 4], [0, 0, 0, 0]]], "float32")     # xyxy on 4 x 6
BOX_LABELS = np.array([[1, 2], [3, -1]], "int32")


def data(masks=MASKS):
    """A fresh dict each time: Keras's layers write into the dict they are given."""
    return {"images": IMAGES, "labels": LABELS, "segmentation_masks": masks,
            "bounding_boxes": {"boxes": BOXES, "labels": BOX_LABELS}}


def assert_same(ours, theirs, keys=("images", "segmentation_masks", "labels")):
    for key in keys:
        assert ours[key].dtype == np.asarray(theirs[key]).dtype, key
        np.testing.assert_allclose(ours[key], np.asarray(theirs[key]), rtol=1e-5, atol=1e-3, err_msg=key)
    np.testing.assert_allclose(ours["bounding_boxes"]["boxes"], np.asarray(theirs["bounding_boxes"]["boxes"]),
                               rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(ours["bounding_boxes"]["labels"], np.asarray(theirs["bounding_boxes"]["labels"]))


def first_draw(layer, images=IMAGES):
    """The transformation a fresh layer draws at its first call on images of this shape, as numpy values:
    a twin of a layer (same class, arguments and seed) draws what the layer's own first call draws."""
    x = TensorType("float32", images.shape)("x")
    transformation = layer.get_random_transformation(x, True)
    leaves = [leaf for leaf in tree.flatten(transformation) if isinstance(leaf, Variable)]
    values = iter(function([x], leaves, on_unused_input="ignore")(images))
    return tree.map_structure(lambda leaf: next(values) if isinstance(leaf, Variable) else leaf, transformation)


# --- pipelines -----------------------------------------------------------------------------------------------
def augmenter(module, resize=True):
    """Keras's object-detection recipe, with arguments that fix the draw."""
    return module.Sequential([
        module.layers.RandomRotation((0.5, 0.5), bounding_box_format="xyxy"),
        module.layers.RandomTranslation((0.25, 0.25), (0.5, 0.5), bounding_box_format="xyxy")] +
        ([module.layers.Resizing(8, 12, bounding_box_format="xyxy")] if resize else []))


@pytest.fixture(scope="module")
def keras_augmented(keras):
    return augmenter(keras)(data()), augmenter(keras)(data(), training=False)


def test_a_sequential_of_augmentation_layers_takes_the_dict_as_kerass(keras_augmented):
    trained, inferred = keras_augmented
    model = augmenter(mlcore)
    assert_same(model(data()), trained)
    assert_same(model(data(), training=False), inferred)
    assert model.built


def test_a_sequential_maps_a_dataset_of_dicts(keras_augmented):
    """dataset.map(augmenter), as Keras's guides write it (one batch per element here)."""
    dataset = Dataset(lambda: iter([data(), data()]), 2).map(augmenter(mlcore))
    elements = list(dataset)
    assert len(elements) == 2
    for element in elements:
        assert_same(element, keras_augmented[0])


def test_a_sequential_in_a_functional_model_on_dict_inputs(keras):
    """Without Resizing, whose output shape Keras cannot infer for a dict."""
    def model(module):
        inputs = {"images": module.Input((4, 6, 3)), "segmentation_masks": module.Input((4, 6, 1)),
                  "bounding_boxes": {"boxes": module.Input((2, 4)), "labels": module.Input((2,), dtype="int32")}}
        copied = dict(inputs, bounding_boxes=dict(inputs["bounding_boxes"]))     # Keras's layers write into it
        return module.Model(inputs, augmenter(module, resize=False)(copied))
    given = dict(data(MASKS.astype("float32")))
    del given["labels"]
    ours = model(mlcore)(given, training=True)
    theirs = model(keras)(dict(given, bounding_boxes=dict(given["bounding_boxes"])), training=True)
    assert_same(ours, theirs, keys=("images", "segmentation_masks"))


def test_predict_on_a_dict_runs_the_sequential_in_batches_as_kerass(keras):
    """predict() of a Sequential given the dict (no graph: its input is nested) returns the same dict
    structure, batch by batch; at inference the random layers pass through, Resizing moves boxes and masks."""
    def model(module):
        return module.Sequential([module.layers.RandomRotation(0.3, bounding_box_format="xyxy", seed=2),
                                  module.layers.Resizing(8, 12, bounding_box_format="xyxy"),
                                  module.layers.CenterCrop(6, 10, bounding_box_format="xyxy")])
    given = dict(data(MASKS.astype("float32")))
    ours_model, theirs_model = model(mlcore), model(keras)
    ours = ours_model.predict(given, batch_size=1, verbose=0)
    theirs = theirs_model.predict(dict(given, bounding_boxes=dict(given["bounding_boxes"])), batch_size=1, verbose=0)
    assert list(ours) == list(given) and list(ours["bounding_boxes"]) == ["boxes", "labels"]
    assert_same(ours, theirs)
    assert ours["images"].shape == (2, 6, 10, 3)
    doubled = {key: np.repeat(np.repeat(given[key], 2, 1), 2, 2) for key in ("images", "segmentation_masks")}
    larger = dict(given, **doubled)     # 8 x 12 images: traced and compiled again
    ours, theirs = (module_model.predict(dict(larger, bounding_boxes=dict(larger["bounding_boxes"])), verbose=0)
                    for module_model in (ours_model, theirs_model))
    assert_same(ours, theirs)


# --- RandomPerspective ---------------------------------------------------------------------------------------
def test_random_perspective_moves_masks_and_boxes_with_its_images_as_kerass(keras):
    """One draw warps image 0 (seed 1: image 1 is left as it is); its mask and boxes go the same way, each
    equal to Keras's for that draw.  Keras returns its boxes in "xyxy" whatever the format: mlcore in the
    layer's own."""
    arguments = dict(factor=0.8, scale=0.5, seed=1)
    drawn = first_draw(layers.RandomPerspective(**arguments))
    np.testing.assert_array_equal(drawn["apply_perspective"].ravel(), [True, False])
    ours = layers.RandomPerspective(bounding_box_format="xyxy", **arguments)(data(), training=True)
    theirs_layer = keras.layers.RandomPerspective(bounding_box_format="xyxy")
    transformation = dict(drawn, apply_perspective=drawn["apply_perspective"].ravel(), input_shape=IMAGES.shape)
    theirs = {"images": theirs_layer.transform_images(IMAGES, transformation), "labels": LABELS,
              "segmentation_masks": theirs_layer.transform_segmentation_masks(MASKS, transformation),
              "bounding_boxes": theirs_layer.transform_bounding_boxes({"boxes": BOXES, "labels": BOX_LABELS},
                                                                      transformation)}
    assert_same(ours, theirs)
    assert not np.allclose(ours["bounding_boxes"]["boxes"][0], BOXES[0])
    relative = dict(data(), bounding_boxes={"boxes": convert_format(BOXES, "xyxy", "rel_xywh", height=4, width=6),
                                            "labels": BOX_LABELS})
    moved = layers.RandomPerspective(bounding_box_format="rel_xywh", **arguments)(relative, training=True)
    np.testing.assert_allclose(convert_format(moved["bounding_boxes"]["boxes"], "rel_xywh", "xyxy", height=4, width=6),
                               ours["bounding_boxes"]["boxes"], rtol=1e-5, atol=1e-4)


# --- RandAugment and AugMix ----------------------------------------------------------------------------------
def kerass_shear(drawn_shear):
    """mlcore's RandomShear draw as Keras's transformation."""
    factors = np.concatenate([drawn_shear["shear_x"].reshape(-1, 1), drawn_shear["shear_y"].reshape(-1, 1)], 1)
    return {"shear_factor": factors, "input_shape": IMAGES.shape}


@pytest.mark.parametrize("seed, picks", [(25, [0, 4]), (38, [2, 3])])   # shear, colour degeneration; rotation, ...
def test_rand_augment_moves_masks_and_boxes_through_its_picks_as_kerass(keras, seed, picks):
    """Each step's operation and parameters are drawn once for the images, masks and boxes; fed that
    draw, Keras's RandAugment gives the same outputs (picks in Keras's list order, where its boxes agree)."""
    arguments = dict(num_ops=2, factor=(0.5, 0.5), seed=seed)
    steps = first_draw(layers.RandAugment(**arguments))
    assert [int(step["choice"]) for step in steps] == picks
    ours = layers.RandAugment(bounding_box_format="xyxy", **arguments)(data(), training=True)
    theirs_layer = keras.layers.RandAugment(bounding_box_format="xyxy", num_ops=2, factor=(0.5, 0.5))
    transformation = theirs_layer.get_random_transformation(data(), training=True)
    transformation["layer_idxes"] = np.array(picks)
    transformation["transforms"]["random_shear"] = kerass_shear(steps[0]["transformations"][0])
    theirs = {"images": theirs_layer.transform_images(IMAGES, transformation), "labels": LABELS,
              "segmentation_masks": theirs_layer.transform_segmentation_masks(MASKS, transformation),
              "bounding_boxes": theirs_layer.transform_bounding_boxes({"boxes": BOXES, "labels": BOX_LABELS},
                                                                      transformation)}
    assert_same(ours, theirs)
    assert not np.array_equal(ours["segmentation_masks"], MASKS)


def test_augmix_mixes_masks_as_its_images_and_keeps_boxes_as_kerass(keras):
    """Seed 43 draws chains [equalization, translation] and [auto_contrast, shear]: fed that draw (with its
    Dirichlet and Beta weights), Keras's AugMix gives the same images and blended masks; boxes pass."""
    arguments = dict(num_chains=2, chain_depth=2, factor=(0.5, 0.5), all_ops=False, seed=43)
    drawn = first_draw(layers.AugMix(**arguments))
    assert [[int(step["choice"]) for step in chain] for chain in drawn["chains"]] == [[6, 1], [5, 0]]
    ours = layers.AugMix(bounding_box_format="xyxy", **arguments)(data(), training=True)
    theirs_layer = keras.layers.AugMix(bounding_box_format="xyxy", num_chains=2, chain_depth=2, factor=(0.5, 0.5),
                                       all_ops=False)

    def kerass_step(step):
        name = theirs_layer._augment_layers[int(step["choice"])]
        shear = int(step["choice"]) == 0
        return {"layer_name": name, "transformation": kerass_shear(step["transformations"][0]) if shear else
                getattr(theirs_layer, name).get_random_transformation(data(), training=True)}
    transformation = {"chain_mixing_weights": drawn["chain_weights"], "weight_sample": drawn["keep"],
                      "chain_transforms": [[kerass_step(step) for step in chain] for chain in drawn["chains"]]}
    theirs = {"images": theirs_layer.transform_images(IMAGES, transformation), "labels": LABELS,
              "segmentation_masks": theirs_layer.transform_segmentation_masks(MASKS, transformation),
              "bounding_boxes": theirs_layer.transform_bounding_boxes({"boxes": BOXES, "labels": BOX_LABELS},
                                                                      transformation)}
    assert_same(ours, theirs)
    assert len(np.unique(ours["segmentation_masks"])) > 3          # blended labels
    np.testing.assert_array_equal(ours["bounding_boxes"]["boxes"], BOXES)


# --- RandomElasticTransform ----------------------------------------------------------------------------------
def test_random_elastic_transform_moves_masks_with_their_images(keras):
    """Images that are their masks, sampled "nearest": mlcore's masks come out equal to its images (one
    displacement).  Keras 3.15 draws the masks a displacement of their own (they differ from its images);
    both keep a column - row ramp inside (rows and columns move together) and refuse boxes."""
    rows, cols = np.mgrid[:24, :24]
    masks = (cols - rows + 30).astype("uint8")[None, ..., None].repeat(2, axis=0)
    given = {"images": masks.repeat(3, axis=-1).astype("float32"), "segmentation_masks": masks}
    arguments = dict(factor=(1.0, 1.0), scale=(1.0, 1.0), interpolation="nearest")
    ours = layers.RandomElasticTransform(seed=0, **arguments)(given, training=True)
    theirs = keras.layers.RandomElasticTransform(seed=0, **arguments)(
        dict(given, segmentation_masks=masks.astype("float32")), training=True)
    assert ours["segmentation_masks"].dtype == np.uint8
    np.testing.assert_array_equal(ours["segmentation_masks"][..., 0], ours["images"][..., 0])
    assert not np.array_equal(np.asarray(theirs["segmentation_masks"])[..., 0], np.asarray(theirs["images"])[..., 0])
    for moved in (ours["segmentation_masks"], np.asarray(theirs["segmentation_masks"])):
        np.testing.assert_array_equal(moved[:, 4:-4, 4:-4], masks[:, 4:-4, 4:-4])
        assert not np.array_equal(moved, masks)
    boxes = {"images": IMAGES, "bounding_boxes": {"boxes": BOXES, "labels": BOX_LABELS}}
    with pytest.raises(NotImplementedError, match="RandomElasticTransform does not support bounding boxes"):
        layers.RandomElasticTransform(bounding_box_format="xyxy")(boxes)
    with pytest.raises(NotImplementedError):
        keras.layers.RandomElasticTransform(bounding_box_format="xyxy")(boxes)
