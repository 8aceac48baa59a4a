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
        self._metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._current_epoch = 0
        self._batches_since_save = 0

    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, your model must be built before you call "
                             "`fit()`. Model %s is unbuilt. You can build it beforehand by calling it on a batch "
                             "of data." % self.model.name)
        try:
            self._restore(self._weights_path, self._metadata_path)
        except OSError:
            if not os.path.exists(self._weights_path + ".bkp"):
                raise
            self._restore(self._weights_path + ".bkp", self._metadata_path + ".bkp")

    def _restore(self, weights_path, metadata_path):
        from mlcore.saving.keras_archive import restore_optimizer_state
        if os.path.exists(weights_path):
            self.model.load_weights(weights_path)
            if self.model.optimizer is not None:
                restore_optimizer_state(self.model, weights_path, weights_path)
        if os.path.exists(metadata_path):
            with open(metadata_path) as f:
                self.model._initial_epoch = json.load(f)["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch":
            self._batches_since_save += 1
            if self._batches_since_save >= self.save_freq:
                self._batches_since_save = 0
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
            for path in (self._weights_path, self._metadata_path):
                if os.path.exists(path):
                    shutil.copyfile(path, path + ".bkp")
        incoming = os.path.join(self.backup_dir, "incoming.weights.h5")
        self.model.save_weights(incoming)
        if self.model.optimizer is not None:
            write_optimizer_state(incoming, self.model.optimizer)
        os.replace(incoming, self._weights_path)
        with open(self._metadata_path + ".tmp", "w") as f:
            json.dump({"epoch": self._current_epoch}, f)
        os.replace(self._metadata_path + ".tmp", self._metadata_path)
