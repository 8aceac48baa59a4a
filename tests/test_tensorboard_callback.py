"""keras.callbacks.TensorBoard (mlcore.callbacks.TensorBoard): event files written without TensorFlow,
read back with the tensorboard package (its EventAccumulator, and its record reader, which checks both
CRCs of every record).

Keras 3's own callback cannot write without TensorFlow, so here it runs with a stand-in for
tensorflow.summary that records each summary Keras asks for, under TensorFlow's rules (a summary is
written only under a default writer, and while the innermost record_if holds).  On the same training,
both callbacks must write the same tags at the same steps with the same values.
"""
import contextlib
import glob
import io
import json
import math
import os
import re
import socket
import sys

import numpy as np
import pytest
from PIL import Image
from google.protobuf import text_format
from tensorboard.backend.event_processing import event_accumulator, plugin_event_multiplexer
from tensorboard.compat.proto import summary_pb2
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.tensorflow_stub import errors, pywrap_tensorflow
from tensorboard.plugins import projector
from tensorboard.plugins.graph import keras_util

import mlcore as mk
from mlcore import config
from mlcore.callbacks import TensorBoard
from mlcore.utils import summary_values
from mlcore.utils.event_writer import EventFileWriter, crc32c, masked_crc32c

RNG = np.random.default_rng(5)
DATA = RNG.normal(size=(16, 3)).astype("float32")
TARGETS = DATA @ np.array([[1.0], [-2.0], [0.5]], "float32")
DENSE_WEIGHTS = [RNG.normal(size=shape).astype("float32") for shape in [(3, 2), (2,), (2, 1), (1,)]]
IMAGES = RNG.normal(size=(8, 5, 5, 1)).astype("float32")
IMAGE_TARGETS = IMAGES.reshape(8, -1).mean(axis=1, keepdims=True)


# --- Keras's callback with a recording tensorflow.summary ------------------------------------------
class RecordingSummary:
    """What Keras's TensorBoard uses of tensorflow.summary; `records[run][(kind, tag)]` collects
    (step, data) for each summary that TensorFlow would have written."""

    def __init__(self):
        self.records = {}
        self._default_runs = []
        self._conditions = []

    def create_file_writer(self, logdir):
        os.makedirs(logdir, exist_ok=True)        # as TensorFlow's writer does
        return _RecordingWriter(self, os.path.basename(logdir))

    @contextlib.contextmanager
    def record_if(self, condition):
        self._conditions.append(condition)
        try:
            yield
        finally:
            self._conditions.pop()

    def _record(self, kind, name, data, step):
        if not self._default_runs or (self._conditions and not self._conditions[-1]()):
            return False
        run = self.records.setdefault(self._default_runs[-1], {})
        run.setdefault((kind, name), []).append((int(np.asarray(step)), np.asarray(data)))
        return True

    def scalar(self, name, data, step=None):
        return self._record("scalar", name, data, step)

    def histogram(self, name, data, step=None):
        return self._record("histogram", name, data, step)

    def image(self, name, data, step=None):
        return self._record("image", name, data, step)


class _RecordingWriter:
    def __init__(self, summary, run):
        self.summary, self.run = summary, run

    @contextlib.contextmanager
    def as_default(self, step=None):
        self.summary._default_runs.append(self.run)
        try:
            yield
        finally:
            self.summary._default_runs.pop()

    def flush(self):
        pass

    def close(self):
        pass


def keras_tensorboard(keras, log_dir, **kwargs):
    callback = keras.callbacks.TensorBoard(log_dir, write_graph=False, **kwargs)
    callback._summary_module = RecordingSummary()
    return callback, callback._summary_module.records


# --- reading our files back ---------------------------------------------------------------------------
def raw_events(path):
    """Every Event of a file, through TensorBoard's record reader, which raises on a bad CRC."""
    reader = pywrap_tensorflow.PyRecordReader_New(path)
    events = []
    while True:
        try:
            reader.GetNext()
        except errors.OutOfRangeError:
            return events
        events.append(Event.FromString(reader.record()))


def event_files(log_dir, run):
    """A run's event files, oldest first (by the writer counter in their names)."""
    paths = glob.glob(os.path.join(log_dir, run, "events.out.tfevents.*"))
    return sorted(paths, key=lambda path: int(path.split(".")[-2]))


