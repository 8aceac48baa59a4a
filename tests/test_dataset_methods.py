"""tf.data's methods on the datasets of image/text_dataset_from_directory and timeseries_dataset_from_array
(mlcore.utils.dataset_ops), checked against tf.data's documented semantics computed here with numpy (Keras's
own datasets need TensorFlow): laziness, per-batch vs per-element map, batch/unbatch, shuffle's buffer,
repeat, take/skip, cache, cardinality and len(), and fit/evaluate/predict reading the results."""
import os

import numpy as np
import pytest
from PIL import Image

import mlcore
from mlcore import layers, utils
from mlcore.utils.dataset_ops import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY

pytestmark = pytest.mark.usefixtures("numpy_backend")


@pytest.fixture
def image_dir(tmp_path, rng):
    """2 classes of 7 PNG images, 5x6 RGB."""
    for name in ("cats", "dogs"):
        os.makedirs(tmp_path / name)
        for i in range(7):
            pixels = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / ("%s_%d.png" % (name, i)))
    return str(tmp_path)


@pytest.fixture
def ds(image_dir):
    """14 images in 4 batches (4, 4, 4, 2), in file order."""
    return utils.image_dataset_from_directory(image_dir, image_size=(5, 6), batch_size=4, shuffle=False,
                                              verbose=False)


def arrays(ds):
    """All images and labels of a dataset from directory, read by index."""
    batches = [ds[i] for i in range(len(ds))]
    return np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches])


def test_take_skip_count_batches_of_a_batched_dataset(ds):
    assert len(ds) == ds.cardinality() == 4 and ds.class_names == ["cats", "dogs"] and len(ds.file_paths) == 14
    (images, labels), = list(ds.take(1))
    np.testing.assert_array_equal(images, ds[0][0])
    np.testing.assert_array_equal(labels, ds[0][1])
    assert [len(x) for x, _ in ds.skip(1)] == [4, 4, 2]
    assert len(ds.take(2)) == 2 and len(ds.take(10)) == 4 and len(ds.take(-1)) == 4
    assert len(ds.skip(3)) == 1 and len(ds.skip(9)) == 0 and len(ds.skip(-1)) == 0
    assert list(ds.skip(-1)) == []
    np.testing.assert_array_equal(list(ds.skip(3))[0][0], ds[3][0])


def test_map_is_lazy_and_applies_per_batch_then_per_element(ds):
    calls = []

    def rescale(x, y):
        calls.append(x.shape)
        return x / 255.0, y
    mapped = ds.map(rescale, num_parallel_calls=AUTOTUNE, deterministic=True)
    assert calls == [] and len(mapped) == 4
    x_all, y_all = arrays(ds)
    got = list(mapped)
    assert calls == [(4, 5, 6, 3)] * 3 + [(2, 5, 6, 3)]
    np.testing.assert_allclose(np.concatenate([x for x, _ in got]), x_all / 255.0)
    calls.clear()
    elements = list(ds.unbatch().map(rescale))
    assert calls == [(5, 6, 3)] * 14
    np.testing.assert_allclose(np.stack([x for x, _ in elements]), x_all / 255.0)
    np.testing.assert_array_equal([y for _, y in elements], y_all)
    # a single argument for an element that is not a tuple; a returned list becomes a tuple, as in tf.data
    assert np.array_equal(next(iter(ds.map(lambda x, y: x).map(lambda x: x[:1]))), ds[0][0][:1])
    assert isinstance(next(iter(ds.map(lambda x, y: [x, y]))), tuple)


def test_unbatch_and_batch_regroup_elements(ds):
    x_all, y_all = arrays(ds)
    assert ds.unbatch().cardinality() == UNKNOWN_CARDINALITY
    with pytest.raises(TypeError, match="unknown"):
        len(ds.unbatch())
    assert [len(y) for _, y in ds.unbatch().batch(5)] == [5, 5, 4]
    assert [len(y) for _, y in ds.unbatch().batch(5, drop_remainder=True)] == [5, 5]
    rebatched = list(ds.unbatch().batch(6))
    np.testing.assert_array_equal(np.concatenate([x for x, _ in rebatched]), x_all)
    np.testing.assert_array_equal(rebatched[1][1], y_all[6:12])
    assert rebatched[0][1].dtype == np.int32
    assert len(ds.batch(3)) == 2 and len(ds.batch(3, drop_remainder=True)) == 1
    nested = next(iter(ds.batch(2)))           # batches of batches, as tf.data stacks them
    assert nested[0].shape == (2, 4, 5, 6, 3)
    with pytest.raises(ValueError, match="same structure and shapes"):
        list(ds.batch(4))                       # a batch of 4 with a batch of 2 cannot stack
    with pytest.raises(ValueError, match="batch_size"):
        ds.batch(0)


