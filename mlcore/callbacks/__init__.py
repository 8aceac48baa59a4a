"""Keras 3 callbacks: hooks into fit/evaluate/predict, driven by CallbackList."""
from mlcore.callbacks.backup_and_restore import BackupAndRestore
from mlcore.callbacks.callback import Callback
from mlcore.callbacks.callback_list import CallbackList
from mlcore.callbacks.csv_logger import CSVLogger
from mlcore.callbacks.early_stopping import EarlyStopping
from mlcore.callbacks.history import History
from mlcore.callbacks.lambda_callback import LambdaCallback
from mlcore.callbacks.learning_rate_scheduler import LearningRateScheduler
from mlcore.callbacks.model_checkpoint import ModelCheckpoint
from mlcore.callbacks.orbax_checkpoint import OrbaxCheckpoint
from mlcore.callbacks.progbar_logger import ProgbarLogger
from mlcore.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from mlcore.callbacks.remote_monitor import RemoteMonitor
from mlcore.callbacks.swap_ema_weights import SwapEMAWeights
from mlcore.callbacks.tensorboard import TensorBoard
from mlcore.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "Callback",
    "CallbackList",
    "CSVLogger",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "OrbaxCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "RemoteMonitor",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
]
