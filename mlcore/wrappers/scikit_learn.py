"""keras.wrappers.scikit_learn, the module Keras 2 code imports its wrappers from
(`from keras.wrappers.scikit_learn import KerasClassifier`, as in the Sonar article)."""
from mlcore.wrappers.sklearn import BaseWrapper, KerasClassifier, KerasRegressor  # noqa: F401