def test_shuffle_buffer_semantics(ds):
    elements = ds.unbatch().enumerate().map(lambda i, element: i)   # each element's position
    values = list(elements)
    assert values == list(range(14))
    assert list(elements.shuffle(1)) == values    # a buffer of one keeps the order
    full = list(elements.shuffle(100, seed=1))
    assert sorted(full) == sorted(values) and full != values
    assert list(elements.shuffle(100, seed=1)) == full          # seeded: repeatable
    for buffer_size in (2, 3, 5):
        shuffled = list(elements.shuffle(buffer_size, seed=4))
        assert sorted(shuffled) == list(range(14))
        # the element at output k was among the first k + buffer_size read
        assert all(i < k + buffer_size for k, i in enumerate(shuffled))
    again = elements.shuffle(100, seed=2)
    assert list(again) != list(again)             # reshuffled each iteration
    fixed = elements.shuffle(100, seed=2, reshuffle_each_iteration=False)
    assert list(fixed) == list(fixed)
    assert len(ds.shuffle(8)) == 4


def test_repeat_cardinality_and_order(ds):
    twice = ds.repeat(2)
    assert len(twice) == 8
    labels = [y for _, y in twice]
    np.testing.assert_array_equal(np.concatenate(labels), np.tile(arrays(ds)[1], 2))
    endless = ds.repeat()
    assert endless.cardinality() == INFINITE_CARDINALITY == ds.repeat(-1).cardinality()
    with pytest.raises(TypeError, match="infinite"):
        len(endless)
    assert bool(endless)
    assert len(list(endless.take(10))) == 10 and endless.take(10).cardinality() == 10
    assert endless.skip(3).cardinality() == INFINITE_CARDINALITY
    assert ds.repeat(0).cardinality() == 0 and list(ds.repeat(0)) == []
    assert list(ds.take(0).repeat()) == []        # an endless repeat of nothing ends
    assert ds.filter(lambda x, y: True).repeat(3).cardinality() == UNKNOWN_CARDINALITY


def test_cache_reads_and_maps_once(ds, tmp_path):
    calls = []
    cached = ds.map(lambda x, y: (calls.append(1) or x + 1, y)).cache()
    first, second = list(cached), list(cached)
    assert len(calls) == 4
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a[0], b[0])
    partial = ds.map(lambda x, y: (calls.append(1) or x, y)).cache()
    list(partial.take(1)), list(partial), list(partial)
    assert len(calls) == 4 + 1 + 4                # only a full pass fills the cache
    path = str(tmp_path / "cache")
    list(ds.map(lambda x, y: (x * 2, y)).cache(path))
    from_file = list(ds.map(lambda x, y: (calls.append(1) or x, y)).cache(path))
    assert len(calls) == 9
    np.testing.assert_array_equal(from_file[0][0], ds[0][0] * 2)


def test_prefetch_filter_enumerate_concatenate_apply(ds):
    x_all, y_all = arrays(ds)
    assert len(ds.prefetch(AUTOTUNE)) == 4
    np.testing.assert_array_equal(np.concatenate([x for x, _ in ds.prefetch(2)]), x_all)
    dogs = ds.unbatch().filter(lambda x, y: y == 1)
    assert dogs.cardinality() == UNKNOWN_CARDINALITY and [int(y) for _, y in dogs] == [1] * 7
    assert [i for i, _ in ds.enumerate(start=3)] == [3, 4, 5, 6]
    both = ds.take(1).concatenate(ds.skip(3))
    assert len(both) == 2 and [len(y) for _, y in both] == [4, 2]
    assert ds.concatenate(ds.repeat()).cardinality() == INFINITE_CARDINALITY
    assert len(ds.apply(lambda d: d.take(3))) == 3
    element = next(ds.as_numpy_iterator())
    assert isinstance(element, tuple) and all(isinstance(part, np.ndarray) for part in element)


