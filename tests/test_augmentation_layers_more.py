"""Keras 3.15's colour, tone, filter, occlusion, warp and mixing augmentation layers (RandomGrayscale,
RandomInvert, Solarization, RandomPosterization, RandomColorDegeneration, RandomSaturation, RandomHue,
RandomSharpness, AutoContrast, Equalization, RandomErasing, RandomGaussianBlur, RandomShear,
RandomPerspective, RandomColorJitter, MixUp, CutMix).

Outputs against Keras (jax, training=True) on every backend where the arguments fix the draw (collapsed
factor ranges); where a coin is left (RandomHue's and RandomShear's direction) each image must be one of
Keras's two outputs; otherwise the statistics of many draws (MixUp's Beta weights and permutations,
CutMix's and RandomErasing's boxes, measured the same way on Keras's outputs); inference as Keras's
(unchanged, AutoContrast applied); configs against Keras's; a model with them saved and loaded."""
import json
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

from mlcore import function, layers
from mlcore.graph.basic import TensorType
from mlcore.models import Sequential, load_model
from mlcore.saving.keras3_config import keras_layer_spec

pytestmark = [pytest.mark.usefixtures("numpy_backend"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # jax arrays' __array__ in Keras
              pytest.mark.filterwarnings("ignore:Explicitly requested dtype int64")]   # Keras's MixUp on jax

IMAGE = (3, 7, 9, 3)

# (layer class name, arguments, input kind): outputs that Keras's arguments fix
CASES = [
    ("RandomGrayscale", dict(factor=1.0), "image"),
    ("RandomInvert", dict(factor=(1.0, 1.0), value_range=(0, 1)), "unit"),
    ("Solarization", dict(), "image"),                         # threshold 0: every pixel inverted
    ("RandomPosterization", dict(factor=(5, 5), value_range=(0, 1)), "unit"),
    ("RandomColorDegeneration", dict(factor=(-0.7, -0.7), value_range=(0, 1)), "unit"),
    ("RandomSaturation", dict(factor=(0.8, 0.8)), "image"),
    ("RandomHue", dict(factor=(1.0, 1.0)), "image"),           # +-1/2 turn: the same either way
    ("RandomSharpness", dict(factor=(0.1, 0.1)), "image"),
    ("RandomSharpness", dict(factor=(0.2, 0.2), data_format="channels_first"), "image_cf"),
    ("AutoContrast", dict(value_range=(0, 1)), "flat"),        # a flat channel stays as it is
    ("Equalization", dict(), "levels"),                        # a channel of one level stays as it is
    ("Equalization", dict(bins=16, value_range=(0, 1)), "unit"),
    ("RandomErasing", dict(factor=(1.0, 1.0), scale=(1.0, 1.0), fill_value=7.0), "image"),
    ("RandomGaussianBlur", dict(factor=(1.0, 1.0), kernel_size=(5, 3), sigma=(0.6, 0.6)), "image"),
    ("RandomPerspective", dict(scale=0.0), "image"),
    ("RandomColorJitter", dict(brightness_factor=(0.2, 0.2), contrast_factor=(-0.3, 0.3), saturation_factor=(0.7, 0.7),
                               hue_factor=(1.0, 1.0)), "image"),
]


def case_id(case):
    return "%s-%s-%s" % (case[0], "-".join("%s=%s" % kv for kv in sorted(case[1].items())), case[2])


def make_input(kind):
    rng = np.random.default_rng(len(kind))
    if kind == "unit":
        return rng.uniform(size=IMAGE).astype("float32")
    if kind == "coin":
        return (rng.uniform(size=(8, 6, 7, 3)) * 255).astype("float32")
    if kind == "image_cf":
        return (rng.uniform(size=(2, 3, 6, 5)) * 255).astype("float32")
    if kind == "flat":                                    # image 0's green channel is flat
        image = rng.uniform(size=IMAGE).astype("float32")
        image[0, :, :, 1] = 0.25
        return image
    if kind == "levels":                                  # channel 2 holds a single value
        image = (rng.uniform(size=IMAGE) * 255).astype("float32")
        image[..., 2] = 33.0
        return image
    return (rng.uniform(size=IMAGE) * 255).astype("float32")


def variable(value):
    return TensorType(value.dtype.name, (None,) + value.shape[1:])("x")


# --- a coin left: each image is one of Keras's two outputs -----------------------------------------------------
def keras_hue(keras, images, sign):
    layer = keras.layers.RandomHue(factor=(0.5, 0.5))
    return np.asarray(layer.transform_images(images, {"factor": np.full(len(images), 0.25 * sign, "float32")}))


def keras_shear(keras, images, sign):
    layer = keras.layers.RandomShear(x_factor=(0.3, 0.3), y_factor=(0.2, 0.2), fill_mode="constant", fill_value=9.0)
    shear = np.tile(np.array([[0.3, 0.2]], "float32") * sign, (len(images), 1))
    return np.asarray(layer.transform_images(images, {"shear_factor": shear, "input_shape": images.shape}))


COIN_CASES = [(lambda: layers.RandomHue(factor=(0.5, 0.5), seed=1), keras_hue),
              (lambda: layers.RandomShear(x_factor=(0.3, 0.3), y_factor=(0.2, 0.2), fill_mode="constant",
                                          fill_value=9.0, seed=2), keras_shear)]


@pytest.fixture(scope="module")
def expected(keras):
    """Keras's outputs, with jax's 64-bit mode off as in a fresh process (an earlier test may have turned
    it on, and Equalization's rounding of .5 ties then differs)."""
    import jax
    with jax.enable_x64(False):
        return [np.asarray(getattr(keras.layers, name)(**kwargs)(make_input(kind), training=True))
                for name, kwargs, kind in CASES]


@pytest.fixture(scope="module")
def expected_coins(keras):
    """Keras's outputs for both directions of each COIN_CASES layer, through its transform_images."""
    import jax
    images = make_input("coin")
    with jax.enable_x64(False):
        return [(reference(keras, images, 1.0), reference(keras, images, -1.0)) for _, reference in COIN_CASES]


@pytest.fixture(scope="module")
def compiled_cases():
    """One graph with every case's output (training), so that each backend compiles once."""
    kinds = {kind: make_input(kind) for kind in {case[2] for case in CASES} | {"coin"}}
    inputs = {kind: variable(value) for kind, value in kinds.items()}
    outputs = [getattr(layers, name)(**kwargs)(inputs[kind], training=True) for name, kwargs, kind in CASES]
    coins = [make()(inputs["coin"], training=True) for make, _ in COIN_CASES]
    return list(inputs.values()), outputs + coins, list(kinds.values())


def test_outputs_match_keras_on_every_backend(backend, compiled_cases, expected, expected_coins):
    inputs, outputs, values = compiled_cases
    run = function(inputs, outputs, backend=backend, on_unused_input="ignore")
    got = run(*values)
    for case, ours, theirs in zip(CASES, got, expected):
        assert ours.shape == theirs.shape, case_id(case)
        scale = 1.0 if case[2] in ("unit", "flat") else 255.0
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=4e-6 * scale, err_msg=case_id(case))
    directions = []
    for outputs in (got, run(*values)):                 # two calls: fresh draws
        for (make, _), ours, options in zip(COIN_CASES, outputs[len(CASES):], expected_coins):
            for k in range(len(ours)):
                close = [np.allclose(ours[k], option[k], rtol=1e-5, atol=1e-3) for option in options]
                assert any(close), (type(make()).__name__, k)
                directions.append(close.index(True))
    assert set(directions) == {0, 1}


