"""image_dataset_from_directory, text_dataset_from_directory and split_dataset against Keras 3: Keras's own
pure-python file index and split (keras.src.utils.dataset_utils), its resize (keras.ops.image.resize, what its
grain loader calls on the Pillow-decoded image), its argument errors, and models fitting on the datasets."""
import os
import random
import re

import numpy as np
import pytest
from PIL import Image

import mlcore
from mlcore import layers, utils
from mlcore.function import function

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


@pytest.fixture
def image_dir(tmp_path, rng):
    """3 classes of small PNG/BMP images of varied sizes, one in a nested folder, plus files and folders
    Keras ignores (a text file, a hidden folder)."""
    for c, name in enumerate(["dogs", "cats", "birds"]):
        os.makedirs(tmp_path / name / "nested")
        for i in range(4 + c):
            where = "nested/" if i == 0 else ""
            pixels = rng.integers(0, 256, (6 + i, 9 - c, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / ("%s%s_%d.%s" % (where, name, i, "bmp" if i == 1 else "png")))
        (tmp_path / name / "notes.txt").write_text("not an image")
    os.makedirs(tmp_path / ".hidden")
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / ".hidden" / "x.png")
    return str(tmp_path)


@pytest.fixture
def keras_index(keras):
    from keras.src.utils import dataset_utils
    return dataset_utils


def all_batches(dataset):
    items = [dataset[i] for i in range(len(dataset))]
    return np.concatenate([x for x, _ in items]), np.concatenate([y for _, y in items])


@pytest.mark.parametrize("seed", [1, 7, 1234])
def test_classes_labels_and_file_order_match_keras(image_dir, keras_index, seed, capsys):
    dataset = utils.image_dataset_from_directory(image_dir, image_size=(4, 5), batch_size=4, seed=seed)
    assert capsys.readouterr().out == "Found 15 files belonging to 3 classes.\n"
    paths, labels, names = keras_index.index_directory(image_dir, "inferred", IMAGE_FORMATS, seed=seed,
                                                       verbose=False)
    assert dataset.class_names == names == ["birds", "cats", "dogs"]
    assert dataset.file_paths == paths and len(dataset) == 4
    _, ours = all_batches(dataset)
    np.testing.assert_array_equal(ours, labels)
    assert ours.dtype == np.int32


def test_unshuffled_order_and_explicit_class_names(image_dir, keras_index):
    dataset = utils.image_dataset_from_directory(image_dir, class_names=["dogs", "birds"], shuffle=False,
                                                 image_size=(4, 5), verbose=False)
    paths, labels, _ = keras_index.index_directory(image_dir, "inferred", IMAGE_FORMATS,
                                                   class_names=["dogs", "birds"], shuffle=False, verbose=False)
    assert dataset.class_names == ["dogs", "birds"] and dataset.file_paths == paths
    assert [os.path.relpath(p, image_dir) for p in paths[:5]] == [  # a folder's files, then its sub-folders'
        "dogs/dogs_1.bmp", "dogs/dogs_2.png", "dogs/dogs_3.png", "dogs/nested/dogs_0.png", "birds/birds_1.bmp"]
    np.testing.assert_array_equal(dataset[0][1], labels)


@pytest.mark.parametrize("subset", ["training", "validation"])
def test_validation_split_matches_keras(image_dir, keras_index, subset, capsys):
    dataset = utils.image_dataset_from_directory(image_dir, image_size=(4, 5), seed=5, validation_split=0.3,
                                                 subset=subset, verbose=False)
    paths, labels, _ = keras_index.index_directory(image_dir, "inferred", IMAGE_FORMATS, seed=5, verbose=False)
    expected, expected_labels = keras_index.get_training_or_validation_split(paths, labels, 0.3, subset)
    assert capsys.readouterr().out == "Using %d files for %s.\n" % (len(expected), subset) * 2
    assert dataset.file_paths == expected
    np.testing.assert_array_equal(dataset[0][1], expected_labels)


def test_both_subsets_are_disjoint_complete_and_repeatable(image_dir):
    train, val = utils.image_dataset_from_directory(image_dir, image_size=(4, 5), seed=3, validation_split=0.2,
                                                    subset="both", verbose=False)
    assert (len(train.file_paths), len(val.file_paths)) == (12, 3)
    assert not set(train.file_paths) & set(val.file_paths)
    everything = utils.image_dataset_from_directory(image_dir, image_size=(4, 5), seed=3, verbose=False)
    assert train.file_paths + val.file_paths == everything.file_paths
    assert train.reshuffle and not val.reshuffle
    again, _ = utils.image_dataset_from_directory(image_dir, image_size=(4, 5), seed=3, validation_split=0.2,
                                                  subset="both", verbose=False)
    for _ in range(2):              # the same seeded order epoch after epoch
        np.testing.assert_array_equal(all_batches(train)[0], all_batches(again)[0])
        first = all_batches(train)[1]
        train.on_epoch_end(), again.on_epoch_end()
    assert sorted(first) == sorted(all_batches(train)[1])
    other = utils.image_dataset_from_directory(image_dir, image_size=(4, 5), seed=4, verbose=False)
    assert other.file_paths != everything.file_paths and sorted(other.file_paths) == sorted(everything.file_paths)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic", "lanczos3", "lanczos5"])
