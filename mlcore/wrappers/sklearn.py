"""scikit-learn estimators around mlcore models: KerasClassifier and KerasRegressor.

Both styles are accepted: scikeras's model= (a model, or a function returning
one) and the Keras 2 wrapper's build_fn= with its parameters passed as keyword
arguments (sk_params).  Each fit builds a fresh model, so clone(),
cross_val_score and Pipeline work.
"""
import inspect

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

FIT_PARAMS = ("epochs", "nb_epoch", "batch_size", "verbose", "validation_split", "shuffle", "callbacks",
              "class_weight", "initial_epoch", "steps_per_epoch")


class BaseWrapper(BaseEstimator):
    def __init__(self, model=None, build_fn=None, *, optimizer=None, loss=None, metrics=None, epochs=1,
                 batch_size=None, verbose=0, validation_split=0.0, shuffle=True, callbacks=None,
                 random_state=None, warm_start=False, **sk_params):
        self.model = model
        self.build_fn = build_fn
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.epochs = epochs
        self.batch_size = batch_size
        self.verbose = verbose
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.callbacks = callbacks
        self.random_state = random_state
        self.warm_start = warm_start
        self.sk_params = sk_params
        for key, value in sk_params.items():
            setattr(self, key, value)

    def get_params(self, deep=True):
        params = super().get_params(deep=False)
        params.pop("sk_params", None)
        params.update(self.sk_params)
        return params

    def set_params(self, **params):
        named = super().get_params(deep=False)
        for key, value in params.items():
            if key not in named:
                self.sk_params[key] = value
            setattr(self, key, value)
        return self

    # --- building ----------------------------------------------------------------------------------
    def _builder_arguments(self, fn):
        """What fn's signature accepts of the sk_params (model__x is x) and of optimizer, loss and metrics
        when set: so a grid search over optimizer= reaches a Keras 2 build_fn(optimizer="adam")."""
        accepted = inspect.signature(fn).parameters
        takes_all = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
        given = {k: getattr(self, k) for k in ("optimizer", "loss", "metrics") if getattr(self, k) is not None}
        given.update((k[len("model__"):] if k.startswith("model__") else k, v) for k, v in self.sk_params.items())
        return {name: value for name, value in given.items() if takes_all or name in accepted}

    def _build(self):
        from mlcore.layers.base import Layer
        from mlcore.utils import set_random_seed
        if self.random_state is not None:
            set_random_seed(self.random_state)
        source = self.build_fn if self.build_fn is not None else self.model
        if source is None:
            raise ValueError("%s needs model= (a model or a function returning one) or build_fn="
                             % type(self).__name__)
        if isinstance(source, Layer):   # a fresh copy, so folds of a cross-validation share nothing
            model = type(source).from_config(source.get_config())
            if source.compiled:
                model.compile_from_config(source.get_compile_config())
        else:
            model = source(**self._builder_arguments(source))
        if not model.compiled:
            if self.loss is None:
                raise ValueError("The model is not compiled: compile it in the build function or pass loss=")
            model.compile(optimizer=self.optimizer or "rmsprop", loss=self.loss, metrics=self.metrics)
        return model

    def _fit_arguments(self, overrides):
        args = {"epochs": self.epochs, "batch_size": self.batch_size, "verbose": self.verbose,
                "validation_split": self.validation_split, "shuffle": self.shuffle, "callbacks": self.callbacks}
        for given in ({k: v for k, v in self.sk_params.items() if k in FIT_PARAMS}, overrides):
            args.update(("epochs" if k == "nb_epoch" else k, v) for k, v in given.items())    # Keras 1's name
        return args

    def _fit_model(self, x, y, **kwargs):
        if not (self.warm_start and hasattr(self, "model_")):
            self.model_ = self._build()
        self.history_ = self.model_.fit(x, y, **self._fit_arguments(kwargs)).history
        return self


def _as_2d_float(x):
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError("Input X must be numeric, got dtype %s" % x.dtype)
    return x.astype("float32")


class KerasClassifier(ClassifierMixin, BaseWrapper):
    """A classifier; labels of any type become their index in the sorted classes_ (LabelEncoder's rule),
    and one-hot rows stand for classes 0..k-1 (as the Keras 2 wrapper reads them)."""

    def fit(self, X, y, **kwargs):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            self.classes_, codes = np.arange(y.shape[1]), y.argmax(axis=1)
        else:
            self.classes_, codes = np.unique(y.ravel(), return_inverse=True)
        self.n_classes_ = len(self.classes_)
        x = _as_2d_float(X)
        if not (self.warm_start and hasattr(self, "model_")):
            self.model_ = self._build()
        units = self.model_.outputs[0].type.shape[-1]
        loss = str(getattr(self.model_, "loss", ""))
        target = np.eye(self.n_classes_, dtype="float32")[codes] if units and units > 1 and \
            "sparse" not in loss else codes.astype("float32")
        self.history_ = self.model_.fit(x, target, **self._fit_arguments(kwargs)).history
        return self

    def predict_proba(self, X, **kwargs):
        probs = np.asarray(self.model_.predict(_as_2d_float(X), verbose=0, **kwargs))
        if probs.ndim == 1 or probs.shape[1] == 1:
            p = probs.reshape(-1)
            probs = np.column_stack([1 - p, p])
        return probs

    def predict(self, X, **kwargs):
        return self.classes_[np.argmax(self.predict_proba(X, **kwargs), axis=1)]


class KerasRegressor(RegressorMixin, BaseWrapper):
    """A regressor; score is R^2 as scikit-learn's."""

    def fit(self, X, y, **kwargs):
        return self._fit_model(_as_2d_float(X), np.asarray(y, dtype="float32"), **kwargs)

    def predict(self, X, **kwargs):
        out = np.asarray(self.model_.predict(_as_2d_float(X), verbose=0, **kwargs))
        return out.reshape(-1) if out.ndim == 2 and out.shape[1] == 1 else out
