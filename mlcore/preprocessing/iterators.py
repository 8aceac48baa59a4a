"""Batch iterators behind ImageDataGenerator.flow and flow_from_directory.

They are both Keras Sequences (len() batches, batch i by indexing, on_epoch_end()
reshuffles) and endless Python iterators (next() wraps around epochs and reshuffles
at the start of each), as Keras's legacy iterators are.
"""

import os
import threading
import warnings

import numpy as np

from mlcore.preprocessing.image_utils import (
    array_to_img, default_data_format, default_floatx, img_to_array, load_img, random_state)


class Iterator:
    """Base class: index bookkeeping; subclasses build a batch from sample indices."""

    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

    def __init__(self, n, batch_size, shuffle, seed):
        self.n = n
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.batch_index = 0
        self.total_batches_seen = 0
        self.index_array = None
        self.lock = threading.Lock()
        self._rng = random_state(seed)
        self.index_generator = self._flow_index()

    def _set_index_array(self):
        self.index_array = self._rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def __getitem__(self, idx):
        if not 0 <= idx < len(self):
            raise IndexError(f"Asked to retrieve element {idx}, but the Sequence has "
                             f"length {len(self)}")
        if self.index_array is None:
            self._set_index_array()
        self.total_batches_seen += 1
        return self._get_batches_of_transformed_samples(
            self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)])

    def on_epoch_end(self):
        self._set_index_array()

    def reset(self):
        """Start the next() stream at a new (reshuffled) epoch."""
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            if self.batch_index == 0:
                self._set_index_array()
            start = (self.batch_index * self.batch_size) % self.n if self.n else 0
            self.batch_index = self.batch_index + 1 if self.n > start + self.batch_size else 0
            self.total_batches_seen += 1
            yield self.index_array[start:start + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self):
        with self.lock:
            index_array = next(self.index_generator)
        return self._get_batches_of_transformed_samples(index_array)

    def _augment(self, x):
        """Random transform then normalisation of one image, by the owning generator."""
        gen = self.image_data_generator
        if gen is None:
            return x
        x = gen.apply_transform(x, gen.get_random_transform(x.shape, seed=self._rng))
        return gen.standardize(x)

    def _save_batch(self, batch_x, index_array):
        for x, j in zip(batch_x, index_array):
            tag = int(self._rng.random() * 1e7)
            fname = f"{self.save_prefix}_{j}_{tag}.{self.save_format}"
            img = array_to_img(x, self.data_format, scale=True)
            img.save(os.path.join(self.save_to_dir, fname))

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError


def _list_class_files(directory, class_name, extensions, follow_links, split):
    """Relative paths (class_name/...) of the image files under one class folder, sorted;
    `split` = (start, stop) fractions keeps that slice of them for validation_split."""
    class_dir = os.path.join(directory, class_name)
    found = []
    for root, _, files in sorted(os.walk(class_dir, followlinks=follow_links)):
        for fname in sorted(files):
            if fname.lower().endswith(extensions):
                found.append(os.path.join(class_name,
                                          os.path.relpath(os.path.join(root, fname), class_dir)))
    if split:
        found = found[int(split[0] * len(found)):int(split[1] * len(found))]
    return found


class DirectoryIterator(Iterator):
    """Images in one sub-folder per class (sub-folders of those included), as Keras reads them.

    Only files with an image extension (`white_list_formats`) are listed, so stray text
    files cost nothing. A listed file that fails to decode is reported once with a
    warning and from then on left out of its batches: that batch, and that file's batch
    in every later epoch, is one sample shorter (its label removed with it), while
    `samples`, `filenames` and len() still count it.
    """

    allowed_class_modes = {"categorical", "binary", "sparse", "input", None}

    def __init__(self, directory, image_data_generator, target_size=(256, 256),
                 color_mode="rgb", classes=None, class_mode="categorical", batch_size=32,
                 shuffle=True, seed=None, data_format=None, save_to_dir=None,
                 save_prefix="", save_format="png", follow_links=False, subset=None,
                 interpolation="nearest", keep_aspect_ratio=False, dtype=None):
        if color_mode not in {"rgb", "rgba", "grayscale"}:
            raise ValueError(f'Invalid color mode: {color_mode}; expected "rgb", "rgba", '
                             'or "grayscale".')
        if class_mode not in self.allowed_class_modes:
            raise ValueError(f"Invalid class_mode: {class_mode}; expected one of: "
                             f"{self.allowed_class_modes}")
        self.directory = directory
        self.image_data_generator = image_data_generator
        self.target_size = tuple(target_size)
        self.color_mode = color_mode
        self.class_mode = class_mode
        self.data_format = data_format or default_data_format()
        self.dtype = dtype or default_floatx()
        self.save_to_dir = save_to_dir
        self.save_prefix, self.save_format = save_prefix, save_format
        self.interpolation = interpolation
        self.keep_aspect_ratio = keep_aspect_ratio
        channels = {"rgb": 3, "rgba": 4, "grayscale": 1}[color_mode]
        self.image_shape = (self.target_size + (channels,) if self.data_format == "channels_last"
                            else (channels,) + self.target_size)
        self.subset = subset
        self.split = _subset_split(image_data_generator, subset)

        if not classes:
            classes = [d for d in sorted(os.listdir(directory))
                       if os.path.isdir(os.path.join(directory, d))]
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))
        self.filenames, labels = [], []
        for name in classes:
            files = _list_class_files(directory, name, self.white_list_formats, follow_links,
                                      self.split)
            self.filenames += files
            labels += [self.class_indices[name]] * len(files)
        self.classes = np.array(labels, dtype="int32")
        self.samples = len(self.filenames)
        self._filepaths = [os.path.join(directory, f) for f in self.filenames]
        self._unreadable = set()
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self):
        return self._filepaths

    @property
    def labels(self):
        return self.classes

    def _load(self, j):
        """Image j as an array, or None (warning once) when it cannot be decoded."""
        if j in self._unreadable:
            return None
        try:
            img = load_img(self._filepaths[j], color_mode=self.color_mode,
                           target_size=self.target_size, interpolation=self.interpolation,
                           keep_aspect_ratio=self.keep_aspect_ratio)
            x = img_to_array(img, data_format=self.data_format, dtype=self.dtype)
            img.close()
            return x
        except (OSError, ValueError, SyntaxError) as e:  # what Pillow raises on bad data
            self._unreadable.add(j)
            warnings.warn(f"Skipping unreadable image {self._filepaths[j]!r}: {e}", stacklevel=4)
            return None

    def _get_batches_of_transformed_samples(self, index_array):
        images, kept = [], []
        for j in index_array:
            x = self._load(j)
            if x is not None:
                images.append(self._augment(x))
                kept.append(j)
        index_array = np.asarray(kept, dtype=int)
        batch_x = np.zeros((len(kept),) + self.image_shape, dtype=self.dtype)
        for i, x in enumerate(images):
            batch_x[i] = x
        if self.save_to_dir:
            self._save_batch(batch_x, index_array)
        if self.class_mode is None:
            return batch_x
        if self.class_mode == "input":
            return batch_x, batch_x.copy()
        labels = self.classes[index_array]
        if self.class_mode == "categorical":
            batch_y = np.zeros((len(kept), self.num_classes), dtype=self.dtype)
            batch_y[np.arange(len(kept)), labels] = 1.0
            return batch_x, batch_y
        return batch_x, labels.astype(self.dtype)  # binary and sparse


