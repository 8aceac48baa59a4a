"""Turning what users pass to fit/evaluate/predict into batches.

Arrays (one, a list or a dict), Keras Sequence-like objects (len() and
indexing, e.g. flow_from_directory's iterator), tf.data-style datasets
(mlcore.utils.dataset_ops) and plain generators all become an iterable of
(x_list, y_list, sample_weight_list) batches.
"""
import itertools

import numpy as np

from mlcore.graph.ops.common import is_float_dtype
from mlcore.utils.dataset_ops import INFINITE_CARDINALITY, Dataset, DatasetOps


def to_list(value):
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def as_arrays(values, what, allow_none=False):
    """Numeric numpy arrays, or a clear error naming what was given; with allow_none, a None (the
    inputs' for an optional Input, as Keras takes it) stays None."""
    arrays = []
    for v in values:
        if v is None and allow_none:
            arrays.append(None)
            continue
        a = np.asarray(v)
        if a.dtype.kind not in "biuf" and not is_float_dtype(a.dtype):   # ml_dtypes' bfloat16, float8: kind V
            raise TypeError("%s must be numeric arrays; got an array of dtype %s (%r...). Encode labels "
                            "with sklearn's LabelEncoder or convert with np.asarray(x, dtype='float32')"
                            % (what, a.dtype, a.ravel()[:3].tolist()))
        arrays.append(a)
    return arrays


def num_rows(arrays):
    """The number of samples in a list of arrays: its first array's (None, given for an optional
    input, has none); 0 for no arrays."""
    return next((len(a) for a in arrays if a is not None), 0)


def unpack(batch):
    """(x, y, sample_weight) from a generator item: x, (x,), (x, y) or (x, y, sw)."""
    if isinstance(batch, tuple):
        if len(batch) == 1:
            return batch[0], None, None
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch
        raise ValueError("A data generator must yield (x,), (x, y) or (x, y, sample_weight); got a "
                         "tuple of %d items" % len(batch))
    return batch, None, None


def unpack_x_y_sample_weight(data):
    """keras.utils.unpack_x_y_sample_weight: (x, y, sample_weight) from x, (x,), (x, y) or
    (x, y, sw); unlike a generator's batch, a list here is such a tuple, as in Keras."""
    return unpack(tuple(data) if isinstance(data, list) else data)


def one_or_list(values):
    """One value as it is, several as a list, none as None: x, y and y_pred as Keras passes them."""
    return None if not values else values[0] if len(values) == 1 else list(values)


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """keras.utils.pack_x_y_sample_weight: the batch fit reads, x alone (a list or tuple x as (x,))."""
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def class_weights_to_sample_weights(y, class_weight):
    """Keras's rule: the weight of each sample is that of its class (argmax of one-hot labels)."""
    y = np.asarray(y)
    labels = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    labels = np.round(labels).astype("int64")
    missing = set(np.unique(labels)) - set(class_weight)
    if missing:
        raise ValueError("class_weight has no entry for class(es) %s" % sorted(missing))
    return np.array([class_weight[c] for c in labels], dtype="float32")