def read_run(log_dir, run):
    """{(kind, tag): [(step, value), ...]} over a run's event files, each first read record by record
    (every CRC checked), then by TensorBoard's EventAccumulator."""
    found = {}
    for path in event_files(log_dir, run):
        assert raw_events(path)[0].file_version == "brain.Event:2"
        accumulator = event_accumulator.EventAccumulator(path, size_guidance=dict.fromkeys(
            [event_accumulator.SCALARS, event_accumulator.HISTOGRAMS, event_accumulator.IMAGES,
             event_accumulator.TENSORS], 0), purge_orphaned_data=False)
        accumulator.Reload()
        tags = accumulator.Tags()
        for kind, read, value in [("scalar", accumulator.Scalars, lambda e: e.value),
                                  ("histogram", accumulator.Histograms, lambda e: e.histogram_value),
                                  ("image", accumulator.Images, lambda e: e),
                                  ("tensor", accumulator.Tensors, lambda e: e.tensor_proto)]:
            for tag in tags[kind + "s"]:
                found.setdefault((kind, tag), []).extend((e.step, value(e)) for e in read(tag))
    return found


def steps(records):
    """{(kind, tag): [steps]}: what two runs must agree on, whatever the values."""
    return {key: [step for step, _ in values] for key, values in records.items()}


def keras_as_ours(records):
    """Keras's image summaries under the tags we write them (one Summary.Image per picture, at most 3)."""
    result = {}
    for (kind, tag), values in records.items():
        if kind != "image":
            result[(kind, tag)] = values
            continue
        for step, batch in values:
            for i, picture in enumerate(batch[:3]):
                result.setdefault((kind, tag if len(batch) == 1 else "%s/%d" % (tag, i)), []).append((step, picture))
    return result


# --- models -------------------------------------------------------------------------------------------
def dense_model(lib, optimizer=None):
    """The same small regression net in Keras and mlcore (names fixed, so weight paths agree), by
    default trained by SGD with a decaying learning rate."""
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="hidden"), lib.layers.Dense(1, name="out")],
                           name="net")
    model.set_weights(DENSE_WEIGHTS)
    schedule = lib.optimizers.schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5)
    model.compile(optimizer=optimizer or lib.optimizers.SGD(schedule), loss="mse", metrics=["mae"])
    return model


def conv_model(lib, weights=None):
    """Kernels of every shape Keras pictures: a 3-d one once squeezed (c1), a 4-d one with 3 output
    channels (c2), matrices and vectors."""
    model = lib.Sequential([lib.Input((5, 5, 1)), lib.layers.Conv2D(4, 3, name="c1"),
                            lib.layers.Conv2D(3, 2, name="c2"), lib.layers.Flatten(name="flat"),
                            lib.layers.Dense(1, name="out")], name="convnet")
    if weights is not None:
        model.set_weights(weights)
    model.compile(optimizer=lib.optimizers.SGD(0.01), loss="mse")
    return model


# --- the file format ----------------------------------------------------------------------------------
def test_crc32c_known_vectors():
    """The check value of the CRC-32C catalogue, and RFC 3720's (iSCSI) test vectors."""
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C


def test_masked_crc32c_matches_tensorboards_reader(rng):
    for size in (0, 1, 3, 8, 100, 4097):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert masked_crc32c(data) == pywrap_tensorflow.masked_crc32c(data)


def test_event_file_names_first_event_and_checksums(tmp_path):
    log_dir = str(tmp_path / "missing" / "run")
    first, second = EventFileWriter(log_dir), EventFileWriter(log_dir)
    first.add_summary(summary_values.scalar("x", 1.5), step=3)
    first.close()
    second.close()
    pattern = r"events\.out\.tfevents\.(\d{10})\.%s\.%d\.(\d+)\.v2" % (re.escape(socket.gethostname()), os.getpid())
    names = [re.fullmatch(pattern, os.path.basename(w.path)) for w in (first, second)]
    assert all(names) and int(names[1].group(2)) == int(names[0].group(2)) + 1
    start, scalar = raw_events(first.path)
    assert start.file_version == "brain.Event:2" and start.wall_time == int(names[0].group(1))
    assert scalar.step == 3 and scalar.summary.value[0].tag == "x" and scalar.summary.value[0].simple_value == 1.5

    data = bytearray(open(first.path, "rb").read())
    data[-5] ^= 1          # a bit of the last record's data
    with open(first.path, "wb") as f:
        f.write(data)
    with pytest.raises(errors.DataLossError, match="failed event crc32 check"):
        raw_events(first.path)


