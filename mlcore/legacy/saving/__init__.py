"""keras.legacy.saving: Keras 2's config format (see serialization)."""
from .serialization import deserialize_keras_object, serialize_keras_object  # noqa: F401