class ArrayData:
    """In-memory arrays cut into batches, shuffled each epoch if asked."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, steps=None,
                 class_weight=None):
        self.x = as_arrays(to_list(x), "Input data x", allow_none=True)
        self.y = as_arrays(to_list(y), "Target data y")
        n = num_rows(self.x)
        for name, arrays in (("x", self.x), ("y", self.y)):
            for a in arrays:
                if a is not None and len(a) != n:
                    raise ValueError("Data cardinality is ambiguous: x has %d samples but %s has %d. Make sure "
                                     "all arrays contain the same number of samples." % (n, name, len(a)))
        sw = to_list(sample_weight)
        if class_weight is not None:
            if not self.y:
                raise ValueError("class_weight needs targets y")
            sw = [class_weights_to_sample_weights(self.y[0], class_weight) * (sw[0] if sw else 1.0)]
        self.sample_weight = [np.asarray(s, dtype="float32") for s in sw]
        for s in self.sample_weight:
            if len(s) != n:
                raise ValueError("sample_weight has %d entries for %d samples" % (len(s), n))
        self.n = n
        self.batch_size = int(batch_size or 32)
        self.shuffle = shuffle
        self.steps = steps if steps is not None else -(-n // self.batch_size)

    def epoch_indices(self):
        order = np.random.permutation(self.n) if self.shuffle and self.shuffle != "batch" else np.arange(self.n)
        return order

    def batches(self):
        order = self.epoch_indices()
        for k in range(self.steps):
            idx = order[(k * self.batch_size) % self.n:][:self.batch_size]
            yield self.take(idx)

    def groups(self, k, pad=False):
        """(count, batch, padding) triples for steps_per_execution=k: each run of up to k full
        batches as one gather of count * batch_size rows (stacked later by a reshape, not a copy
        per batch), then the smaller last batch alone; with pad, that batch joins a last run
        shorter than k, filled up with `padding` copies of its rows.  None where steps_per_epoch
        makes batches wrap around."""
        full, rest = divmod(self.n, self.batch_size)
        if self.steps != full + bool(rest):
            return None
        order, size = self.epoch_indices(), self.batch_size
        runs = [(order[start * size:(start + count) * size], count, 0)
                for start, count in ((start, min(k, full - start)) for start in range(0, full, k))]
        if rest:
            short = order[full * size:]
            if pad and runs and runs[-1][1] < k:
                idx, count, _ = runs.pop()
                runs.append((np.concatenate([idx, np.resize(short, size)]), count + 1, size - rest))
            else:
                runs.append((short, 1, 0))
        return ((count, self.take(idx), padding) for idx, count, padding in runs)

    def take(self, idx):
        contiguous = len(idx) and idx[-1] - idx[0] == len(idx) - 1 and np.all(np.diff(idx) == 1)
        pick = (lambda a: a[idx[0]:idx[-1] + 1]) if contiguous else (lambda a: a[idx])
        return ([None if a is None else pick(a) for a in self.x], [pick(a) for a in self.y],
                [pick(a) for a in self.sample_weight])

    def split(self, fraction):
        """(train, validation) with the last `fraction` of samples held out, as Keras does (before shuffling)."""
        cut = int(self.n * (1.0 - fraction))
        if cut == 0 or cut == self.n:
            raise ValueError("validation_split=%s leaves an empty training or validation set for %d samples"
                             % (fraction, self.n))
        head, tail = np.arange(cut), np.arange(cut, self.n)
        return self._subset(head), self._subset(tail)

    def _subset(self, idx):
        x, y, sw = self.take(idx)
        return ArrayData(x, y or None, sw or None, self.batch_size, self.shuffle)


def as_batch(item, class_weight=None, arrange=None):
    """(x_list, y_list, sw_list) of one batch as a dataset gives it; class_weight gives its sample weights;
    arrange(x, y) puts dicts of inputs and targets in the model's order (the trainer's)."""
    x, y, sw = unpack(item)
    if arrange is not None:
        x, y = arrange(x, y)
    y, sw = as_arrays(to_list(y), "y"), to_list(sw)
    if class_weight is not None:
        if sw or not y:
            raise ValueError("class_weight needs batches of (x, y) without sample weights")
        sw = [class_weights_to_sample_weights(y[0], class_weight)]
    return as_arrays(to_list(x), "x", allow_none=True), y, sw


def num_batches(sequence):
    """A PyDataset's num_batches (None: endless), else len() of a Sequence-like object."""
    return sequence.num_batches if hasattr(sequence, "num_batches") else len(sequence)


class BatchData:
    """Data that comes in batches (a Sequence, a generator, a dataset): each batch's dicts are put in the
    model's order by `arrange`, which the trainer sets, as it puts arrays given as dicts in that order."""
    arrange = None

    def as_batch(self, item, class_weight=None):
        return as_batch(item, class_weight, self.arrange)


class SequenceData(BatchData):
    """A Keras PyDataset or Sequence-like object: num_batches (or len()) batches, batch i = obj[i];
    on_epoch_begin() and on_epoch_end() around each epoch.  As Keras 3 reads a PyDataset: with
    shuffle, the batches come in a new random order each epoch; class_weight gives each batch its
    sample weights; an endless one (num_batches None) needs steps."""

    def __init__(self, sequence, steps=None, shuffle=False, class_weight=None):
        self.sequence = sequence
        self.size = num_batches(sequence)
        if self.size is None and steps is None:
            raise ValueError("%s has no end (num_batches is None): pass steps_per_epoch (fit) or steps "
                             "(evaluate, predict)" % type(sequence).__name__)
        self.steps = steps if steps is not None else self.size
        self.shuffle = shuffle and shuffle != "batch"
        self.class_weight = class_weight

    def batches(self):
        if hasattr(self.sequence, "on_epoch_begin"):
            self.sequence.on_epoch_begin()
        n = self.size
        order = np.random.permutation(n) if self.shuffle and n else np.arange(n or 0)
        for k in range(self.steps):
            index = int(order[k % n]) if n else k      # an endless dataset: batch after batch
            yield self.as_batch(self.sequence[index], self.class_weight)
        if hasattr(self.sequence, "on_epoch_end"):
            self.sequence.on_epoch_end()

    def first_x(self):
        """The inputs of batch 0 (a model without input shapes is built from them)."""
        return self.as_batch(self.sequence[0])[0]