def test_histogram_buckets_are_tensorflows(rng):
    values = np.concatenate([rng.normal(size=200) * 10.0 ** rng.integers(-14, 22, 200),
                             [0.0, 0.0, 1e-12, -1e-12, 3.5, 3.5, 1e30]])
    histo = summary_pb2.Summary.Value.FromString(summary_values.histogram("w", values)).histo
    assert (histo.min, histo.max, histo.num) == (values.min(), values.max(), values.size)
    np.testing.assert_allclose([histo.sum, histo.sum_squares], [values.sum(), (values ** 2).sum()], rtol=1e-12)
    limits, counts = np.array(histo.bucket_limit), np.array(histo.bucket)
    lefts = np.concatenate([[-np.inf], limits[:-1]])
    assert counts.sum() == values.size
    for left, right, count in zip(lefts, limits, counts):
        assert count == np.sum((values >= left) & (values < right))
    assert not np.any((counts[1:] == 0) & (counts[:-1] == 0))       # empty runs are merged
    for limit in np.abs(limits[(limits != 0) & (np.abs(limits) < sys.float_info.max)]):
        k = round(math.log(limit / 1e-12, 1.1))                      # 1e-12 * 1.1**k
        assert limit == pytest.approx(1e-12 * 1.1 ** k, rel=1e-12)


# --- fit and evaluate -----------------------------------------------------------------------------------
@pytest.mark.parametrize("update_freq", ["epoch", "batch", 2])
def test_scalars_match_keras_and_history(keras, tmp_path, update_freq):
    """epoch_*, epoch_learning_rate, epoch_steps_per_second (train), the val_ logs and
    evaluation_*_vs_iterations (validation), batch_* every update_freq batches; then evaluate."""
    log_dir = str(tmp_path / "logs")
    keras_callback, keras_records = keras_tensorboard(keras, str(tmp_path / "keras"), update_freq=update_freq,
                                                      write_steps_per_second=True)
    keras_model = dense_model(keras)
    keras_model.fit(DATA, TARGETS, batch_size=4, epochs=2, shuffle=False, verbose=0,
                    validation_data=(DATA, TARGETS), callbacks=[keras_callback])
    keras_model.evaluate(DATA, TARGETS, batch_size=4, verbose=0, callbacks=[keras_callback])

    batch_logs = []
    record_batch = mk.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batch_logs.append(logs))
    callback = TensorBoard(log_dir, write_graph=False, update_freq=update_freq, write_steps_per_second=True)
    model = dense_model(mk)
    history = model.fit(DATA, TARGETS, batch_size=4, epochs=2, shuffle=False, verbose=0,
                        validation_data=(DATA, TARGETS), callbacks=[callback, record_batch])
    evaluated = model.evaluate(DATA, TARGETS, batch_size=4, verbose=0, return_dict=True, callbacks=[callback])

    for run in ("train", "validation"):
        ours, theirs = read_run(log_dir, run), keras_records[run]
        assert steps(ours) == steps(theirs)
        for (kind, tag), values in ours.items():
            if "steps_per_second" not in tag:
                np.testing.assert_allclose([v for _, v in values], [v for _, v in theirs[(kind, tag)]], rtol=1e-5)
    train, validation = read_run(log_dir, "train"), read_run(log_dir, "validation")
    f32, logs = np.float32, history.history
    assert train[("scalar", "epoch_loss")] == [(0, f32(logs["loss"][0])), (1, f32(logs["loss"][1]))]
    assert validation[("scalar", "epoch_mae")] == [(0, f32(logs["val_mae"][0])), (1, f32(logs["val_mae"][1]))]
    assert validation[("scalar", "evaluation_loss_vs_iterations")] == [
        (4, f32(logs["val_loss"][0])), (8, f32(logs["val_loss"][1])), (8, f32(evaluated["loss"]))]
    assert train[("scalar", "epoch_learning_rate")] == [(0, f32(0.05 * 0.5 ** 2)), (1, f32(0.05 * 0.5 ** 4))]
    assert all(v > 0 for _, v in train[("scalar", "epoch_steps_per_second")])
    if update_freq != "epoch":
        every = 1 if update_freq == "batch" else update_freq
        assert train[("scalar", "batch_loss")] == [(s, f32(batch_logs[s - 1]["loss"])) for s in range(every, 9, every)]


@pytest.mark.parametrize("wrapper", ["MultiOptimizer", "LossScaleOptimizer"])
def test_learning_rates_of_wrapped_optimizers_as_keras(keras, tmp_path, wrapper):
    """One epoch_learning_rate_<name> per optimizer of a MultiOptimizer; a LossScaleOptimizer's inner rate."""
    def optimizer(lib):
        if wrapper == "LossScaleOptimizer":
            return lib.optimizers.LossScaleOptimizer(lib.optimizers.SGD(0.02))
        return lib.optimizers.MultiOptimizer(lib.optimizers.OptimizerMap(
            lib.optimizers.SGD(0.01, name="slow"), {"net/out/.*": lib.optimizers.SGD(0.03, name="fast")}))

    keras_callback, keras_records = keras_tensorboard(keras, str(tmp_path / "keras"))
    for lib, callback in [(keras, keras_callback), (mk, TensorBoard(str(tmp_path / "ours"), write_graph=False))]:
        dense_model(lib, optimizer(lib)).fit(DATA, TARGETS, batch_size=8, epochs=1, shuffle=False, verbose=0,
                                             callbacks=[callback])
    ours, theirs = read_run(str(tmp_path / "ours"), "train"), keras_records["train"]
    assert steps(ours) == steps(theirs)
    for key, values in ours.items():
        np.testing.assert_allclose([v for _, v in values], [v for _, v in theirs[key]], rtol=1e-5)
    expected = ["epoch_learning_rate"] if wrapper == "LossScaleOptimizer" else \
        ["epoch_learning_rate_fast", "epoch_learning_rate_slow"]
    assert sorted(tag for _, tag in ours if "learning_rate" in tag) == expected


def test_epoch_summaries_whatever_the_update_freq(tmp_path):
    """update_freq=3 with 4 batches an epoch: batch summaries at batches 3 and 6; the epoch summaries too
    (Keras on TensorFlow drops these, as its epochs end on batches 4 and 8), on disk when the epoch ends."""
    log_dir = str(tmp_path / "new" / "logs")          # made when missing
    on_disk = []
    peek = mk.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: on_disk.append(
        [(e.summary.value[0].tag, e.step) for e in raw_events(event_files(log_dir, "train")[0]) if e.summary.value]))
    dense_model(mk).fit(DATA, TARGETS, batch_size=4, epochs=2, verbose=0,
                        callbacks=[TensorBoard(log_dir, update_freq=3), peek])
    train = steps(read_run(log_dir, "train"))
    assert train[("scalar", "batch_loss")] == [3, 6] and train[("scalar", "epoch_loss")] == [0, 1]
    assert ("epoch_loss", 0) in on_disk[0] and ("epoch_loss", 1) not in on_disk[0]
    assert not os.path.exists(os.path.join(log_dir, "validation"))     # no validation data, no writer


def test_histograms_and_images_match_keras(keras, tmp_path):
    log_dir = str(tmp_path / "logs")
    model = conv_model(mk)
    keras_callback, keras_records = keras_tensorboard(keras, str(tmp_path / "keras"), histogram_freq=1,
                                                      write_images=True)
    conv_model(keras, model.get_weights()).fit(IMAGES, IMAGE_TARGETS, batch_size=4, epochs=2, shuffle=False,
                                               verbose=0, callbacks=[keras_callback])
    weights = []        # by epoch, by weight path
    model.fit(IMAGES, IMAGE_TARGETS, batch_size=4, epochs=2, shuffle=False, verbose=0,
              callbacks=[TensorBoard(log_dir, histogram_freq=1, write_images=True),
                         mk.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: weights.append(
                             {w.path: w.get_value() for w in model.weights}))])

    ours, theirs = read_run(log_dir, "train"), keras_as_ours(keras_records["train"])
    del ours[("tensor", "keras")]                     # write_graph; Keras's stand-in has write_graph=False
    assert steps(ours) == steps(theirs)
    assert ("image", "convnet/c1/kernel/image/2") in ours and ("image", "convnet/c1/kernel/image/3") not in ours
    assert ("image", "convnet/c2/kernel/image/1") in ours and ("image", "convnet/out/bias/image") not in ours
    for (kind, tag), values in ours.items():
        if kind == "histogram":
            for (step, histo), (_, keras_weight) in zip(values, theirs[(kind, tag)]):
                weight = weights[step][tag[:-len("/histogram")]]
                assert (histo.min, histo.max, histo.num) == (weight.min(), weight.max(), weight.size)
                np.testing.assert_allclose([histo.min, histo.max], [keras_weight.min(), keras_weight.max()],
                                           rtol=1e-5, atol=1e-7)

    # the pixels: Keras's own picture of our final weights, converted as tf.summary.image converts floats
    pictures = RecordingSummary()
    keras_callback._summary_module = pictures
    with _RecordingWriter(pictures, "train").as_default():
        for path, value in weights[1].items():
            keras_callback._log_weight_as_image(value, path + "/image", 1)
    for (_, tag), values in keras_as_ours(pictures.records["train"]).items():
        expected = np.clip(values[0][1] * np.float32(255.5), 0, 255).astype(np.uint8)
        event = ours[("image", tag)][1][1]
        png = np.asarray(Image.open(io.BytesIO(event.encoded_image_string)))
        assert (event.height, event.width) == expected.shape[:2]
        np.testing.assert_array_equal(png.reshape(expected.shape), expected)