# --- inference -----------------------------------------------------------------------------------------------------
RANDOM_LAYERS = [("RandomGrayscale", {}), ("RandomInvert", {}), ("Solarization", dict(threshold_factor=0.5)),
                 ("RandomPosterization", dict(factor=4)), ("RandomColorDegeneration", dict(factor=0.5)),
                 ("RandomSaturation", dict(factor=0.5)), ("RandomHue", dict(factor=0.5)),
                 ("RandomSharpness", dict(factor=0.5)), ("Equalization", {}), ("RandomErasing", {}),
                 ("RandomGaussianBlur", {}), ("RandomShear", dict(x_factor=0.3)), ("RandomPerspective", {}),
                 ("RandomColorJitter", dict(hue_factor=0.3, contrast_factor=0.2)), ("MixUp", {}), ("CutMix", {}),
                 ("RandAugment", {}), ("AugMix", dict(num_chains=2, chain_depth=2)), ("RandomElasticTransform", {})]


def test_inference_leaves_images_unchanged_and_applies_autocontrast(expected):
    images = make_input("flat")
    x = variable(images)
    outputs = [getattr(layers, name)(**kwargs)(x, training=False) for name, kwargs in RANDOM_LAYERS]
    contrast = layers.AutoContrast(value_range=(0, 1))(x, training=False)
    got = function([x], outputs + [contrast])(images)
    for (name, _), ours in zip(RANDOM_LAYERS, got):
        np.testing.assert_array_equal(ours, images, err_msg=name)
    at_training = [e for case, e in zip(CASES, expected) if case[0] == "AutoContrast"][0]
    np.testing.assert_allclose(got[-1], at_training, rtol=1e-6, atol=1e-6)   # Keras's AutoContrast ignores training


