"""TensorBoard: losses, metrics, learning rates, weight histograms and images as TensorBoard event files."""
import json
import logging
import os
import time
import warnings

import numpy as np

from mlcore import config
from mlcore.callbacks.callback import Callback
from mlcore.utils import summary_values
from mlcore.utils.event_writer import EventFileWriter

# Keras writes the model's config as its conceptual graph for these classes only (not for subclassed
# models); mlcore's functional models are of class Model, where Keras's are Functional.
_GRAPH_MODEL_CLASSES = ("Sequential", "Model")
_EMBEDDING_TENSOR = "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"   # Keras's name for every one
_TEXT_FORMAT_ESCAPES = {i: "\\%03o" % i for i in [*range(32), 127]}       # control characters in octal
_TEXT_FORMAT_ESCAPES.update({ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r", ord('"'): '\\"',
                             ord("'"): "\\'", ord("\\"): "\\\\"})


class TensorBoard(Callback):
    """Writes what `fit` and `evaluate` report as TensorBoard event files, as keras.callbacks.TensorBoard
    does, without TensorFlow (mlcore.utils.event_writer writes the files); view them with
    `tensorboard --logdir=path_to_your_logs`.

    Under `log_dir`, `train/` gets `epoch_<name>` for each training log, `epoch_learning_rate` and, with
    write_steps_per_second, `epoch_steps_per_second`, at step = epoch; `validation/` gets the `val_`
    logs as `epoch_<name>`, and at the end of each validation and `evaluate`,
    `evaluation_<name>_vs_iterations` at step = the optimizer's iterations.  Epoch events are flushed
    at each epoch's end, and the files closed when `fit` ends.

    Args:
        log_dir: the folder of the event files (created when missing).
        histogram_freq: every how many epochs to write a histogram of each layer weight
            (`<weight path>/histogram`); 0 writes none.
        write_graph: write the model's config (tag `keras`, step 0), which TensorBoard's Graphs tab
            draws as the conceptual graph, for Sequential and functional models, as Keras 3 does.
            No op graph is written (Keras 3 writes one only for TensorFlow's tf.function).
        write_images: with the histograms, write each weight as an image (`<weight path>/image`), as
            Keras draws them: a bias as a column, a kernel as a matrix (wider than tall), a conv
            kernel as one picture per channel (at most 3 pictures, as tf.summary.image).
        write_steps_per_second: also write training steps per second (per epoch, and per batch
            with an integer update_freq).
        update_freq: "epoch", "batch" or an integer N: also write `batch_<name>` (the epoch's logs so
            far) every N training batches, counted over the whole fit.  Unlike Keras on TensorFlow,
            which then drops every epoch summary when the batch count at the epoch's end is not a
            multiple of N (tensorboard issue 4975), the epoch summaries are always written.
        profile_batch: a batch number, a (start, stop) pair or "start,stop": on the jax backend,
            jax.profiler traces those training batches (counted over the fit, from 1) into
            `log_dir/train/plugins/profile`, for TensorBoard's Profile tab.  Keras 3 on jax does the
            same, but only on Python >= 3.12: below it, it warns and profiles nothing.  On the numpy
            and theano backends, a non-zero profile_batch is a ValueError (as on Keras's numpy and
            torch backends).  0 profiles nothing.
        embeddings_freq: every how many epochs to save the weights as
            `train/keras_embedding.ckpt-<epoch>.weights.h5`, after writing `projector_config.pbtxt`
            for the Embedding layers, as Keras 3 does (TensorBoard's projector reads TensorFlow
            checkpoints, so it shows neither Keras's files nor these).
        embeddings_metadata: a metadata file for every Embedding layer, or a dict of them by layer name.

    Values are written in the classic Summary forms (simple_value, HistogramProto over TensorFlow's
    default buckets, PNG images), which TensorBoard reads as it reads TensorFlow 2's tensor summaries.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        self.log_dir = str(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        if self.update_freq != "epoch" and not (isinstance(self.update_freq, int) and self.update_freq > 0):
            raise ValueError("TensorBoard: update_freq must be 'batch', 'epoch' or a positive integer. "
                             "Received: update_freq=%r" % (update_freq,))
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        if profile_batch and config.backend() != "jax":
            raise ValueError(
                f"Profiling is not yet available with the {config.backend()} backend. Please open a PR "
                f"if you'd like to add this feature. Received: profile_batch={profile_batch} (must be 0)")
        self._start_batch, self._stop_batch = _profile_range(profile_batch)
        self._profiling = False
        self._batch_trace = None
        self._global_train_batch = 0
        self._batch_start_time = self._epoch_start_time = 0.0
        self._epoch_start_iterations = 0
        self._writers = {}
        if self.update_freq != "epoch" or self._start_batch:
            # Only then do single batches matter here: fit calls batch hooks only for the callbacks that
            # define them, and without any it need not wait for each step's numbers before the next step.
            self.on_train_batch_begin = self._on_train_batch_begin
            self.on_train_batch_end = self._on_train_batch_end

    # --- writers ---------------------------------------------------------------------------------
    def _writer(self, run):
        """The event file of run "train" or "validation", begun on first use."""
        if run not in self._writers:
            self._writers[run] = EventFileWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def _write_scalars(self, run, prefix, logs, step):
        writer = self._writer(run)
        for name, value in logs.items():
            writer.add_summary(summary_values.scalar(prefix % name, value), step)

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model):
        """Each fit and evaluate sets the model: new event files begin, the graph is written."""
        super().set_model(model)
        self._close_writers()
        if self.write_graph:
            self._write_model_config()
        if self.embeddings_freq:
            self._configure_embeddings()

    def _write_model_config(self):
        if type(self.model).__name__ not in _GRAPH_MODEL_CLASSES:
            return
        from mlcore.saving.serialization_lib import serialize_keras_object
        try:            # Keras 3's to_json: the nodes in its format, which TensorBoard draws edges from
            config_json = json.dumps(serialize_keras_object(self.model))
        except Exception as exc:      # as Keras: a model that does not serialize is no reason to stop
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {exc}", stacklevel=2)
            return
        writer = self._writer("train")
        writer.add_summary(summary_values.string_tensor("keras", config_json, "graph_keras_model", b"1"), step=0)
        writer.flush()      # an evaluate may write nothing else to this file

    # --- fit and evaluate ------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_train_end(self, logs=None):
        if self._profiling:
            self._stop_profiler()
        self._close_writers()

    def on_test_end(self, logs=None):
        if self.model.optimizer is not None:
            step = int(self.model.optimizer.iterations.get_value())
            self._write_scalars("validation", "evaluation_%s_vs_iterations", logs or {}, step)
            self._writer("validation").flush()

    def _on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()
        if self._global_train_batch == self._start_batch:
            self._start_profiler()
        if self._profiling:
            import jax
            self._batch_trace = jax.profiler.TraceAnnotation(f"Profiled batch {batch}")
            self._batch_trace.__enter__()

    def _on_train_batch_end(self, batch, logs=None):
        if self.update_freq != "epoch" and self._global_train_batch % self.update_freq == 0:
            batch_logs = dict(logs or {})
            if self.write_steps_per_second:
                batch_logs["steps_per_second"] = 1.0 / (time.time() - self._batch_start_time)
            self._write_scalars("train", "batch_%s", batch_logs, self._global_train_batch)
        if self._batch_trace is not None:
            self._batch_trace.__exit__(None, None, None)
            self._batch_trace = None
        if self._profiling and self._global_train_batch >= self._stop_batch:
            self._stop_profiler()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_iterations = int(self.model.optimizer.iterations.get_value())
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        if logs:
            self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self.model.save_weights(os.path.join(self.log_dir, "train", f"keras_embedding.ckpt-{epoch}.weights.h5"))
        for writer in self._writers.values():
            writer.flush()

    def _log_epoch_metrics(self, epoch, logs):
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[len("val_"):]: v for k, v in logs.items() if k.startswith("val_")}
        train_logs.update(self._learning_rates())
        if self.write_steps_per_second:
            steps = int(self.model.optimizer.iterations.get_value()) - self._epoch_start_iterations
            train_logs["steps_per_second"] = steps / (time.time() - self._epoch_start_time)
        for run, run_logs in (("train", train_logs), ("validation", val_logs)):
            if run_logs:
                self._write_scalars(run, "epoch_%s", run_logs, epoch)

    def _learning_rates(self):
        """`learning_rate`, or one `learning_rate_<name>` per optimizer of a MultiOptimizer."""
        from mlcore.optimizers.base import Optimizer
        optimizer = getattr(self.model.optimizer, "inner_optimizer", self.model.optimizer)
        if hasattr(optimizer, "optimizers"):
            return {f"learning_rate_{inner.name}": float(inner.learning_rate) for inner in optimizer.optimizers}
        if isinstance(optimizer, Optimizer):
            return {"learning_rate": float(optimizer.learning_rate)}
        return {}

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = weight.path.replace(":", "_")
                value = weight.get_value()
                writer.add_summary(summary_values.histogram(f"{name}/histogram", value), epoch)
                pictures = _weight_as_images(value) if self.write_images else None
                if pictures is not None:
                    for image in summary_values.images(f"{name}/image", pictures):
                        writer.add_summary(image, epoch)

    # --- embeddings and profiling ----------------------------------------------------------------
    def _configure_embeddings(self):
        """projector_config.pbtxt, in protobuf's text format, as Keras writes it."""
        from mlcore.layers.embedding import Embedding
        metadata = self.embeddings_metadata
        unmatched = {} if metadata is None or isinstance(metadata, str) else dict(metadata)
        entries = []
        for layer in self.model.layers:
            if isinstance(layer, Embedding):
                path = metadata if isinstance(metadata, str) else unmatched.pop(layer.name, None)
                lines = [f"  tensor_name: {_text_format_string(_EMBEDDING_TENSOR)}"]
                if path is not None:
                    lines.append(f"  metadata_path: {_text_format_string(path)}")
                entries.append("embeddings {\n" + "\n".join(lines) + "\n}\n")
        if unmatched:
            raise ValueError("Unrecognized `Embedding` layer names passed to `keras.callbacks.TensorBoard` "
                             f"`embeddings_metadata` argument: {unmatched.keys()}")
        os.makedirs(self.log_dir, exist_ok=True)
        with open(os.path.join(self.log_dir, "projector_config.pbtxt"), "w") as f:
            f.write("".join(entries))

    def _start_profiler(self):
        import jax
        try:
            jax.profiler.start_trace(os.path.join(self.log_dir, "train"))
            self._profiling = True
        except Exception as e:        # as Keras: a profiler that will not start does not stop training
            logging.error("Failed to start profiler: %s", e)

    def _stop_profiler(self):
        import jax
        try:
            jax.profiler.stop_trace()
        except Exception as e:
            logging.error("Failed to stop profiler: %s", e)
        finally:
            self._profiling = False