def test_tensorboards_plugins_find_every_summary(tmp_path):
    """TensorBoard's dashboards (scalars, histograms, images, graphs) list what fit wrote, once its
    loader has converted the classic Summary forms to theirs."""
    dense_model(mk).fit(DATA, TARGETS, batch_size=4, epochs=1, verbose=0, validation_data=(DATA, TARGETS),
                        callbacks=[TensorBoard(str(tmp_path), histogram_freq=1, write_images=True)])
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(tmp_path))
    multiplexer.Reload()
    found = {plugin: {run: sorted(tags) for run, tags in multiplexer.PluginRunToTagToContent(plugin).items()}
             for plugin in ("scalars", "histograms", "images", "graph_keras_model")}
    weights = ["net/hidden/bias", "net/hidden/kernel", "net/out/kernel"]
    assert found == {
        "scalars": {"train": ["epoch_learning_rate", "epoch_loss", "epoch_mae"],
                    "validation": ["epoch_loss", "epoch_mae", "evaluation_loss_vs_iterations",
                                   "evaluation_mae_vs_iterations"]},
        "histograms": {"train": sorted(w + "/histogram" for w in weights + ["net/out/bias"])},
        "images": {"train": [w + "/image" for w in weights]},     # out/bias, one number, has no picture
        "graph_keras_model": {"train": ["keras"]}}


def test_write_graph_is_the_model_config_tensorboard_draws(tmp_path):
    inputs = mk.Input((3,), name="features")
    hidden = mk.layers.Dense(2, name="hidden")(inputs)
    model = mk.Model(inputs, mk.layers.Dense(1, name="out")(hidden), name="net")
    model.compile(optimizer="sgd", loss="mse")
    model.fit(DATA, TARGETS, epochs=1, verbose=0, callbacks=[TensorBoard(str(tmp_path))])
    (step, tensor), = read_run(str(tmp_path), "train")[("tensor", "keras")]
    assert step == 0
    (event,) = [e for e in raw_events(event_files(str(tmp_path), "train")[0])
                if e.summary.value and e.summary.value[0].tag == "keras"]
    metadata = event.summary.value[0].metadata.plugin_data
    assert (metadata.plugin_name, metadata.content) == ("graph_keras_model", b"1")
    graph = keras_util.keras_model_to_graph_def(json.loads(tensor.string_val[0]))
    nodes = {node.name: list(node.input) for node in graph.node}
    assert nodes["net/hidden"] == ["net/features"] and nodes["net/out"] == ["net/hidden"]


def test_no_graph_for_a_subclassed_model_or_without_write_graph(tmp_path):
    class Net(mk.Model):
        def __init__(self):
            super().__init__()
            self.dense = mk.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    for name, model, write_graph in [("subclassed", Net(), True), ("off", dense_model(mk), False)]:
        model.compile(optimizer="sgd", loss="mse")
        log_dir = str(tmp_path / name)
        model.fit(DATA, TARGETS, epochs=1, verbose=0, callbacks=[TensorBoard(log_dir, write_graph=write_graph)])
        assert ("tensor", "keras") not in read_run(log_dir, "train")