@pytest.mark.parametrize("aspect", ["stretch", "crop", "pad"])
def test_images_resized_as_keras(image_dir, keras, interpolation, aspect):
    dataset = utils.image_dataset_from_directory(image_dir, image_size=(5, 7), shuffle=False, batch_size=None,
                                                 interpolation=interpolation, crop_to_aspect_ratio=aspect == "crop",
                                                 pad_to_aspect_ratio=aspect == "pad", verbose=False)
    for k, path in enumerate(dataset.file_paths):
        image, label = dataset[k]
        pixels = np.asarray(Image.open(path).convert("RGB"), dtype="float32")
        expected = keras.ops.image.resize(pixels, (5, 7), interpolation=interpolation,
                                          crop_to_aspect_ratio=aspect == "crop", pad_to_aspect_ratio=aspect == "pad")
        assert image.shape == (5, 7, 3) and image.dtype == np.float32 and label.dtype == np.int32
        np.testing.assert_allclose(image, np.asarray(expected), rtol=1e-6, atol=2e-4)


@pytest.mark.usefixtures("numpy_backend")
def test_images_match_the_resizing_layer_and_pil(image_dir):
    dataset = utils.image_dataset_from_directory(image_dir, image_size=(5, 7), shuffle=False, verbose=False)
    path = dataset.file_paths[3]
    pixels = np.asarray(Image.open(path), dtype="float32")
    images = layers.Input(pixels.shape)
    resize = function([images], layers.Resizing(5, 7)(images))
    np.testing.assert_allclose(dataset[0][0][3], resize(pixels[None])[0], rtol=1e-6, atol=2e-4)
    same_size = utils.image_dataset_from_directory(image_dir, image_size=pixels.shape[:2], shuffle=False,
                                                   verbose=False)
    np.testing.assert_array_equal(same_size[0][0][3], pixels)      # no resize: Pillow's pixels exactly


@pytest.mark.parametrize("color_mode, data_format, shape", [
    ("grayscale", "channels_last", (2, 4, 5, 1)), ("rgba", "channels_last", (2, 4, 5, 4)),
    ("rgb", "channels_first", (2, 3, 4, 5))])
def test_color_modes_and_data_format(image_dir, color_mode, data_format, shape):
    dataset = utils.image_dataset_from_directory(image_dir, color_mode=color_mode, data_format=data_format,
                                                 image_size=(4, 5), batch_size=2, shuffle=False, verbose=False)
    images, _ = dataset[0]
    assert images.shape == shape and images.dtype == np.float32
    first = np.asarray(Image.open(dataset.file_paths[0]).convert({"grayscale": "L"}.get(color_mode, "RGB")))
    reference = utils.image_dataset_from_directory(image_dir, color_mode=color_mode, image_size=first.shape[:2],
                                                   batch_size=1, shuffle=False, verbose=False)[0][0][0]
    np.testing.assert_array_equal(reference[..., :3].reshape(first.shape), first)


def test_label_modes(image_dir, tmp_path):
    categorical = utils.image_dataset_from_directory(image_dir, label_mode="categorical", image_size=(4, 5),
                                                     batch_size=32, seed=2, verbose=False)
    ints = utils.image_dataset_from_directory(image_dir, image_size=(4, 5), batch_size=32, seed=2, verbose=False)
    onehot, labels = categorical[0][1], ints[0][1]
    assert onehot.dtype == np.float32 and onehot.shape == (15, 3)
    np.testing.assert_array_equal(onehot, np.eye(3)[labels])
    unlabeled = utils.image_dataset_from_directory(image_dir, label_mode=None, image_size=(4, 5), seed=2,
                                                   verbose=False)
    assert unlabeled.class_names is None and len(unlabeled.file_paths) == 16    # as Keras: .hidden/x.png too
    where = [unlabeled.file_paths.index(p) for p in ints.file_paths]
    np.testing.assert_array_equal(unlabeled[0][where], ints[0][0])

    two = os.path.join(image_dir, "dogs")       # its sub-folder "nested" and the files beside it
    explicit = utils.image_dataset_from_directory(two, labels=[1, 0, 1, 1], label_mode="binary", shuffle=False,
                                                  image_size=(4, 5), verbose=False)
    assert explicit.class_names == ["0", "1"]
    binary = explicit[0][1]
    assert binary.dtype == np.float32 and binary.shape == (4, 1)
    np.testing.assert_array_equal(binary[:, 0], [1, 0, 1, 1])