# --- statistics of many draws ----------------------------------------------------------------------------------------
def one_hot_batch(batch, size):
    """Image k of the batch is channel k set everywhere: a mixed pixel tells whose images it blends."""
    return np.tile(np.eye(batch, dtype="float32")[:, None, None, :], (1, size, size, 1))


def mixup_draws(outputs):
    """The weights w of w e_k + (1 - w) e_partner for the images mixed with another, and each draw's
    partners where they show (a weight of exactly 1, or an image drawn as its own partner, hides them)."""
    weights, partners = [], []
    for out in outputs:
        pixel = out[:, 0, 0, :]
        partner = np.argmax(pixel - 2 * np.eye(len(pixel)), axis=1)
        shown = [k for k in range(len(pixel)) if pixel[k, partner[k]] > 0]
        partners.append(partner[shown])
        weights.extend(pixel[k, k] for k in shown)
    return np.array(weights), partners


def cutmix_fractions(outputs):
    """The fraction of each image pasted from another; each pasted region must be a box."""
    fractions = []
    for out in outputs:
        for k, image in enumerate(out):
            pasted = image[..., k] < 0.5
            rows, cols = np.nonzero(pasted.any(axis=1))[0], np.nonzero(pasted.any(axis=0))[0]
            if len(rows):
                assert pasted[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all() and pasted.sum() == len(rows) * len(cols)
                assert np.allclose(image.sum(axis=-1), 1.0)
            fractions.append(pasted.mean())
    return np.array(fractions)


def draws_of(layer, images, count, backend=None):
    x = variable(images)
    run = function([x], layer(x, training=True), backend=backend)
    return [run(images) for _ in range(count)]


def test_mixup_weights_are_beta_and_partners_a_permutation_as_kerass(keras):
    images, alpha = one_hot_batch(48, 1), 0.4
    ours, partners = mixup_draws(draws_of(layers.MixUp(alpha=alpha, seed=3), images, 8))
    theirs, _ = mixup_draws([np.asarray(keras.layers.MixUp(alpha=alpha, seed=s)(images, training=True))
                             for s in range(3)])
    for shown in partners:
        assert len(set(shown)) == len(shown) > 30          # a permutation: no image is the partner of two
    variance = 1.0 / (4 * (2 * alpha + 1))                      # Beta(a, a) has mean 1/2
    for weights in (ours, theirs):
        assert abs(weights.mean() - 0.5) < 0.06 and abs(weights.var() - variance) < 0.03
        assert weights.min() >= 0 and weights.max() <= 1


def test_cutmix_pastes_boxes_of_kerass_sizes(keras):
    images = one_hot_batch(40, 8)
    ours = cutmix_fractions(draws_of(layers.CutMix(factor=(0.5, 0.5), seed=4), images, 6))
    theirs = cutmix_fractions([np.asarray(keras.layers.CutMix(factor=(0.5, 0.5), seed=s)(images, training=True))
                               for s in range(3)])
    assert abs(ours.mean() - theirs.mean()) < 0.08 and abs(ours.std() - theirs.std()) < 0.08
    assert 0.3 < ours.mean() < 0.6


def test_erasing_boxes_and_coins():
    images = np.random.default_rng(1).uniform(size=(64, 8, 8, 2)).astype("float32")
    outputs = draws_of(layers.RandomErasing(factor=0.5, scale=(0.25, 0.25), fill_value=300.0, seed=5), images, 3)
    erased = 0
    for out in outputs:
        for image in out:
            box = image[..., 0] == 255.0                       # fill_value clipped to value_range
            if box.any():
                rows, cols = np.nonzero(box.any(axis=1))[0], np.nonzero(box.any(axis=0))[0]
                assert len(rows) == len(cols) == 4 and box.sum() == 16 and (image[..., 1][box] == 255).all()
                erased += 1
    assert abs(erased / (3 * 64) - 0.25) < 0.08                # probability drawn in [0, 0.5]


@pytest.mark.parametrize("name, kwargs, changed", [
    ("RandomGrayscale", dict(factor=0.3), 0.3), ("RandomInvert", {}, 0.5),
    ("RandomGaussianBlur", dict(factor=(0.8, 0.8)), 0.8), ("RandomPerspective", dict(factor=(0.4, 0.4)), 0.4)])
def test_each_image_is_augmented_with_the_layers_probability(name, kwargs, changed):
    images = (np.random.default_rng(2).uniform(size=(100, 5, 5, 3)) * 255).astype("float32")
    outputs = draws_of(getattr(layers, name)(seed=6, **kwargs), images, 2)
    fraction = np.mean([not np.allclose(out[k], images[k]) for out in outputs for k in range(len(images))])
    assert abs(fraction - changed) < 0.1, fraction


# --- configs, errors and models ---------------------------------------------------------------------------------------
CONFIG_SAMPLES = [
    ("RandomGrayscale", dict(factor=0.2, seed=3)), ("RandomInvert", dict(factor=0.4, value_range=(0, 1), seed=1)),
    ("Solarization", dict(addition_factor=0.3, threshold_factor=(0.6, 0.2), value_range=(1, 0))),
    ("RandomPosterization", dict(factor=(2, 6), value_range=(0, 1))),
    ("RandomColorDegeneration", dict(factor=0.3)), ("RandomSaturation", dict(factor=(0.2, 0.7), seed=2)),
    ("RandomHue", dict(factor=0.4, value_range=(0, 1))), ("RandomSharpness", dict(factor=0.3)),
    ("AutoContrast", dict(value_range=(0, 1))), ("Equalization", dict(bins=32, data_format="channels_first")),
    ("RandomErasing", dict(factor=0.7, scale=0.2, fill_value=(1, 2, 3))),
    ("RandomGaussianBlur", dict(kernel_size=(3, 5), sigma=(0.2, 0.6))),
    ("RandomShear", dict(x_factor=0.3, y_factor=(0.1, 0.2), fill_mode="constant", interpolation="nearest")),
    ("RandomPerspective", dict(factor=0.5, scale=0.3, fill_value=2.0)),
    ("RandomColorJitter", dict(value_range=(0, 1), brightness_factor=0.2, hue_factor=(0.1, 0.3))),
    ("MixUp", dict(alpha=0.5, seed=7)), ("CutMix", dict(factor=0.6)),
    ("RandAugment", dict(value_range=(0, 1), num_ops=3, factor=0.2, interpolation="nearest")),
    ("AugMix", dict(num_chains=2, chain_depth=4, factor=(0.1, 0.4), alpha=0.5, all_ops=False, seed=3)),
    ("RandomElasticTransform", dict(factor=0.5, scale=(0.2, 0.4), fill_mode="wrap", value_range=(0, 1)))]


@pytest.mark.parametrize("name, kwargs", CONFIG_SAMPLES, ids=[s[0] for s in CONFIG_SAMPLES])
def test_configs_have_kerass_keys_and_values_and_round_trip(keras, name, kwargs):
    ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    saved, ref = keras_layer_spec(ours)["config"], theirs.get_config()
    assert set(saved) == set(ref)
    for key in set(saved) - {"name", "dtype"}:
        assert json.loads(json.dumps(saved[key])) == json.loads(json.dumps(ref[key])), key
    again = type(ours).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()


@pytest.mark.parametrize("make, message", [
    (lambda: layers.RandomGrayscale(1.5), "between 0 and 1"),
    (lambda: layers.RandomInvert(factor=(1.2, 1.5)), "factor"),
    (lambda: layers.Solarization(addition_factor=(-0.1, 0.5)), "addition_factor"),
    (lambda: layers.RandomPosterization(factor=9), "factor"),
    (lambda: layers.RandomSaturation(0.5, value_range=3), "value_range"),
    (lambda: layers.RandomGaussianBlur(kernel_size=4), "odd"),
    (lambda: layers.RandomErasing(fill_value=(1, 2)), "fill_value"),
    (lambda: layers.RandomShear(x_factor=1.5), "x_factor"),
    (lambda: layers.RandomPerspective(scale=2.0), "scale"),
    (lambda: layers.RandomPerspective(interpolation="bicubic"), "interpolation")])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises((ValueError, NotImplementedError), match=message):
        make()


def test_bad_inputs_name_the_layer_and_shape():
    with pytest.raises(ValueError, match=r"MixUp 'mix': Expected the input image to be rank 3 or 4.*\(None, 4\)"):
        layers.MixUp(name="mix")(TensorType("float32", (None, 4))())


def test_models_with_the_layers_go_to_keras_files_and_back(keras, tmp_path):
    model = Sequential([layers.Input((8, 8, 3)), layers.RandomGrayscale(0.3), layers.Solarization(0.2, 0.5),
                        layers.RandomHue(0.3, seed=1), layers.RandomErasing(), layers.RandomShear((0.1, 0.2), seed=2),
                        layers.AutoContrast(), layers.MixUp(), layers.CutMix(),
                        layers.RandomColorJitter(brightness_factor=0.2), layers.Conv2D(2, 3), layers.Flatten()])
    path = str(tmp_path / "model.keras")
    model.save(path)
    x = (np.random.default_rng(4).uniform(size=(2, 8, 8, 3)) * 255).astype("float32")
    ours = model.predict(x, verbose=0)
    loaded = load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), ours)
    np.testing.assert_allclose(np.asarray(keras.saving.load_model(path).predict(x, verbose=0)), ours,
                               rtol=1e-5, atol=1e-4)
    # Keras 3.15 cannot hold Equalization in a model (its output spec is its input: "part of a cycle")
    equalizing = Sequential([layers.Input((8, 8, 3)), layers.Equalization(bins=64), layers.Flatten()])
    equalizing.save(path)
    assert load_model(path).layers[0].get_config() == equalizing.layers[0].get_config()