# --- profiling and embeddings ---------------------------------------------------------------------------
def test_profile_batch_traces_with_jax(tmp_path, monkeypatch):
    monkeypatch.setitem(config._overrides, "backend", "jax")
    model = dense_model(mk)
    model.fit(DATA, TARGETS, batch_size=4, epochs=1, verbose=0,
              callbacks=[TensorBoard(str(tmp_path), profile_batch=(2, 3))])
    assert glob.glob(str(tmp_path / "train" / "plugins" / "profile" / "*" / "*.xplane.pb"))


def test_profile_batch_errors_as_keras(keras, monkeypatch):
    monkeypatch.setitem(config._overrides, "backend", "numpy")
    with pytest.raises(ValueError, match=re.escape(
            "Profiling is not yet available with the numpy backend. Please open a PR if you'd like to add this "
            "feature. Received: profile_batch=5 (must be 0)")):
        TensorBoard(profile_batch=5)
    monkeypatch.setitem(config._overrides, "backend", "jax")
    keras_callback = keras.callbacks.TensorBoard()
    for bad in [(3, 1), -1, (1, 2, 3), "1,2,3"]:
        with pytest.raises(ValueError) as expected:
            keras_callback._init_profile_batch(bad)
        with pytest.raises(ValueError, match=re.escape(str(expected.value))):
            TensorBoard(profile_batch=bad)


def embedding_model(lib):
    model = lib.Sequential([lib.Input((4,), dtype="int32"), lib.layers.Embedding(10, 3, name="words"),
                            lib.layers.Flatten(), lib.layers.Dense(1)], name="embedder")
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_embeddings_config_and_checkpoints_as_keras(keras, tmp_path):
    tokens = np.arange(32).reshape(8, 4) % 10
    targets = np.ones((8, 1), "float32")
    metadata = {"words": 'C:\\runs\\"it\'s"\tmeta.tsv'}      # characters protobuf's text format escapes
    os.makedirs(tmp_path / "keras")      # Keras writes projector_config.pbtxt there before any writer makes it
    keras_callback, _ = keras_tensorboard(keras, str(tmp_path / "keras"), embeddings_freq=1,
                                          embeddings_metadata=dict(metadata))
    embedding_model(keras).fit(tokens, targets, epochs=2, verbose=0, callbacks=[keras_callback])
    model = embedding_model(mk)
    model.fit(tokens, targets, epochs=2, verbose=0,
              callbacks=[TensorBoard(str(tmp_path / "ours"), embeddings_freq=1, embeddings_metadata=metadata)])

    ours = (tmp_path / "ours" / "projector_config.pbtxt").read_text()
    assert ours == (tmp_path / "keras" / "projector_config.pbtxt").read_text()
    parsed = text_format.Parse(ours, projector.ProjectorConfig())
    assert parsed.embeddings[0].metadata_path == metadata["words"]
    reloaded = embedding_model(mk)
    reloaded.load_weights(str(tmp_path / "ours" / "train" / "keras_embedding.ckpt-1.weights.h5"))
    for got, expected in zip(reloaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, expected)

    with pytest.raises(ValueError) as expected:
        keras_tensorboard(keras, str(tmp_path / "k2"), embeddings_freq=1,
                          embeddings_metadata={"nope": "m.tsv"})[0].set_model(embedding_model(keras))
    with pytest.raises(ValueError, match=re.escape(str(expected.value))):
        TensorBoard(str(tmp_path / "o2"), embeddings_freq=1, embeddings_metadata={"nope": "m.tsv"}).set_model(model)


def test_fit_calls_batch_hooks_only_when_batches_are_written(monkeypatch):
    """Without batch summaries or profiling, fit need not read each step's numbers before the next."""
    monkeypatch.setitem(config._overrides, "backend", "jax")

    def calls_batch_hooks(**kwargs):
        return mk.callbacks.CallbackList([TensorBoard(**kwargs)]).calls_batch_hooks(train=True)
    assert not calls_batch_hooks(histogram_freq=1, write_steps_per_second=True)
    assert calls_batch_hooks(update_freq="batch") and calls_batch_hooks(profile_batch=3)


def test_update_freq_must_be_batch_epoch_or_a_positive_integer():
    with pytest.raises(ValueError, match=r"update_freq must be 'batch', 'epoch' or a positive integer. "
                                         r"Received: update_freq='step'"):
        TensorBoard(update_freq="step")