def test_unreadable_files_are_reported_and_skipped(image_dir):
    bad = os.path.join(image_dir, "cats", "broken.jpg")
    with open(bad, "w") as f:
        f.write("not a jpeg")
    dataset = utils.image_dataset_from_directory(image_dir, image_size=(4, 5), shuffle=False, batch_size=32,
                                                 verbose=False)
    assert bad in dataset.file_paths and len(dataset.file_paths) == 16
    with pytest.warns(UserWarning, match="Skipping unreadable file .*broken.jpg"):
        images, labels = dataset[0]
    kept = [p for p in dataset.file_paths if p != bad]
    assert images.shape == (15, 4, 5, 3)
    classes = [os.path.relpath(p, image_dir).split(os.sep)[0] for p in kept]
    np.testing.assert_array_equal(labels, [dataset.class_names.index(c) for c in classes])


def test_model_fits_directly_on_the_dataset(tmp_path, on_backend):
    """Dark images are class 0, bright ones class 1: a logistic regression on the mean learns it."""
    rng = np.random.default_rng(0)
    for label, (low, high) in enumerate([(0, 100), (155, 256)]):
        os.makedirs(tmp_path / str(label))
        for i in range(12):
            Image.fromarray(rng.integers(low, high, (5, 6), dtype=np.uint8)).save(tmp_path / str(label) / ("%d.png" % i))
    train, val = utils.image_dataset_from_directory(str(tmp_path), label_mode="binary", color_mode="grayscale",
                                                    image_size=(4, 4), batch_size=8, seed=1, validation_split=0.25,
                                                    subset="both", verbose=False)
    model = mlcore.Sequential([layers.Input((4, 4, 1)), layers.Rescaling(1 / 255.0), layers.GlobalAveragePooling2D(),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=mlcore.optimizers.SGD(2.0), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.evaluate(val, verbose=0)[1] == 1.0
    assert model.predict(val, verbose=0).shape == (6, 1)


@pytest.mark.parametrize("kwargs, message", [
    ({"label_mode": "sparse"}, '`label_mode` argument must be one of "int", "categorical", "binary", or None'),
    ({"labels": "folders"}, "`labels` argument should be a list/tuple of integer labels"),
    ({"labels": [0] * 15, "class_names": ["a"]}, "You can only pass `class_names` if"),
    ({"color_mode": "cmyk"}, "`color_mode` must be one of"),
    ({"image_size": (3, 4, 5)}, "Invalid `image_size` value. Expected a tuple of 2 integers"),
    ({"interpolation": "cubic"}, "Argument `interpolation` should be one of"),
    ({"format": "torch"}, '`format` should be either "tf" or "grain"'),
    ({"validation_split": 1.5, "subset": "training", "seed": 1}, "`validation_split` must be between 0 and 1"),
    ({"validation_split": 0.2}, "If `subset` is set, `validation_split` must be set, and inversely."),
    ({"validation_split": 0.2, "subset": "test", "seed": 1}, '`subset` must be either "training", "validation"'),
    ({"validation_split": 0.2, "subset": "training"}, "you must provide a `seed` argument"),
    ({"label_mode": "binary"}, 'When passing `label_mode="binary"`, there must be exactly 2 class_names'),
    ({"class_names": ["cows"]}, "The `class_names` passed did not match the names of the subdirectories"),
    ({"labels": [0, 1]}, "Expected the lengths of `labels` to match the number of files"),
    ({"labels": None, "class_names": ["dogs"]}, "When `labels=None` (no labels), argument `class_names` cannot"),
], ids=range(15))
def test_errors_as_keras(image_dir, keras, kwargs, message):
    """Keras checks these before it builds its tf.data pipeline, so its errors are compared directly."""
    for make in (keras.utils.image_dataset_from_directory, utils.image_dataset_from_directory):
        with pytest.raises(ValueError, match=re.escape(message)):
            make(image_dir, verbose=False, **kwargs)
    with pytest.raises(ValueError, match="^image_dataset_from_directory: "):
        utils.image_dataset_from_directory(image_dir, verbose=False, **kwargs)


def test_no_images_and_unimplemented_interpolation(tmp_path, keras):
    os.makedirs(tmp_path / "a")
    (tmp_path / "a" / "x.txt").write_text("text")
    for make in (keras.utils.image_dataset_from_directory, utils.image_dataset_from_directory):
        with pytest.raises(ValueError, match="No images found in directory"):
            make(str(tmp_path), verbose=False)
    with pytest.raises(NotImplementedError, match='image_dataset_from_directory: interpolation=.gaussian.'):
        utils.image_dataset_from_directory(str(tmp_path), interpolation="gaussian")
    with pytest.raises(ValueError, match="image_dataset_from_directory: directory .* does not exist"):
        utils.image_dataset_from_directory(str(tmp_path / "missing"))


def test_text_dataset_matches_keras_index_and_contents(tmp_path, keras_index, capsys):
    texts = {}
    for name in ["neg", "pos"]:
        os.makedirs(tmp_path / name)
        for i in range(5):
            texts[str(tmp_path / name / ("%d.txt" % i))] = "%s review number %d, été" % (name, i)
            (tmp_path / name / ("%d.txt" % i)).write_text(texts[str(tmp_path / name / ("%d.txt" % i))])
        (tmp_path / name / "image.png").write_bytes(b"ignored")
    train, val = utils.text_dataset_from_directory(str(tmp_path), batch_size=3, max_length=12, seed=9,
                                                   validation_split=0.4, subset="both")
    assert capsys.readouterr().out.startswith("Found 10 files belonging to 2 classes.\n")
    paths, labels, names = keras_index.index_directory(str(tmp_path), "inferred", (".txt",), seed=9, verbose=False)
    assert train.class_names == names and train.file_paths + val.file_paths == paths
    strings, ours = all_batches(train)
    np.testing.assert_array_equal(ours, labels[:6])
    assert strings.dtype.kind == "U" and list(strings) == [texts[p][:12] for p in paths[:6]]
    whole = utils.text_dataset_from_directory(str(tmp_path), label_mode=None, shuffle=False, verbose=False)
    assert list(whole[0]) == [texts[p] for p in sorted(texts)]
    with pytest.raises(ValueError, match="^text_dataset_from_directory: `label_mode` argument must be one of"):
        utils.text_dataset_from_directory(str(tmp_path), label_mode="sparse")


def test_keras2_paths():
    import mlcore.preprocessing as preprocessing
    assert preprocessing.image_dataset_from_directory is utils.image_dataset_from_directory
    assert preprocessing.text_dataset_from_directory is utils.text_dataset_from_directory


@pytest.mark.parametrize("left_size, right_size", [(0.8, None), (None, 3), (4, 0.5), (0.25, 0.5), (7, None)])
def test_split_dataset_sizes_and_order_as_keras(keras_index, left_size, right_size):
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    left, right = utils.split_dataset((x, y), left_size, right_size, shuffle=True, seed=11)
    n_left, n_right = keras_index._rescale_dataset_split_sizes(left_size, right_size, 10)
    order = list(range(10))
    random.seed(11)
    random.shuffle(order)           # Keras's shuffle of the samples
    assert isinstance(left, tuple) and len(left[0]) == n_left and len(right[1]) == n_right
    np.testing.assert_array_equal(left[0], x[order[:n_left]])
    np.testing.assert_array_equal(left[1], y[order[:n_left]])
    np.testing.assert_array_equal(right[0], x[order[-n_right:]])
    single_left, single_right = utils.split_dataset(x, left_size, right_size)
    np.testing.assert_array_equal(single_left, x[:n_left])
    np.testing.assert_array_equal(single_right, x[-n_right:])


@pytest.mark.parametrize("kwargs, error, message", [
    ({}, ValueError, "At least one of the `left_size` or `right_size` must be specified"),
    ({"left_size": 1.5}, ValueError, "`left_size` should be either a positive integer"),
    ({"right_size": 10}, ValueError, "`right_size` should be either a positive integer"),
    ({"left_size": 0.6, "right_size": 0.6}, ValueError, "The sum of `left_size` and `right_size` is greater than 1"),
    ({"left_size": 6, "right_size": 5}, ValueError, "should be smaller than the 10"),
    ({"left_size": 0.01}, ValueError, "Resulting left side dataset split will be empty"),
    ({"left_size": "half"}, TypeError, "Invalid `left_size` Type"),
], ids=range(7))
def test_split_dataset_errors_as_keras(keras, kwargs, error, message):
    for split in (keras.utils.split_dataset, utils.split_dataset):
        with pytest.raises(error, match=re.escape(message)):
            split(np.zeros((10, 2)), **kwargs)
    with pytest.raises(ValueError, match=r"split_dataset: .*same length. Received shapes \[\(10, 2\), \(9,\)\]"):
        utils.split_dataset((np.zeros((10, 2)), np.zeros(9)), left_size=0.5)
    with pytest.raises(TypeError, match="split_dataset: The `dataset` argument must be"):
        utils.split_dataset(5, left_size=0.5)