def _subset_split(image_data_generator, subset):
    """(start, stop) fractions of each class folder for subset="validation"/"training"."""
    if subset is None:
        return None
    if subset not in ("training", "validation"):
        raise ValueError(f'Invalid subset name: {subset}; expected "training" or "validation"')
    fraction = image_data_generator._validation_split
    return (0, fraction) if subset == "validation" else (fraction, 1)


class NumpyArrayIterator(Iterator):
    """Batches of (augmented) images from an in-memory array, with labels and weights."""

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, data_format=None, save_to_dir=None,
                 save_prefix="", save_format="png", subset=None, ignore_class_split=False,
                 dtype=None):
        self.dtype = dtype or default_floatx()
        self.data_format = data_format or default_data_format()
        if y is not None and len(x) != len(y):
            raise ValueError("`x` (images tensor) and `y` (labels) should have the same "
                             f"length. Found: x.shape = {np.shape(x)}, y.shape = {np.shape(y)}")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError("`x` (images tensor) and `sample_weight` should have the same "
                             f"length. Found: x.shape = {np.shape(x)}, "
                             f"sample_weight.shape = {np.shape(sample_weight)}")
        y = None if y is None else np.asarray(y)
        sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(f'Invalid subset name: {subset}; expected "training" or '
                                 '"validation".')
            cut = int(len(x) * image_data_generator._validation_split)
            if (y is not None and not ignore_class_split
                    and not np.array_equal(np.unique(y[:cut]), np.unique(y[cut:]))):
                raise ValueError("Training and validation subsets have different number of "
                                 "classes after the split. If your numpy arrays are sorted "
                                 "by the label, you might want to shuffle them.")
            part = slice(None, cut) if subset == "validation" else slice(cut, None)
            x = x[part]
            y = None if y is None else y[part]
            sample_weight = None if sample_weight is None else sample_weight[part]
        self.x = np.asarray(x, dtype=self.dtype)
        if self.x.ndim != 4:
            raise ValueError("Input data in `NumpyArrayIterator` should have rank 4. You "
                             f"passed an array with shape {self.x.shape}")
        channels_axis = 3 if self.data_format == "channels_last" else 1
        if self.x.shape[channels_axis] not in {1, 3, 4}:
            warnings.warn(f'NumpyArrayIterator is set to use the data format convention '
                          f'"{self.data_format}" (channels on axis {channels_axis}), i.e. '
                          f"expected either 1, 3, or 4 channels on axis {channels_axis}. "
                          f"However, it was passed an array with shape {self.x.shape}.")
        self.y = y
        self.sample_weight = sample_weight
        self.image_data_generator = image_data_generator
        self.save_to_dir = save_to_dir
        self.save_prefix, self.save_format = save_prefix, save_format
        super().__init__(len(self.x), batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = np.zeros((len(index_array),) + self.x.shape[1:], dtype=self.dtype)
        for i, j in enumerate(index_array):
            batch_x[i] = self._augment(self.x[j].copy())  # standardize() works in place
        if self.save_to_dir:
            self._save_batch(batch_x, index_array)
        if self.y is None:
            return batch_x
        if self.sample_weight is None:
            return batch_x, self.y[index_array]
        return batch_x, self.y[index_array], self.sample_weight[index_array]
