"""keras.utils.timeseries_dataset_from_array: sliding windows over a timeseries, in batches that
fit, evaluate and predict read directly (a PyDataset of numpy arrays instead of Keras's tf.data)."""
import numpy as np

from mlcore.utils.dataset_ops import DatasetOps
from mlcore.utils.dataset_utils import check_format
from mlcore.utils.py_dataset import PyDataset


class TimeseriesDataset(DatasetOps, PyDataset):
    """Batch k: the windows data[start + i * sampling_rate], i < sequence_length, for the k-th
    batch_size start positions, with targets[start] beside them when there are targets. With
    batch_size None, item k is the k-th window alone. It has tf.data's methods (DatasetOps)."""

    def __init__(self, data, targets, starts, sequence_length, sampling_rate, batch_size):
        super().__init__()
        self.data, self.targets, self.starts = data, targets, starts
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size = batch_size

    def __len__(self):
        return len(self.starts) if self.batch_size is None else -(-len(self.starts) // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError("timeseries dataset: no batch %d among %d" % (index, len(self)))
        size = self.batch_size
        starts = self.starts[index] if size is None else self.starts[index * size:(index + 1) * size]
        windows = self.data[np.add.outer(starts, self.offsets)]
        return windows if self.targets is None else (windows, self.targets[starts])


def _check(name, value, length, zero_allowed=False):
    """Keras's bounds on an index or a step: positive (or 0) and below the length of the data."""
    if value < 0 or (value == 0 and not zero_allowed):
        raise ValueError("timeseries_dataset_from_array: `%s` must be %s. Received: %s=%s"
                         % (name, "0 or greater" if zero_allowed else "higher than 0", name, value))
    if value >= length:
        raise ValueError("timeseries_dataset_from_array: `%s` must be lower than the length of the data. "
                         "Received: %s=%s, for data of length %d" % (name, name, value, length))


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
                                  batch_size=128, shuffle=False, seed=None, start_index=None, end_index=None,
                                  format="tf"):
    """Windows of `sequence_length` steps, `sampling_rate` apart, starting every `sequence_stride`
    steps within data[start_index:end_index] (axis 0 is time); targets[i] goes with the window
    that starts at step i. Shuffling reorders the windows with np.random.RandomState(seed), as
    Keras draws them. format "tf" or "grain" gives the same dataset (utils.dataset_utils.check_format)."""
    check_format("timeseries_dataset_from_array", format)
    data = np.asarray(data)
    length = len(data)
    if start_index:
        _check("start_index", start_index, length, zero_allowed=True)
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError("timeseries_dataset_from_array: `end_index` must be higher than `start_index`. "
                             "Received: start_index=%s, and end_index=%s" % (start_index, end_index))
        _check("end_index", end_index, length)
    _check("sampling_rate", sampling_rate, length)
    _check("sequence_stride", sequence_stride, length)
    start_index, end_index = start_index or 0, end_index or length
    count = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)[start_index:]
        count = min(count, len(targets))
    starts = np.arange(0, max(count, 0), sequence_stride)
    if shuffle:
        np.random.RandomState(np.random.randint(1e6) if seed is None else seed).shuffle(starts)
    return TimeseriesDataset(data[start_index:end_index], targets, starts, sequence_length, sampling_rate,
                             batch_size)
