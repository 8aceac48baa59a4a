"""Keras 3's scikit-learn estimators: SKLearnClassifier, SKLearnRegressor and SKLearnTransformer.

Unlike the Keras 2 style wrappers in mlcore.wrappers.sklearn (build_fn= with sk_params), these take
model= (a compiled Model, cloned with clone_model for each fit, or a callable model(X=, y=,
**model_kwargs) returning one) and fit_kwargs= for Model.fit.  Input checks are scikit-learn's own
(validate_data: n_features_in_, feature_names_in_, NaN and dtype errors), so check_estimator finds
what it expects.  Targets are encoded as Keras does: the classifier one-hot encodes (one column per
class, also for two classes), the regressor and the transformer make a 1-d y a column.

Where Keras's wrappers differ from their own documentation, these follow the documentation:
warm_start=True keeps training the fitted model (Keras's fit ignores the flag), clone() keeps
fit_kwargs, and fit(**kwargs) does not write into fit_kwargs.
"""
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data


class TargetReshaper(TransformerMixin, BaseEstimator):
    """A 1-d target as a column (OneHotEncoder and the models take 2-d y) and back."""

    def fit(self, y):
        self.ndim_ = y.ndim
        return self

    def transform(self, y):
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def inverse_transform(self, y):
        check_is_fitted(self)
        return np.squeeze(y, axis=1) if self.ndim_ == 1 and y.ndim == 2 else y


def _known_target_type(y):
    """type_of_target, with scikit-learn's error for targets it cannot name (objects, nested lists)."""
    kind = type_of_target(y)
    if kind == "unknown":
        raise ValueError("Unknown label type for data: %r" % (y,))
    return kind


class SKLBase(BaseEstimator):
    """What the three estimators share: building the model, fit, predict and the target encoding.

    Args:
        model: a compiled Model (cloned for each fit unless warm_start) or a callable returning one,
            called as model(X=X, y=y, **model_kwargs) with the encoded target.
        warm_start: reuse the fitted model (and its weights) in the next fit.
        model_kwargs: keyword arguments for model when it is a callable.
        fit_kwargs: keyword arguments for Model.fit; those given to fit() take precedence.

    Attributes: model_ (the fitted model), history_ (the History fit returned).
    """

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None):
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def _more_tags(self):
        return {"non_deterministic": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    def __sklearn_clone__(self):
        """The same parameters, the model shared rather than deep-copied: fit clones a Model anyway,
        and a callable needs no copy."""
        return type(self)(**self.get_params(deep=False))

    @property
    def epoch_(self):
        """How many epochs the last fit ran."""
        history = getattr(self, "history_", None)
        return len(history.epoch) if history is not None else 0

    def set_fit_request(self, **kwargs):
        """Route metadata (sample_weight=True, ...) to score, as Keras's method does; needs
        sklearn.set_config(enable_metadata_routing=True)."""
        import sklearn
        from sklearn.utils.metadata_routing import MetadataRequest
        if not sklearn.get_config().get("enable_metadata_routing", False):
            raise RuntimeError("This method is only available when metadata routing is enabled. You can enable "
                               "it using sklearn.set_config(enable_metadata_routing=True).")
        self._metadata_request = MetadataRequest(owner=type(self).__name__)
        for param, alias in kwargs.items():
            self._metadata_request.score.add_request(param=param, alias=alias)
        return self

    def _get_model(self, X, y):
        from mlcore.layers.base import Layer
        from mlcore.models.cloning import clone_model
        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if isinstance(self.model, Layer):
            return clone_model(self.model)
        return self.model(X=X, y=y, **(self.model_kwargs or {}))

    def fit(self, X, y, **kwargs):
        """Fit the model on X (n_samples, n_features) and y; kwargs go to Model.fit."""
        X, y = validate_data(self, X, y)
        y = self._process_target(y, reset=True)
        model = self._get_model(X, y)
        if not model.compiled or not model.loss or not model.optimizer:
            raise RuntimeError("Given model needs to be compiled, and have a loss and an optimizer.")
        self.history_ = model.fit(X, y, **{**(self.fit_kwargs or {}), **kwargs})
        self.model_ = model
        return self

    def _raw_output(self, X):
        check_is_fitted(self)
        return self.model_.predict(validate_data(self, X, reset=False), verbose=0)

    def predict(self, X):
        """The model's output, the target encoding undone."""
        raw = self._raw_output(X)
        return self._target_encoder.inverse_transform(raw)

    def _process_target(self, y, reset=False):
        _known_target_type(y)
        if reset:
            self._target_encoder = TargetReshaper().fit(y)
        return self._target_encoder.transform(y)


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """A classifier: labels of any type are one-hot encoded (one column per class in classes_, the
    sorted labels), and predict maps the model's argmax back to a label.  Binary and multiclass
    targets only."""

    def decision_function(self, X):
        """The model's raw output (probabilities or logits, one column per class)."""
        return self._raw_output(X)

    def _process_target(self, y, reset=False):
        kind = _known_target_type(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError("Only binary and multiclass target types are supported. Target type: %s" % kind)
        if reset:
            self._target_encoder = make_pipeline(TargetReshaper(), OneHotEncoder(sparse_output=False)).fit(y)
            self.classes_ = np.unique(y)
            if len(self.classes_) == 1:
                raise ValueError("Classifier can't train when only one class is present.")
        return self._target_encoder.transform(y)

    def _more_tags(self):
        return {"poor_score": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags


class SKLearnRegressor(RegressorMixin, SKLBase):
    """A regressor; score is R^2, as scikit-learn's."""

    def _more_tags(self):
        return {"poor_score": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


class SKLearnTransformer(TransformerMixin, SKLBase):
    """A transformer in scikit-learn's sense: transform(X) is the fitted model's output (an
    embedding, say), for a Pipeline step."""

    def transform(self, X):
        """The model's output for X."""
        return self._raw_output(X)

    def _more_tags(self):
        return {"preserves_dtype": []}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags
