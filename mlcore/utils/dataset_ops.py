"""tf.data.Dataset's methods on mlcore's datasets, the ones Keras's guides chain on what
image/text/audio_dataset_from_directory and timeseries_dataset_from_array return:
`ds.map(f).cache().shuffle(1000).batch(32).prefetch(AUTOTUNE)`, take, skip, repeat, unbatch, filter...

Each method returns a lazy `Dataset`: a recipe that makes a fresh iterator of elements (numpy arrays, or
tuples / dicts of them) each time it is iterated, so one object gives epoch after epoch, with tf.data's
semantics (an element of a batched dataset is a batch). fit, evaluate and predict read it as Keras reads a
tf.data.Dataset (mlcore.models.data_adapters.DatasetData)."""
import itertools
import pickle

import numpy as np

from mlcore import tree

AUTOTUNE = -1                   # tf.data.AUTOTUNE: the runtime picks parallelism; mlcore reads elements in turn
INFINITE_CARDINALITY = -1       # tf.data.INFINITE_CARDINALITY
UNKNOWN_CARDINALITY = -2        # tf.data.UNKNOWN_CARDINALITY


def _call(func, element):
    """func on an element as tf.data calls it: a tuple's parts as separate arguments, anything else whole."""
    return func(*element) if isinstance(element, tuple) else func(element)


def _padded_shape(shapes, padded_shape):
    """The shape a batch's leaf is padded to: padded_shape's sizes, its None (or -1) entries the longest."""
    longest = tuple(int(size) for size in np.max(shapes, axis=0))
    if padded_shape is None:
        return longest
    if len(padded_shape) != len(longest):
        raise ValueError("padded_batch: padded_shapes=%s does not have the rank of elements of shape %s"
                         % (padded_shape, longest))
    padded_shape = tuple(old if size in (None, -1) else size for old, size in zip(longest, padded_shape))
    if any(old > size for old, size in zip(longest, padded_shape)):
        raise ValueError("padded_batch: elements of shape up to %s do not fit padded_shapes=%s"
                         % (longest, padded_shape))
    return padded_shape


def stack_padded(leaves, padded_shape=None, padding_value=None):
    """Arrays of one rank stacked into a batch, each padded at its end to padded_shape (default: the longest
    size of each axis) with padding_value (default 0, "" for strings), as tf.data's padded_batch."""
    leaves = [np.asarray(leaf) for leaf in leaves]
    if len({leaf.ndim for leaf in leaves}) != 1:
        raise ValueError("padded_batch: the elements' ranks differ: %s" % [leaf.shape for leaf in leaves])
    shape = _padded_shape([leaf.shape for leaf in leaves], padded_shape)
    dtype = np.result_type(*leaves)
    if padding_value is None:
        padding_value = "" if dtype.kind in "US" else 0
    batch = np.full((len(leaves),) + shape, padding_value, dtype=dtype)
    for k, leaf in enumerate(leaves):
        batch[(k,) + tuple(slice(0, size) for size in leaf.shape)] = leaf
    return batch


def _stacked(elements):
    """Elements of one structure as one element of batches (np.stack at each leaf)."""
    try:
        return tree.map_structure(lambda *leaves: np.stack(leaves), *elements)
    except ValueError as e:
        raise ValueError("batch: the elements of a batch must have the same structure and shapes (padded_batch "
                         "pads them to one shape): %s" % e) from None


def _batches(source, batch_size, drop_remainder, collate):
    elements = []
    for element in source:
        elements.append(element)
        if len(elements) == batch_size:
            yield collate(elements)
            elements = []
    if elements and not drop_remainder:
        yield collate(elements)


def _unbatched(source):
    for element in source:
        leaves = [np.asarray(leaf) for leaf in tree.flatten(element)]
        sizes = {leaf.shape[0] if leaf.ndim else None for leaf in leaves}
        if len(sizes) != 1 or None in sizes:
            raise ValueError("unbatch: every part of an element needs the same first dimension (the batch); got "
                             "shapes %s" % [leaf.shape for leaf in leaves])
        for i in range(sizes.pop()):
            yield tree.pack_sequence_as(element, [leaf[i] for leaf in leaves])


def _shuffled(source, buffer_size, rng):
    """tf.data's shuffle: each element comes out of a buffer of the next buffer_size elements, at random."""
    buffer = []

    def draw():
        index = rng.integers(len(buffer))
        buffer[index], buffer[-1] = buffer[-1], buffer[index]
        return buffer.pop()
    for element in source:
        buffer.append(element)
        if len(buffer) == buffer_size:
            yield draw()
    while buffer:
        yield draw()


def _repeated(make_iterator, passes):
    """The elements of make_iterator() pass after pass; an endless repeat of nothing ends, as in tf.data."""
    for _ in passes:
        empty = True
        for element in make_iterator():
            empty = False
            yield element
        if empty:
            return


def _batched_count(count, batch_size, drop_remainder):
    if count < 0:
        return count
    return count // batch_size if drop_remainder else -(-count // batch_size)


def _positive(caller, name, value):
    if not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError("%s: `%s` must be a positive integer. Received: %s=%r" % (caller, name, name, value))


class EagerArray(np.ndarray):
    """A numpy array with the `.numpy()` of tf.data's eager tensors, as iterating a dataset gives it:
    keras-io's examples read their batches so (`images[i].numpy().astype("uint8")`). A view, printed as a
    plain array; np.asarray (what fit reads batches with) gives the plain array back."""

    def numpy(self):
        return np.asarray(self)

    def __repr__(self):
        return repr(np.asarray(self))


def eager_element(element):
    """An element with each numpy array in it as an EagerArray."""
    return tree.map_structure(lambda a: a.view(EagerArray) if isinstance(a, np.ndarray) else a, element)


