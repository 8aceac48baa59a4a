"""BackupAndRestore: a fit() that was interrupted resumes where it stopped."""
import json
import os
import shutil

from mlcore.callbacks.callback import Callback


class BackupAndRestore(Callback):
    """Keras 3's BackupAndRestore: after every epoch (or every save_freq batches) the model's
    weights, its optimizer's state and the epoch reached go to backup_dir; a later fit() with the
    same backup_dir (after a crash or a Ctrl-C) restores them and carries on from that epoch.  A fit
    that completes deletes the backup (delete_checkpoint=True).  With double_checkpoint, the
    previous backup is kept beside the latest, for when the latest was cut short."""

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError("Invalid value for argument `save_freq`. Received: save_freq=%s. Expected either "
                             "'epoch' or an integer value." % (save_freq,))
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq, self.double_checkpoint, self.delete_checkpoint = save_freq, double_checkpoint, delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_training_metadata_path = self._training_metadata_path + ".bkp"
        self._current_epoch = 0
        self._last_batch_seen = 0
        self._batches_seen_since_last_saving = 0

    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, your model must be built before you call "
                             "`fit()`. Model %s is unbuilt. You can build it beforehand by calling it on a batch "
                             "of data." % self.model.name)
        try:
            self._restore()
        except OSError:
            # The latest weights are unreadable: the previous backup takes their place on disk, as in Keras
            # (and its epoch, or none if it has no metadata), and is restored.
            if not os.path.exists(self._prev_weights_path):
                raise
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                shutil.copyfile(self._prev_training_metadata_path, self._training_metadata_path)
            elif os.path.exists(self._training_metadata_path):
                os.remove(self._training_metadata_path)
            self._restore()

    def _restore(self):
        from mlcore.saving.keras_archive import restore_optimizer_state
        if os.path.exists(self._weights_path):
            self.model.load_weights(self._weights_path)
            if self.model.optimizer is not None:
                restore_optimizer_state(self.model, self._weights_path, self._weights_path)
        if os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path) as f:
                self.model._initial_epoch = json.load(f)["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        """Counts batches as Keras does, from the index of the last one seen: a call that ends
        steps_per_execution batches counts them all; an index not past the last one starts an epoch."""
        if self.save_freq == "epoch":
            return
        new_epoch = batch <= self._last_batch_seen
        self._batches_seen_since_last_saving += batch + 1 if new_epoch else batch - self._last_batch_seen
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save()

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)

    def _save(self):
        """Weights with the optimizer's state, then the epoch, each written whole and then renamed into
        place, so that a crash mid-save leaves the previous backup as it was."""
        from mlcore.saving.keras_archive import write_optimizer_state
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path, previous in ((self._weights_path, self._prev_weights_path),
                                   (self._training_metadata_path, self._prev_training_metadata_path)):
                if os.path.exists(path):
                    shutil.copyfile(path, previous)
        incoming = os.path.join(self.backup_dir, "incoming.weights.h5")
        self.model.save_weights(incoming)
        if self.model.optimizer is not None:
            write_optimizer_state(incoming, self.model.optimizer)
        os.replace(incoming, self._weights_path)
        with open(self._training_metadata_path + ".tmp", "w") as f:
            json.dump({"epoch": self._current_epoch, "batch": self._last_batch_seen}, f)
        os.replace(self._training_metadata_path + ".tmp", self._training_metadata_path)