@pytest.mark.parametrize("name", ["MixUp", "CutMix"])
def test_mixing_layers_mix_labels_with_their_images_weights(keras, name):
    """One-hot images and labels: image k's pixels and its label blend the same two images, MixUp's with the
    same weights; CutMix's label weighs each image by the share of its box (continuous, as Keras's)."""
    images, labels = one_hot_batch(16, 8), np.eye(16, dtype="float32")
    x, y = variable(images), variable(labels)
    out = getattr(layers, name)(seed=8)({"images": x, "labels": y}, training=True)
    run = function([x, y], [out["images"], out["labels"]])
    theirs = getattr(keras.layers, name)(seed=1)({"images": images, "labels": labels}, training=True)
    assert set(theirs) == {"images", "labels"}
    for mixed, mixed_labels in [run(images, labels), run(images, labels),
                                (np.asarray(theirs["images"]), np.asarray(theirs["labels"]))]:
        np.testing.assert_allclose(mixed_labels.sum(axis=1), 1.0, rtol=1e-5)
        if name == "MixUp":
            np.testing.assert_allclose(mixed_labels, mixed[:, 0, 0, :], rtol=1e-5, atol=1e-6)
            continue
        share = mixed.mean(axis=(1, 2))                  # the pixel share of each image in image k
        assert ((share > 0) <= (mixed_labels > 1e-6)).all()
        np.testing.assert_allclose(mixed_labels, share, atol=17 / 64)    # each box side is off by < 1 pixel