class DatasetOps:
    """tf.data.Dataset's methods for a class whose iteration gives its elements and whose cardinality() says
    how many there are (a PyDataset's batches: num_batches, None meaning endless)."""

    def cardinality(self):
        """The number of elements; INFINITE_CARDINALITY (-1) or UNKNOWN_CARDINALITY (-2) when not finite/known."""
        count = self.num_batches
        return INFINITE_CARDINALITY if count is None else int(count)

    def _elements(self):
        """A fresh iterator of the elements; a full pass ends an epoch (a shuffled dataset reshuffles)."""
        yield from super().__iter__()
        self.on_epoch_end()

    def __iter__(self):
        """The elements as tf.data's eager iteration gives them (arrays with `.numpy()`)."""
        return map(eager_element, self._elements())

    def as_numpy_iterator(self):
        """The elements with every part a numpy array."""
        return (tree.map_structure(np.asarray, element) for element in self._elements())

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """map_func applied to each element when it is read (a tuple's parts as separate arguments); a list
        it returns becomes a tuple, as in tf.data. num_parallel_calls and deterministic are accepted: mlcore
        maps in order, one element at a time."""
        def mapped(element):
            result = _call(map_func, element)
            return tuple(result) if isinstance(result, list) else result
        return Dataset(lambda: map(mapped, self._elements()), self.cardinality())

    def filter(self, predicate, name=None):
        """The elements for which predicate (called as map calls its function) is true."""
        return Dataset(lambda: (e for e in self._elements() if bool(np.asarray(_call(predicate, e)))),
                          UNKNOWN_CARDINALITY)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        """Runs of batch_size elements stacked into one (a shorter last one unless drop_remainder)."""
        _positive("batch", "batch_size", batch_size)
        return Dataset(lambda: _batches(self._elements(), batch_size, drop_remainder, _stacked),
                          _batched_count(self.cardinality(), batch_size, drop_remainder))

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None):
        """batch() of elements whose shapes differ: each part padded at its end (padding_values, default 0
        or "") to padded_shapes (default, or where a size is None: the longest in the batch)."""
        _positive("padded_batch", "batch_size", batch_size)

        def collate(elements):
            defaults = tree.map_structure(lambda _: None, elements[0])
            shapes = defaults if padded_shapes is None else padded_shapes
            values = defaults if padding_values is None else padding_values
            return tree.map_structure_up_to(elements[0], lambda shape, value, *leaves: stack_padded(
                leaves, shape, value), shapes, values, *elements)
        return Dataset(lambda: _batches(self._elements(), batch_size, drop_remainder, collate),
                          _batched_count(self.cardinality(), batch_size, drop_remainder))

    def unbatch(self):
        """Each element split along its first axis into that many elements."""
        count = self.cardinality()
        return Dataset(lambda: _unbatched(self._elements()),
                          INFINITE_CARDINALITY if count == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """Elements in random order, each drawn from a buffer of the next buffer_size ones (buffer_size at
        least the dataset's size: a uniform shuffle). Seeded, the orders repeat from run to run; each
        iteration draws a new order unless reshuffle_each_iteration is False."""
        _positive("shuffle", "buffer_size", buffer_size)
        seed = np.random.randint(2 ** 31) if seed is None else seed
        rng = np.random.default_rng(seed)
        generator = (lambda: rng) if reshuffle_each_iteration in (None, True) else (
            lambda: np.random.default_rng(seed))
        return Dataset(lambda: _shuffled(self._elements(), buffer_size, generator()), self.cardinality())

    def repeat(self, count=None):
        """The elements count times over; count None or -1: without end."""
        count = -1 if count is None else count
        cardinality = self.cardinality()
        if cardinality == 0 or count == 0:
            total = 0
        elif count < 0 or cardinality == INFINITE_CARDINALITY:
            total = INFINITE_CARDINALITY
        else:
            total = UNKNOWN_CARDINALITY if cardinality == UNKNOWN_CARDINALITY else cardinality * count
        return Dataset(lambda: _repeated(self._elements, itertools.count() if count < 0 else range(count)),
                          total)

    def take(self, count):
        """The first count elements (count -1: all of them)."""
        cardinality = self.cardinality()
        if count < 0:
            return Dataset(self._elements, cardinality)
        total = count if cardinality == INFINITE_CARDINALITY else (
            UNKNOWN_CARDINALITY if cardinality == UNKNOWN_CARDINALITY else min(count, cardinality))
        return Dataset(lambda: itertools.islice(self._elements(), count), total)

    def skip(self, count):
        """All but the first count elements (count -1: none)."""
        cardinality = self.cardinality()
        if count < 0:
            return Dataset(lambda: iter(()), 0)
        return Dataset(lambda: itertools.islice(self._elements(), count, None),
                          cardinality if cardinality < 0 else max(cardinality - count, 0))

    def enumerate(self, start=0, name=None):
        """(index, element) pairs, indices counting from start."""
        return Dataset(lambda: enumerate(self._elements(), start), self.cardinality())

    def concatenate(self, dataset, name=None):
        """This dataset's elements, then dataset's."""
        counts = (self.cardinality(), dataset.cardinality())
        total = (INFINITE_CARDINALITY if INFINITE_CARDINALITY in counts else
                 UNKNOWN_CARDINALITY if UNKNOWN_CARDINALITY in counts else sum(counts))
        return Dataset(lambda: itertools.chain(self._elements(), dataset._elements()), total)

    def cache(self, filename="", name=None):
        """The elements kept after the first full pass, which later passes replay instead of reading (and
        mapping) them again: in memory, or pickled to `filename` and read back from there when it exists."""
        kept = []

        def load():
            if not kept and filename:
                try:
                    with open(filename, "rb") as f:
                        kept.append(pickle.load(f))
                except FileNotFoundError:
                    pass
            return kept[0] if kept else None

        def recorded():
            elements = []
            for element in self._elements():
                elements.append(element)
                yield element
            kept.append(elements)
            if filename:
                with open(filename, "wb") as f:
                    pickle.dump(elements, f)
        def replay_or_record():
            elements = load()
            return recorded() if elements is None else iter(elements)
        return Dataset(replay_or_record, self.cardinality())

    def prefetch(self, buffer_size, name=None):
        """The same elements: tf.data reads buffer_size ahead on other threads; mlcore reads each when asked."""
        return Dataset(self._elements, self.cardinality())

    def apply(self, transformation_func):
        """transformation_func(self): a chain of transformations packaged as one function."""
        return transformation_func(self)


class Dataset(DatasetOps):
    """A dataset made by a transformation: make_iterator() gives a fresh iterator of its elements."""

    def __init__(self, make_iterator, cardinality):
        self._make_iterator, self._cardinality = make_iterator, cardinality

    def _elements(self):
        return iter(self._make_iterator())

    def cardinality(self):
        return self._cardinality

    def __len__(self):
        """The number of elements, a TypeError when it is infinite or unknown, as tf.data's len()."""
        if self._cardinality == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if self._cardinality == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return self._cardinality

    def __bool__(self):
        return True             # as tf.data: a dataset is true even when len() is 0 or unknown

    def __repr__(self):
        return "<Dataset cardinality=%d>" % self._cardinality