def _profile_range(profile_batch):
    """(start, stop) from Keras's forms: an int, a pair, or the legacy string "start,stop"."""
    message = ("profile_batch must be a non-negative integer or 2-tuple of positive integers. A pair of "
               "positive integers signifies a range of batches to profile. Found: %s" % (profile_batch,))
    if isinstance(profile_batch, str):
        profile_batch = [int(part) for part in profile_batch.split(",")]
    if isinstance(profile_batch, int):
        start = stop = profile_batch
    elif isinstance(profile_batch, (tuple, list)) and len(profile_batch) == 2:
        start, stop = profile_batch
    else:
        raise ValueError(message)
    if start < 0 or stop < start:
        raise ValueError(message)
    return start, stop


def _weight_as_images(weight):
    """A weight as Keras pictures it, a (n, height, width, channels) batch, or None where it cannot:
    a vector as a column, a matrix wider than tall, a 3-d kernel as one picture per channel (the last
    axis, or the first with channels_first); a 4-d kernel as it is, when its last axis can be colours."""
    pictures = np.squeeze(weight)
    if pictures.ndim == 1:
        pictures = pictures.reshape(1, -1, 1, 1)
    elif pictures.ndim == 2:
        if pictures.shape[0] > pictures.shape[1]:
            pictures = pictures.T
        pictures = pictures[None, :, :, None]
    elif pictures.ndim == 3:
        if config.image_data_format() == "channels_last":
            pictures = np.transpose(pictures, (2, 0, 1))
        pictures = pictures[..., None]
    return pictures if pictures.ndim == 4 and pictures.shape[-1] in (1, 3, 4) else None


def _text_format_string(text):
    """A quoted string of protobuf's text format, escaped as protobuf's own printer escapes it."""
    return '"%s"' % text.translate(_TEXT_FORMAT_ESCAPES)
