"""What image_dataset_from_directory and text_dataset_from_directory share, as Keras's dataset_utils: the
file index (one sub-folder per class), Keras's seeded shuffle and validation split over it, and the
dataset of numpy batches that fit, evaluate and predict read directly (Keras builds a tf.data pipeline)."""
import os
import warnings

import numpy as np

from mlcore.utils.dataset_ops import DatasetOps
from mlcore.utils.py_dataset import PyDataset


class DirectoryDataset(DatasetOps, PyDataset):
    """Batches of load(path) for file_paths, with their labels encoded by label_mode ("int": int32,
    "binary": float32 (n, 1), "categorical": float32 one-hot, None: no labels); batch_size None gives
    single samples; collate makes a batch of the loaded samples. With reshuffle, the samples come in a new
    seeded order after each epoch (the first epoch reads file_paths' order, itself Keras's seeded shuffle).
    A file that cannot be read is reported once with a warning and left out of its batches from then on,
    as flow_from_directory does. It has tf.data's methods (map, batch, take, ...: DatasetOps)."""

    def __init__(self, file_paths, labels, label_mode, class_names, load, batch_size, reshuffle, seed,
                 collate=np.array):
        super().__init__()
        self.file_paths, self.class_names = list(file_paths), class_names
        self.labels = None if label_mode is None else np.asarray(labels, dtype="int32")
        self.label_mode, self.load, self.batch_size = label_mode, load, batch_size
        self.reshuffle, self._rng, self.collate = reshuffle, np.random.RandomState(seed), collate
        self.order = np.arange(len(self.file_paths))
        self._unreadable = set()

    def __len__(self):
        n = len(self.file_paths)
        return n if self.batch_size is None else -(-n // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError("dataset from directory: no batch %d among %d" % (index, len(self)))
        size = self.batch_size or 1
        loaded = [(j, x) for j, x in ((j, self._read(j)) for j in self.order[index * size:(index + 1) * size])
                  if x is not None]
        if not loaded and self.batch_size is None:
            raise IndexError("dataset from directory: sample %d cannot be read" % index)
        labels = None if self.labels is None else self._encode(self.labels[[j for j, _ in loaded]])
        if self.batch_size is None:
            samples, labels = loaded[0][1], None if labels is None else labels[0]
        else:
            samples = self.collate([x for _, x in loaded])
        return samples if labels is None else (samples, labels)

    def _read(self, j):
        """load() of file j, or None (a warning the first time) when it cannot be read."""
        if j in self._unreadable:
            return None
        try:
            return self.load(self.file_paths[j])
        except (OSError, ValueError, SyntaxError) as e:  # what Pillow and open() raise on bad files
            self._unreadable.add(j)
            warnings.warn("Skipping unreadable file %r: %s" % (self.file_paths[j], e), stacklevel=4)
            return None

    def _encode(self, labels):
        if self.label_mode == "binary":
            return labels.astype("float32")[:, None]
        if self.label_mode == "categorical":
            return (labels[:, None] == np.arange(len(self.class_names))).astype("float32")  # as tf.one_hot
        return labels

    def on_epoch_end(self):
        if self.reshuffle:
            self.order = self._rng.permutation(len(self.file_paths))


def check_format(caller, format):
    """Keras's `format` ("tf" for tf.data, "grain" for Grain): both give mlcore's one dataset kind, a PyDataset
    with tf.data's methods, which needs neither library."""
    if format not in ("tf", "grain"):
        raise ValueError("%s: `format` should be either \"tf\" or \"grain\". Received: format=%r" % (caller, format))


def check_arguments(caller, labels, label_mode, class_names, validation_split, subset, shuffle, seed, format):
    """Keras's checks of the arguments both loaders share."""
    check_format(caller, format)
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError("%s: `labels` argument should be a list/tuple of integer labels, of the same size as "
                             "the number of files in the target directory, \"inferred\" or None. Received: "
                             "labels=%r" % (caller, labels))
        if class_names:
            raise ValueError("%s: You can only pass `class_names` if `labels=\"inferred\"`. Received: labels=%r, "
                             "and class_names=%r" % (caller, labels, class_names))
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError("%s: `label_mode` argument must be one of \"int\", \"categorical\", \"binary\", or None. "
                         "Received: label_mode=%r" % (caller, label_mode))
    if validation_split and not 0 < validation_split < 1:
        raise ValueError("%s: `validation_split` must be between 0 and 1, received: %r" % (caller, validation_split))
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("%s: If `subset` is set, `validation_split` must be set, and inversely." % caller)
    if subset not in ("training", "validation", "both", None):
        raise ValueError("%s: `subset` must be either \"training\", \"validation\" or \"both\", received: %r"
                         % (caller, subset))
    if validation_split and shuffle and seed is None:
        raise ValueError("%s: If using `validation_split` and shuffling the data, you must provide a `seed` "
                         "argument, to make sure that there is no overlap between the training and validation "
                         "subset." % caller)


def _class_files(directory, follow_links, formats):
    """Paths, relative to directory's parent, of the files under directory with one of the extensions: folders
    in sorted order, each folder's files sorted, as Keras lists them."""
    name = os.path.basename(directory)
    return [os.path.join(name, os.path.relpath(os.path.join(root, fname), directory))
            for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda x: x[0])
            for fname in sorted(files) if fname.lower().endswith(formats)]


def index_directory(caller, directory, labels, formats, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True):
    """(file_paths, labels, class_names) as Keras's index_directory: one class per sub-folder (sorted, or
    class_names' order) with labels="inferred", else every file under directory; then, with shuffle,
    paths and labels permuted by np.random.RandomState(seed)."""
    if not os.path.isdir(directory):
        raise ValueError("%s: directory %r does not exist or is not a folder" % (caller, directory))
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError("%s: The `class_names` passed did not match the names of the subdirectories of "
                                 "the target directory. Expected: %s (or a subset of it), but received: "
                                 "class_names=%s" % (caller, subdirs, class_names))
            subdirs = list(class_names)
    elif class_names is not None:
        raise ValueError("%s: When `labels=None` (no labels), argument `class_names` cannot be specified." % caller
                         if labels is None else
                         "%s: When argument `labels` is specified, argument `class_names` cannot be specified "
                         "(the `class_names` will be the sorted list of labels)." % caller)
    else:
        subdirs = [""]
    files = [_class_files(os.path.join(directory, d), follow_links, formats) for d in subdirs]
    filenames = [f for group in files for f in group]
    if labels == "inferred":
        class_names = subdirs
        labels = np.repeat(np.arange(len(subdirs), dtype="int32"), [len(group) for group in files])
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError("%s: Expected the lengths of `labels` to match the number of files in the target "
                             "directory. len(labels) is %d while we found %d files in directory %s."
                             % (caller, len(labels), len(filenames), directory))
        class_names = [str(label) for label in sorted(set(labels))]
        labels = np.array(labels, dtype="int32")
    if verbose:
        print("Found %d files." % len(filenames) if labels is None else
              "Found %d files belonging to %d classes." % (len(filenames), len(class_names)))
    file_paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def get_training_or_validation_split(samples, labels, validation_split, subset):
    """The last int(validation_split * n) samples for "validation", the ones before for "training"."""
    if not validation_split:
        return samples, labels
    count = int(validation_split * len(samples))
    if subset == "training":
        print("Using %d files for training." % (len(samples) - count))
        part = slice(None, -count)
    else:
        print("Using %d files for validation." % count)
        part = slice(-count, None)
    return samples[part], None if labels is None else labels[part]


def dataset_from_directory(caller, what, formats, load, directory, labels, label_mode, class_names, batch_size,
                           shuffle, seed, validation_split, subset, follow_links, format, verbose, collate=np.array):
    """The dataset (or [training, validation] for subset="both") of the files under directory with the given
    extensions, each read by load(path) and batched by collate(samples); `what` names them in the error
    when none is found."""
    check_arguments(caller, labels, label_mode, class_names, validation_split, subset, shuffle, seed, format)
    if labels is None or label_mode is None:
        labels = label_mode = None
    if seed is None:
        seed = np.random.randint(1e6)
    file_paths, labels, class_names = index_directory(caller, directory, labels, formats, class_names, shuffle,
                                                      seed, follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError("%s: When passing `label_mode=\"binary\"`, there must be exactly 2 class_names. "
                         "Received: class_names=%s" % (caller, class_names))
    datasets = []
    for name in ("training", "validation") if subset == "both" else (subset,):
        paths, part = get_training_or_validation_split(file_paths, labels, validation_split, name)
        if not paths:
            raise ValueError("%s: No %s%s found in directory %s. Allowed formats: %s"
                             % (caller, name + " " if subset == "both" else "", what, directory, formats))
        datasets.append(DirectoryDataset(paths, part, label_mode, class_names, load, batch_size,
                                         shuffle and not (subset == "both" and name == "validation"), seed,
                                         collate))
    return datasets if subset == "both" else datasets[0]
