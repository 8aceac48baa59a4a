"""keras.utils.PyDataset (keras.utils.Sequence is the same class): batches computed by Python
code, which model.fit, evaluate and predict read by index, one epoch after another."""
import itertools


class PyDataset:
    """Subclass it and define __getitem__(index) -> a whole batch ((x, y), (x, y, sample_weight)
    or x) and __len__() -> the number of batches (or the num_batches property; None there means
    endless, and fit then needs steps_per_epoch).  on_epoch_begin/on_epoch_end run around each
    epoch, e.g. to reshuffle.

    workers, use_multiprocessing and max_queue_size are Keras's parallel-loading settings; they
    are kept on the object, and mlcore reads the batches in the training loop itself, one by one.
    """

    # the settings of a subclass whose __init__ does not call super().__init__()
    workers, use_multiprocessing, max_queue_size = 1, False, 10

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        """The batch at position index."""
        raise NotImplementedError("%s must define __getitem__(index), returning a batch" % type(self).__name__)

    @property
    def num_batches(self):
        """The number of batches: len(self) when the subclass defines __len__ (None: endless)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def __iter__(self):
        """The batches in order: num_batches of them, or without end when that is None or undefined."""
        try:
            count = self.num_batches
        except NotImplementedError:
            count = None
        for index in range(count) if count is not None else itertools.count():
            yield self[index]

    def on_epoch_begin(self):
        """Called before each epoch."""

    def on_epoch_end(self):
        """Called after each epoch."""


Sequence = PyDataset