def test_padded_batch_pads_each_part_to_the_longest(rng):
    lengths = [3, 1, 4, 2, 5]
    series = [rng.normal(size=(n, 2)).astype("float32") for n in lengths]
    data = utils.timeseries_dataset_from_array(np.arange(5), None, sequence_length=1, batch_size=None)
    ds = data.map(lambda i: (series[int(i[0])], np.array(lengths[int(i[0])])))
    batches = list(ds.padded_batch(2))
    assert [b[0].shape for b in batches] == [(2, 3, 2), (2, 4, 2), (1, 5, 2)]
    expected = np.zeros((2, 4, 2), "float32")
    expected[0, :4], expected[1, :2] = series[2], series[3]
    np.testing.assert_array_equal(batches[1][0], expected)
    np.testing.assert_array_equal(batches[1][1], [4, 2])
    fixed = next(iter(ds.padded_batch(2, padded_shapes=([6, None], []), padding_values=(-1.0, 0))))
    assert fixed[0].shape == (2, 6, 2) and np.all(fixed[0][1, 1:] == -1)
    with pytest.raises(ValueError, match="do not fit"):
        list(ds.padded_batch(5, padded_shapes=([2, None], [])))


def test_timeseries_and_text_datasets_have_the_methods(tmp_path):
    data = np.arange(20, dtype="float32")[:, None]
    ds = utils.timeseries_dataset_from_array(data, np.arange(20), sequence_length=3, batch_size=5)
    windows = list(ds.unbatch())
    assert len(windows) == 18 and ds.cardinality() == 4
    np.testing.assert_array_equal(windows[7][0][:, 0], [7, 8, 9])
    assert int(windows[7][1]) == 7
    for name in ("neg", "pos"):
        os.makedirs(tmp_path / name)
        for i in range(3):
            (tmp_path / name / ("%d.txt" % i)).write_text("%s text %d" % (name, i))
    texts = utils.text_dataset_from_directory(str(tmp_path), batch_size=2, shuffle=False, verbose=False)
    only_text = texts.map(lambda x, y: x)
    assert [list(b) for b in only_text] == [["neg text 0", "neg text 1"], ["neg text 2", "pos text 0"],
                                            ["pos text 1", "pos text 2"]]
    vectorize = layers.TextVectorization(max_tokens=10, output_mode="int", output_sequence_length=3)
    vectorize.adapt(only_text)                  # the text classification guide's pattern
    assert set(vectorize.get_vocabulary()) >= {"text", "neg", "pos", "0"}


def small_model(seed=0):
    utils.set_random_seed(seed)
    model = mlcore.Sequential([layers.Input((5, 6, 3)), layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_evaluate_predict_read_a_mapped_dataset_as_its_batches(ds):
    x_all, y_all = arrays(ds)
    pipeline = ds.map(lambda x, y: (x / 255.0, y), num_parallel_calls=AUTOTUNE).cache().prefetch(AUTOTUNE)
    model, reference = small_model(), small_model()
    history = model.fit(pipeline, epochs=2, validation_data=pipeline.take(2), verbose=0)
    expected = reference.fit(x_all / 255.0, y_all, batch_size=4, epochs=2, shuffle=False,
                             validation_data=(x_all[:8] / 255.0, y_all[:8]), verbose=0)
    for key in ("loss", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(history.history[key], expected.history[key], rtol=1e-5)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.evaluate(pipeline, verbose=0), reference.evaluate(x_all / 255.0, y_all,
                                                                                       batch_size=4, verbose=0),
                               rtol=1e-5)
    np.testing.assert_allclose(model.predict(pipeline.map(lambda x, y: x), verbose=0),
                               reference.predict(x_all / 255.0, verbose=0), rtol=1e-5, atol=1e-7)


def test_an_endless_dataset_needs_steps_and_runs_on_across_epochs(ds):
    model = small_model()
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(ds.repeat(), epochs=1, verbose=0)
    seen = []
    endless = ds.map(lambda x, y: (seen.append(len(y)) or x / 255.0, y)).repeat()
    history = model.fit(endless, epochs=2, steps_per_epoch=3, verbose=0)
    assert len(history.history["loss"]) == 2
    assert seen == [4, 4, 4, 2, 4, 4]             # epoch 2 goes on where epoch 1 stopped
    seen.clear()
    finite = ds.map(lambda x, y: (seen.append(len(y)) or x / 255.0, y))
    model.fit(finite, epochs=3, steps_per_epoch=2, verbose=0)
    assert seen == [4, 4, 4, 2, 4, 4]             # after all 4 batches, the dataset starts over