class GeneratorData(BatchData):
    """A Python generator or iterator; steps per epoch given, or until it is exhausted."""

    def __init__(self, generator, steps=None):
        self.iterator = iter(generator)
        self.steps = steps
        self.peeked = []    # the first item, read by first_x() and still to be trained on

    def batches(self):
        k = 0
        while self.steps is None or k < self.steps:
            try:
                item = self.peeked.pop() if self.peeked else next(self.iterator)
            except StopIteration:
                return
            yield self.as_batch(item)
            k += 1

    def first_x(self):
        """The inputs of the first batch, which stays to be read (a model without input shapes is built
        from them, as Keras peeks at a generator's first batch)."""
        if not self.peeked:
            try:
                self.peeked.append(next(self.iterator))
            except StopIteration:
                raise ValueError("The generator gave no batch: a model without input shapes cannot be "
                                 "built from it") from None
        return self.as_batch(self.peeked[0])[0]


class DatasetData(BatchData):
    """A tf.data-style Dataset (mlcore.utils.dataset_ops), read as Keras reads a tf.data.Dataset: without
    steps, each epoch iterates it afresh to its end (an endless one needs steps); with steps, one iterator
    runs on from epoch to epoch, starting over once it has given all of the dataset's elements."""

    def __init__(self, dataset, steps=None, class_weight=None):
        cardinality = dataset.cardinality()
        if steps is None and cardinality == INFINITE_CARDINALITY:
            raise ValueError("The dataset is infinite (e.g. .repeat() without a count): pass steps_per_epoch "
                             "(fit) or steps (evaluate, predict)")
        self.dataset, self.class_weight = dataset, class_weight
        self.size = cardinality if cardinality >= 0 else None
        self.steps, self.runs_on = (steps, True) if steps is not None else (self.size, False)
        self.iterator, self.seen = None, 0

    def batches(self):
        if self.iterator is None or not self.runs_on:
            self.iterator, self.seen = iter(self.dataset), 0
        count = 0
        for item in itertools.islice(self.iterator, self.steps if self.runs_on else None):
            count += 1
            yield self.as_batch(item, self.class_weight)
        self.seen += count
        if not self.runs_on or count < self.steps or (self.size is not None and self.seen >= self.size):
            self.iterator = None

    def first_x(self):
        """The inputs of the dataset's first element, read from an iterator of its own."""
        return self.as_batch(next(iter(self.dataset)))[0]


def adapt(x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None, class_weight=None):
    """The right adapter for x; errors name what was expected and what was given."""
    arrays = isinstance(x, (list, tuple, dict)) or hasattr(x, "__array__")     # numpy, jax, pandas...
    indexed = hasattr(x, "__getitem__") and (hasattr(x, "__len__") or hasattr(x, "num_batches"))
    if indexed and not arrays:
        if y is not None:
            raise ValueError("y must not be given when x is a Sequence or iterator yielding (x, y) batches")
        # a dataset of the tf.data kind (timeseries_dataset_from_array's) is read in order: Keras ignores
        # fit's shuffle for a tf.data.Dataset
        return SequenceData(x, steps, shuffle and not isinstance(x, DatasetOps), class_weight)
    if isinstance(x, Dataset):
        if y is not None:
            raise ValueError("y must not be given when x is a dataset yielding (x, y) batches")
        return DatasetData(x, steps, class_weight)
    if hasattr(x, "__next__") or (hasattr(x, "__iter__") and not arrays):
        if y is not None:
            raise ValueError("y must not be given when x is a generator yielding (x, y) batches")
        if class_weight is not None:
            raise ValueError("class_weight is not supported for Python generator inputs (as in Keras): "
                             "give a Sequence, or sample weights in the generator's batches")
        return GeneratorData(x, steps)
    if x is None:
        raise ValueError("No input data given: pass x (arrays, a Sequence or a generator)")
    return ArrayData(x, y, sample_weight, batch_size, shuffle, steps, class_weight)
