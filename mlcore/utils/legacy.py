"""keras.utils.legacy: Keras 2's serialize_keras_object / deserialize_keras_object (mlcore.legacy.saving)."""
from mlcore.legacy.saving.serialization import deserialize_keras_object, serialize_keras_object  # noqa: F401
