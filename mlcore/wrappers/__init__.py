"""scikit-learn wrappers: Keras 2's KerasClassifier / KerasRegressor and Keras 3's SKLearnClassifier /
SKLearnRegressor / SKLearnTransformer."""
from mlcore.wrappers.sklearn import KerasClassifier, KerasRegressor  # noqa: F401
from mlcore.wrappers.sklearn_keras3 import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer  # noqa: F401
