"""Keras 2's training and prediction methods that Keras 3 dropped, so that Keras 2 code runs unchanged.

Keras 2.4+ made fit_generator / evaluate_generator / predict_generator aliases of fit / evaluate / predict
(which read generators and Sequences themselves); Keras 2's Sequential also had predict_classes and
predict_proba.  Here they are those aliases, with Keras 2's defaults (fit_generator's verbose=1, the
others' verbose=0) and its check that an endless Python generator says how many steps make an epoch.
The worker arguments (workers, use_multiprocessing, max_queue_size) are accepted: batches are read in
the training loop.
"""
import warnings

from mlcore.models import data_adapters


def _check_steps(generator, steps, argument):
    """Keras 2: a plain generator has no length, so the number of its batches per epoch must be given."""
    if steps is None and not isinstance(data_adapters.adapt(generator), data_adapters.SequenceData):
        raise ValueError("`%s=None` is only valid for a generator based on the `keras.utils.Sequence` class. "
                         "Please specify `%s` or use the `keras.utils.Sequence` class." % (argument, argument))


class GeneratorMethods:
    """Mixed into Model: Keras 2's *_generator methods."""

    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, validation_freq=1, class_weight=None,
                      max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0):
        _check_steps(generator, steps_per_epoch, "steps_per_epoch")
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_data=validation_data, validation_steps=validation_steps,
                        validation_freq=validation_freq, class_weight=class_weight, shuffle=shuffle,
                        initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                           use_multiprocessing=False, verbose=0):
        _check_steps(generator, steps, "steps")
        return self.evaluate(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                          use_multiprocessing=False, verbose=0):
        _check_steps(generator, steps, "steps")
        return self.predict(generator, steps=steps, callbacks=callbacks, verbose=verbose)


class ClassPredictions:
    """Mixed into Sequential: Keras 2's predict_proba and predict_classes."""

    def predict_proba(self, x, batch_size=32, verbose=0):
        """predict(), warning (as Keras 2) when the outputs are not probabilities."""
        preds = self.predict(x, batch_size=batch_size, verbose=verbose)
        if preds.min() < 0. or preds.max() > 1.:
            warnings.warn("Network returning invalid probability values. The last layer might not normalize "
                          "predictions into probabilities (like softmax or sigmoid would).", stacklevel=2)
        return preds

    def predict_classes(self, x, batch_size=32, verbose=0):
        """The class of each sample: the argmax of a softmax output, or a sigmoid output above 0.5."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")
