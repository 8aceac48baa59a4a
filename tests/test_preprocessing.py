"""mlcore.preprocessing.image: Pillow round trips, augmentation, flow and flow_from_directory."""

import os
import warnings

import numpy as np
import pytest
from PIL import Image

from mlcore.preprocessing.image import (
    ImageDataGenerator, apply_affine_transform, array_to_img, img_to_array, load_img, save_img)

CLASSES = {"cats": 3, "dogs": 4, "owls": 2}  # images per class folder


def _write_image(path, seed, size=(12, 10)):
    pixels = np.random.default_rng(seed).integers(0, 256, size + (3,), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels


@pytest.fixture
def image_dir(tmp_path):
    """cats/dogs/owls folders of PNGs and JPEGs of several sizes, a nested folder, a corrupt
    .jpg and a text file; returns the root and the sorted relative names of valid images."""
    valid = []
    for c, (name, count) in enumerate(CLASSES.items()):
        folder = tmp_path / name
        folder.mkdir()
        for i in range(count):
            ext = "png" if i % 2 == 0 else "jpg"
            _write_image(folder / f"img{i}.{ext}", seed=10 * c + i, size=(12 + i, 10 + c))
            valid.append(f"{name}/img{i}.{ext}")
    (tmp_path / "dogs" / "nested").mkdir()
    _write_image(tmp_path / "dogs" / "nested" / "deep.bmp", seed=99)
    valid.append("dogs/nested/deep.bmp")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    (tmp_path / "cats" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated nonsense")
    (tmp_path / "README.md").write_text("a stray file beside the class folders")
    return tmp_path


def _rel(path):
    return path.replace(os.sep, "/")


# --- image I/O -------------------------------------------------------------------------

def test_load_img_and_img_to_array_match_pillow(tmp_path):
    pixels = _write_image(tmp_path / "a.png", seed=0, size=(7, 5))
    img = load_img(tmp_path / "a.png")
    assert img.mode == "RGB" and img.size == (5, 7)
    x = img_to_array(img)
    assert x.dtype == np.float32 and x.shape == (7, 5, 3)
    np.testing.assert_array_equal(x, pixels)
    np.testing.assert_array_equal(img_to_array(img, data_format="channels_first"),
                                  pixels.transpose(2, 0, 1))


def test_load_img_color_modes_and_resizing(tmp_path):
    _write_image(tmp_path / "a.png", seed=1, size=(8, 6))
    reference = Image.open(tmp_path / "a.png")
    gray = img_to_array(load_img(str(tmp_path / "a.png"), color_mode="grayscale"))
    np.testing.assert_array_equal(gray[:, :, 0], np.asarray(reference.convert("L")))
    assert img_to_array(load_img(tmp_path / "a.png", color_mode="rgba")).shape == (8, 6, 4)
    resized = load_img(tmp_path / "a.png", target_size=(4, 3), interpolation="bilinear")
    np.testing.assert_array_equal(
        np.asarray(resized), np.asarray(reference.resize((3, 4), Image.Resampling.BILINEAR)))
    cropped = load_img(tmp_path / "a.png", target_size=(3, 3), keep_aspect_ratio=True)
    expected = reference.resize((3, 3), Image.Resampling.NEAREST, box=(0, 1, 6, 7))
    np.testing.assert_array_equal(np.asarray(cropped), np.asarray(expected))
    with pytest.raises(ValueError, match="color_mode"):
        load_img(tmp_path / "a.png", color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation"):
        load_img(tmp_path / "a.png", target_size=(2, 2), interpolation="cubic-ish")


def test_array_to_img_and_save_img_round_trip(tmp_path):
    x = np.random.default_rng(2).integers(0, 256, (6, 4, 3)).astype("float32")
    img = array_to_img(x, scale=False)
    np.testing.assert_array_equal(np.asarray(img), x.astype(np.uint8))
    scaled = img_to_array(array_to_img(x / 255.0 - 3.0))  # scale=True maps min..max to 0..255
    assert scaled.min() == 0 and scaled.max() == 255
    assert array_to_img(x[:, :, :1], scale=False).mode == "L"
    save_img(tmp_path / "b.png", x, scale=False)
    np.testing.assert_array_equal(img_to_array(load_img(tmp_path / "b.png")), x)
    save_img(tmp_path / "c.jpg", x.transpose(2, 0, 1), data_format="channels_first")
    assert load_img(tmp_path / "c.jpg").size == (4, 6)


# --- augmentation -----------------------------------------------------------------------

def test_affine_rotation_is_centred_on_non_square_images():
    x = np.random.default_rng(3).random((5, 9, 2))
    out = apply_affine_transform(x, theta=180, row_axis=0, col_axis=1, channel_axis=2, order=0)
    np.testing.assert_allclose(out, x[::-1, ::-1])
    square = np.random.default_rng(4).random((2, 7, 7))  # channels first
    out = apply_affine_transform(square, theta=90, row_axis=1, col_axis=2, channel_axis=0)
    np.testing.assert_allclose(out, np.rot90(square, 1, axes=(1, 2)), atol=1e-12)


def test_shift_ranges_move_along_their_own_axis():
    x = np.zeros((9, 11, 1), dtype="float32")
    x[4, 5, 0] = 1
    for kwargs, moved_axis in (({"height_shift_range": [3]}, 0), ({"width_shift_range": [3]}, 1)):
        gen = ImageDataGenerator(fill_mode="constant", **kwargs)
        (row, col), = np.argwhere(gen.random_transform(x, seed=0)[:, :, 0])
        moved = (abs(row - 4), abs(col - 5))
        assert moved[moved_axis] == 3 and moved[1 - moved_axis] == 0


def test_flip_rescale_and_preprocessing_function_order():
    x = np.arange(12, dtype="float32").reshape(2, 2, 3)
    gen = ImageDataGenerator(horizontal_flip=True, rescale=0.5,
                             preprocessing_function=lambda im: im + 1)
    flips = {bool(np.array_equal(gen.apply_transform(x, gen.get_random_transform(x.shape, s)),
                                 x[:, ::-1])) for s in range(20)}
    assert flips == {True, False}
    np.testing.assert_allclose(gen.standardize(x.copy()), (x + 1) * 0.5)


def test_fit_featurewise_statistics():
    x = np.random.default_rng(5).random((20, 4, 4, 3)).astype("float32") * 10
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    gen.fit(x)
    assert gen.mean.shape == (1, 1, 3)
    out = np.stack([gen.standardize(image.copy()) for image in x])
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-3)


def test_flow_batches_labels_weights_and_subset():
    x = np.random.default_rng(6).random((10, 4, 4, 1)).astype("float32")
    y = np.arange(10) % 2
    it = ImageDataGenerator(rescale=2.0).flow(x, y, batch_size=4, shuffle=False,
                                              sample_weight=np.ones(10))
    assert len(it) == 3
    bx, by, bw = it[2]
    np.testing.assert_allclose(bx, x[8:] * 2)
    np.testing.assert_array_equal(by, y[8:])
    assert bw.shape == (2,)
    val = ImageDataGenerator(validation_split=0.2).flow(x, y, subset="validation", shuffle=False)
    assert len(val.x) == 2
    seeded = [ImageDataGenerator(rotation_range=30).flow(x, y, seed=7, batch_size=5)
              for _ in range(2)]
    np.testing.assert_array_equal(next(seeded[0])[0], next(seeded[1])[0])


# --- flow_from_directory ----------------------------------------------------------------

def test_directory_listing(image_dir, capsys):
    it = ImageDataGenerator().flow_from_directory(image_dir, target_size=(8, 8), batch_size=4,
                                                  shuffle=False)
    assert "Found 11 images belonging to 3 classes." in capsys.readouterr().out
    assert it.class_indices == {"cats": 0, "dogs": 1, "owls": 2}
    assert it.num_classes == 3
    assert [_rel(f) for f in it.filenames] == [
        "cats/broken.jpg", "cats/img0.png", "cats/img1.jpg", "cats/img2.png",
        "dogs/img0.png", "dogs/img1.jpg", "dogs/img2.png", "dogs/img3.jpg",
        "dogs/nested/deep.bmp", "owls/img0.png", "owls/img1.jpg"]
    np.testing.assert_array_equal(it.classes, [0] * 4 + [1] * 5 + [2] * 2)
    assert it.classes.dtype == np.int32
    assert it.samples == 11 and len(it) == 3 and it.image_shape == (8, 8, 3)
    assert it.filepaths[0] == os.path.join(image_dir, it.filenames[0])


def test_classes_argument_and_validation_split(image_dir):
    gen = ImageDataGenerator(validation_split=0.5)
    it = gen.flow_from_directory(image_dir, classes=["owls", "dogs"], class_mode="sparse")
    assert it.class_indices == {"owls": 0, "dogs": 1}
    assert it.samples == 7
    train = gen.flow_from_directory(image_dir, subset="training", shuffle=False)
    val = gen.flow_from_directory(image_dir, subset="validation", shuffle=False)
    assert train.samples + val.samples == 11
    assert not set(train.filenames) & set(val.filenames)
    assert _rel(val.filenames[0]) == "cats/broken.jpg"  # the first half of each class


@pytest.mark.parametrize("class_mode", ["categorical", "binary", "sparse", "input", None])
def test_label_encodings(image_dir, class_mode):
    gen = ImageDataGenerator(rescale=1 / 255)
    it = gen.flow_from_directory(image_dir, target_size=(6, 5), class_mode=class_mode,
                                 batch_size=3, shuffle=False, classes=["dogs", "owls"])
    batch = it[1]  # dogs/img3.jpg, dogs/nested/deep.bmp, owls/img0.png
    x = batch if class_mode is None else batch[0]
    assert x.shape == (3, 6, 5, 3) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1
    expected = {
        "categorical": np.array([[1, 0], [1, 0], [0, 1]], dtype="float32"),
        "binary": np.array([0, 0, 1], dtype="float32"),
        "sparse": np.array([0, 0, 1], dtype="float32"),
    }
    if class_mode in expected:
        assert batch[1].dtype == np.float32
        np.testing.assert_array_equal(batch[1], expected[class_mode])
    elif class_mode == "input":
        np.testing.assert_array_equal(batch[1], x)


def test_grayscale_channels_first(image_dir):
    gen = ImageDataGenerator(data_format="channels_first")
    it = gen.flow_from_directory(image_dir, target_size=(5, 7), color_mode="grayscale",
                                 classes=["owls"], batch_size=2)
    assert it.image_shape == (1, 5, 7)
    assert it[0][0].shape == (2, 1, 5, 7)


def test_shuffle_seed_reproducible_and_epochs_reshuffle(image_dir):
    def stream(seed):
        it = ImageDataGenerator().flow_from_directory(
            image_dir, target_size=(4, 4), classes=["dogs", "owls"], class_mode="sparse",
            batch_size=7, seed=seed)
        return [next(it) for _ in range(6)]  # 7 samples: one full batch per epoch

    first, again, other = stream(1), stream(1), stream(2)
    for (xa, ya), (xb, yb) in zip(first, again):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    orders = [tuple(y) for _, y in first]
    assert len(set(orders)) > 1  # each epoch is shuffled anew
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(first, other))
    assert all(sorted(y) == [0] * 5 + [1] * 2 for y in orders)


def test_sequence_api_and_epoch_wraparound(image_dir):
    it = ImageDataGenerator().flow_from_directory(
        image_dir, target_size=(4, 4), classes=["dogs"], batch_size=2, shuffle=False)
    assert len(it) == 3
    sizes = [len(next(it)[0]) for _ in range(4)]
    assert sizes == [2, 2, 1, 2]  # the last batch of an epoch is partial, then it wraps
    it.reset()
    np.testing.assert_array_equal(next(it)[0], it[0][0])
    with pytest.raises(IndexError):
        it[3]
    it.on_epoch_end()


def test_corrupt_file_warned_once_and_skipped(image_dir):
    it = ImageDataGenerator().flow_from_directory(
        image_dir, target_size=(4, 4), classes=["cats"], batch_size=4, shuffle=False)
    assert it.samples == 4  # broken.jpg is listed: it has an image extension
    with pytest.warns(UserWarning, match="broken.jpg"):
        x, y = it[0]
    assert x.shape == (3, 4, 4, 3) and y.shape == (3, 1)  # the batch is one image short
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second epoch skips it silently
        it.on_epoch_end()
        x, _ = next(it)
    assert len(x) == 3