RAND_AUGMENT_OPS = ["random_shear", "random_translation", "random_rotation", "random_brightness",
                    "random_color_degeneration", "random_contrast", "random_sharpness", "random_posterization",
                    "solarization", "auto_contrast", "equalization"]


def test_rand_augment_applies_kerass_operations(keras):
    """With factor 0 each of Keras's 11 operations is deterministic: every batch RandAugment(num_ops=1) gives
    is one of them (picked for the whole batch), and picks differ between calls."""
    images = (np.random.default_rng(3).uniform(size=(2, 6, 6, 3)) * 255).astype("float32")
    theirs = keras.layers.RandAugment(num_ops=1, factor=0.0)
    options = [np.asarray(getattr(theirs, name)(images, training=True)) for name in RAND_AUGMENT_OPS]
    picked = set()
    for out in draws_of(layers.RandAugment(num_ops=1, factor=0.0, seed=2), images, 12):
        close = [np.allclose(out, option, rtol=1e-5, atol=1e-3) for option in options]
        assert any(close)
        picked.add(close.index(True))
    assert len(picked) >= 4


def test_augmix_blends_chains_within_the_value_range():
    images = np.random.default_rng(4).uniform(size=(3, 6, 6, 3)).astype("float32")
    outputs = draws_of(layers.AugMix(value_range=(0, 1), num_chains=2, chain_depth=2, seed=5), images, 4)
    for out in outputs:
        assert out.min() >= 0.0 and out.max() <= 1.0
    assert not all(np.allclose(out, outputs[0]) for out in outputs[1:])


RAMPS = np.stack([np.stack([np.mgrid[:16, :16][1] - np.mgrid[:16, :16][0] + 20.0, np.mgrid[:16, :16].sum(0) * 1.0,
                            np.full((16, 16), 7.0)], -1)] * 4).astype("float32")
ELASTIC = dict(factor=(1.0, 1.0), scale=(0.5, 0.5), value_range=(-100, 100))


@pytest.fixture(scope="module")
def keras_elastic(keras):
    return [np.asarray(keras.layers.RandomElasticTransform(seed=s, **ELASTIC)(RAMPS, training=True)) for s in (1, 2)]


def test_elastic_transform_moves_rows_and_columns_together_as_kerass(backend, keras_elastic):
    """Keras's jax elastic transform displaces rows and columns by the same blurred noise, so the ramp
    column - row keeps its interior and the ramp column + row does not; a flat image stays flat."""
    ours = draws_of(layers.RandomElasticTransform(seed=1, **ELASTIC), RAMPS, 2, backend)
    for out in ours + keras_elastic:
        np.testing.assert_allclose(out[:, 2:-2, 2:-2, 0], RAMPS[:, 2:-2, 2:-2, 0], atol=1e-3)
        assert np.abs(out[:, 2:-2, 2:-2, 1] - RAMPS[:, 2:-2, 2:-2, 1]).max() > 0.05
        np.testing.assert_allclose(out[..., 2], 7.0, rtol=1e-6)
    moved = [np.abs(out[..., 1] - RAMPS[..., 1]).mean() for out in ours + keras_elastic]
    assert max(moved[:2]) < 3 * min(moved[2:]) and min(moved[:2]) > max(moved[2:]) / 3   # displacements alike


def test_an_unbatched_image_called_eagerly_keeps_its_size(keras):
    """layer(image) on one (height, width, channels) array: the layer sees the image's real size (an
    eager call builds on the array's shape, as Keras's), so a size-dependent warp works as on a batch."""
    image = np.random.default_rng(3).random((8, 6, 3)).astype("float32")
    ours = layers.RandomRotation((0.1, 0.1))(image, training=True)      # a fixed angle
    np.testing.assert_allclose(ours, layers.RandomRotation((0.1, 0.1))(image[None], training=True)[0],
                               rtol=1e-6, atol=1e-6)
    theirs = np.asarray(keras.layers.RandomRotation((0.1, 0.1))(image, training=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)
