"""OrbaxCheckpoint: the model's whole state to an Orbax checkpoint, one numbered step at a time."""
import os
import warnings

from mlcore.callbacks.model_checkpoint import batches_run, check_save_freq
from mlcore.callbacks.monitor_callback import MonitorCallback
from mlcore.utils.progbar import print_msg


class OrbaxCheckpoint(MonitorCallback):
    """Keras 3's OrbaxCheckpoint: saves the model's variables (trainable, non-trainable, optimizer and
    metrics state, keyed by path), its config and assets to `directory/<step>` with orbax-checkpoint
    (the 'orbax' extra), by default in the background so that training does not wait for the disk.

    The step is the epoch index (0-based) with save_freq="epoch", else the number of batches trained
    so far, counted on from the optimizer's iterations (a model reloaded to go on training keeps
    numbering).  `keras.saving.load_model(directory)` rebuilds the model of the latest step, and
    `model.load_weights(directory)` (or a step's folder) loads its state into a model; Keras 3 reads
    these checkpoints and mlcore reads Keras's.

    Args:
        directory: the checkpoint root.
        monitor: the log key that decides what "best" is, for `save_best_only`.
        verbose: 1 prints a line per save or skipped save.
        save_best_only: only save when `monitor` improved (and skip, with a warning, when the logs
            lack it).
        mode: "auto", "min" or "max".
        save_freq: "epoch", or an integer number of batches.
        initial_value_threshold: the value to beat for the first save.
        max_to_keep: how many of the latest steps to keep (None: all).
        save_on_background: write asynchronously; `wait_until_finished()` and the end of `fit()` wait.
        save_weights_only: only the trainable and non-trainable variables (no optimizer, metrics or
            config: such a step loads with `load_weights`, not `load_model`).
    """

    def __init__(
        self,
        directory,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
        max_to_keep=1,
        save_on_background=True,
        save_weights_only=False,
    ):
        from mlcore.saving.orbax_checkpoints import orbax_api, orbax_multihost     # (they import mlcore.models)
        self._ocp = orbax_api()
        self._multihost = orbax_multihost()
        super().__init__(monitor, mode, initial_value_threshold)
        check_save_freq(save_freq)
        if max_to_keep is not None and (not isinstance(max_to_keep, int) or max_to_keep < 1):
            raise ValueError("`max_to_keep` must be a positive integer or None. "
                             f"Received: max_to_keep={max_to_keep}")
        self.directory = os.fspath(directory)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_freq = save_freq
        self.max_to_keep = max_to_keep
        self.save_on_background = save_on_background
        self.save_weights_only = save_weights_only
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._total_batches_seen = 0
        self._current_epoch = 0
        self._async_futures = []
        self._multihost_initialized = self._multihost.is_jax_distributed_client_initialized()
        self.checkpointer = self._open_checkpointer()

    def _open_checkpointer(self):
        """An Orbax Checkpointer that keeps the max_to_keep latest steps and saves every step asked."""
        training = self._ocp.training
        return training.Checkpointer(
            directory=self.directory,
            preservation_policy=(None if self.max_to_keep is None
                                 else training.preservation_policies.LatestN(self.max_to_keep)),
            save_decision_policy=training.save_decision_policies.FixedIntervalPolicy(1),
        )

    def set_model(self, model):
        super().set_model(model)
        if getattr(model, "optimizer", None) is not None:
            self._total_batches_seen = int(model.optimizer.iterations.numpy())

    def is_multihost_enabled(self):
        """Whether this process is one of a multi-host job (mlcore.distribution.initialize)."""
        return self._multihost_initialized

    def is_primary_host(self):
        """Whether this process is the job's first one (always, on one host)."""
        return not self._multihost_initialized or self._multihost.is_primary_host(primary_host=0)

    def on_train_begin(self, logs=None):
        if self.checkpointer is None:       # closed by an earlier fit()
            self.checkpointer = self._open_checkpointer()

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        new_batches = batches_run(self._last_batch_seen, batch)
        self._last_batch_seen = batch
        self._total_batches_seen += new_batches
        self._batches_seen_since_last_saving += new_batches
        if self._batches_seen_since_last_saving < self.save_freq:
            return
        self._batches_seen_since_last_saving = 0
        if not self.save_best_only or self._improved(logs, f"batch {batch}"):
            self._save_checkpoint(self._total_batches_seen)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq != "epoch":
            return
        if not self.save_best_only or self._improved(logs, f"epoch {epoch}"):
            self._save_checkpoint(epoch)

    def on_train_end(self, logs=None):
        """Waits for the saves in flight (raising what failed in them), then closes the Checkpointer."""
        self.wait_until_finished()
        self.checkpointer.close()
        self.checkpointer = None
        self._sync_processes("checkpoint_cleanup")

    def wait_until_finished(self):
        """Blocks until every background save has finished (on every host)."""
        futures, self._async_futures = self._async_futures, []
        for future in futures:
            future.result()
        if self.checkpointer is not None:
            self.checkpointer.wait()
        self._sync_processes("checkpoint_wait_complete")

    def _improved(self, logs, where):
        """Whether logs[monitor] beats the best so far (which it then becomes)."""
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available, skipping save at "
                          f"{where}.", stacklevel=3)
            return False
        if self.monitor_op is None:
            self._set_monitor_op()
        if not self._is_improvement(current, self.best):
            if self.verbose > 0:
                print_msg(f"\nEpoch {self._current_epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
            return False
        self.best = current
        return True

    def _save_checkpoint(self, step):
        if self.verbose > 0:
            print_msg(f"\nEpoch {self._current_epoch + 1}: saving checkpoint to "
                      f"{os.path.join(self.directory, str(step))}")
        from mlcore.saving.orbax_checkpoints import checkpoint_payload
        payload = checkpoint_payload(self.model, self.save_weights_only)
        if self.save_on_background:
            self._async_futures.append(self.checkpointer.save_checkpointables_async(step, payload))
        else:
            self.checkpointer.save_checkpointables(step, payload)

    def _sync_processes(self, key):
        if self._multihost_initialized:
            self._multihost.sync_global_processes(key)
