"""scikit-learn wrappers (mlcore.wrappers.KerasClassifier / KerasRegressor)."""
from mlcore.wrappers.sklearn import KerasClassifier, KerasRegressor  # noqa: F401
