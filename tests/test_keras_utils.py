"""keras.utils.PyDataset (and its alias Sequence): the class itself against Keras's, and model.fit,
evaluate and predict reading subclasses of it."""
import numpy as np
import pytest

import mlcore
from mlcore import layers, utils

pytestmark = pytest.mark.usefixtures("numpy_backend")


def _dataset_class(base):
    """The same user code on top of Keras's or mlcore's PyDataset: a linearly separable problem,
    in batches, reshuffled between epochs, counting the epoch hooks."""
    class Blobs(base):
        def __init__(self, n=256, batch_size=32, seed=0, **kwargs):
            super().__init__(**kwargs)
            rng = np.random.default_rng(seed)
            self.x = rng.normal(size=(n, 4)).astype("float32")
            self.y = (self.x @ np.array([1.5, -2.0, 0.5, 1.0]) > 0).astype("float32")[:, None]
            self.batch_size = batch_size
            self.begun = self.ended = 0

        def __len__(self):
            return -(-len(self.x) // self.batch_size)

        def __getitem__(self, index):
            rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
            return self.x[rows], self.y[rows]

        def on_epoch_begin(self):
            self.begun += 1

        def on_epoch_end(self):
            self.ended += 1
            order = np.random.default_rng(self.ended).permutation(len(self.x))
            self.x, self.y = self.x[order], self.y[order]
    return Blobs


def _classifier():
    """Logistic regression from zero weights, so every run starts at the same loss (ln 2): from a
    random start that happened to be good, the first epoch's loss was already low and did not halve."""
    model = mlcore.Sequential([layers.Input((4,)), layers.Dense(1, activation="sigmoid", kernel_initializer="zeros")])
    model.compile(optimizer=mlcore.optimizers.SGD(0.5), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def test_sequence_is_pydataset_and_keeps_kerass_loading_settings():
    assert utils.Sequence is utils.PyDataset
    data = _dataset_class(utils.PyDataset)(workers=4, use_multiprocessing=True, max_queue_size=3)
    assert (data.workers, data.use_multiprocessing, data.max_queue_size) == (4, True, 3)

    class NoSuper(utils.PyDataset):
        def __init__(self):
            pass
    assert (NoSuper().workers, NoSuper().use_multiprocessing, NoSuper().max_queue_size) == (1, False, 10)
    with pytest.raises(NotImplementedError):
        NoSuper()[0]
    with pytest.raises(NotImplementedError, match="num_batches"):
        NoSuper().num_batches


def test_num_batches_and_iteration_match_keras():
    keras = pytest.importorskip("keras")
    ours, theirs = (_dataset_class(base)(n=100, batch_size=32) for base in (utils.PyDataset, keras.utils.PyDataset))
    assert ours.num_batches == theirs.num_batches == 4
    for (xo, yo), (xt, yt) in zip(list(ours), list(theirs), strict=True):
        np.testing.assert_array_equal(xo, xt)
        np.testing.assert_array_equal(yo, yt)


def test_fit_on_a_pydataset_learns_and_runs_the_epoch_hooks():
    data = _dataset_class(utils.PyDataset)()
    model = _classifier()
    history = model.fit(data, epochs=8, verbose=0)
    assert data.begun == data.ended == 8
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9
    loss, accuracy = model.evaluate(data, verbose=0)
    assert accuracy > 0.9
    x_in_batch_order = data.x       # predict's on_epoch_end reshuffles it afterwards
    probabilities = model.predict(data, verbose=0)
    assert probabilities.shape == (256, 1)
    np.testing.assert_allclose(probabilities, model.predict(x_in_batch_order, verbose=0), rtol=1e-6)


def test_a_pydataset_with_num_batches_instead_of_len():
    blobs = _dataset_class(utils.PyDataset)(n=64, batch_size=16)

    class Counted(utils.PyDataset):
        num_batches = 4

        def __getitem__(self, index):
            return blobs[index]
    model = _classifier()
    history = model.fit(Counted(), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(Counted(), verbose=0).shape == (64, 1)


def test_an_endless_pydataset_needs_steps():
    blobs = _dataset_class(utils.PyDataset)(n=64, batch_size=16)

    class Endless(utils.PyDataset):
        num_batches = None
        reads = []

        def __getitem__(self, index):
            self.reads.append(index)
            return blobs[index % 4]
    model = _classifier()
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(Endless(), epochs=1, verbose=0)
    model.fit(Endless(), epochs=2, steps_per_epoch=6, verbose=0)
    assert Endless.reads == list(range(6)) * 2
    assert model.evaluate(Endless(), steps=3, verbose=0) is not None
