"""SwapEMAWeights: evaluate (and optionally checkpoint) with the optimizer's moving averages of
the weights (use_ema=True) instead of the weights being trained."""
from mlcore.callbacks.callback import Callback


class SwapEMAWeights(Callback):
    """Swaps the model's weights with their moving averages for evaluation and prediction, and back
    after, in place (as keras.callbacks.SwapEMAWeights; unlike Keras 3.15 it also swaps back after
    predict).

    Args:
        swap_on_epoch: also swap at the end of each epoch and back at the start of the next, so that
            callbacks after this one (ModelCheckpoint) see the averaged weights.
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _averaged(self):
        """(weight, moving average) pairs of the model's optimizer, as Keras finds them: inside a
        LossScaleOptimizer, and of each inner optimizer with use_ema of a MultiOptimizer."""
        optimizer = getattr(self.model.optimizer, "inner_optimizer", self.model.optimizer)
        optimizers = [optimizer]
        if hasattr(optimizer, "optimizers"):
            optimizers = [inner for inner in optimizer.optimizers if getattr(inner, "use_ema", False)]
            if not optimizers:
                raise ValueError("SwapEMAWeights must be used when at least one inner optimizer has `use_ema=True` "
                                 "set. Received a MultiOptimizer with all inner optimizers having `use_ema=False`.")
        for averaging in optimizers:
            if not hasattr(averaging, "_model_variables_moving_average"):
                raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the optimizer (and "
                                 "after it is built by training). Received: use_ema=%s"
                                 % getattr(averaging, "use_ema", None))
        return [pair for averaging in optimizers
                for pair in zip(averaging._trainable_variables, averaging._model_variables_moving_average)]

    def _swap(self, ema_in_model):
        if self._ema_weights_in_model != ema_in_model:
            for variable, average in self._averaged():
                weights = variable.get_value()
                variable.set_value(average.get_value())
                average.set_value(weights)
            self._ema_weights_in_model = ema_in_model

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap(False)

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap(True)
            if epoch == self.params["epochs"] - 1:     # fit's end copies the averages into the model
                for variable, average in self._averaged():
                    average.set_value(variable.get_value())

    def on_test_begin(self, logs=None):
        self._swap(True)

    def on_test_end(self, logs=None):
        self._swap(False)

    on_predict_begin, on_predict_end = on_test_begin, on_test_end
