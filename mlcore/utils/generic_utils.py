"""Keras 2's module path keras.utils.generic_utils, kept so that `from mlcore.utils.generic_utils import
Progbar, CustomObjectScope, ...` imports.  Re-exports only.  serialize_keras_object and
deserialize_keras_object are Keras 2's (`{"class_name", "config"}` dicts, mlcore.utils.legacy), as this
module held them; Keras 3's are mlcore.utils'."""
from mlcore.saving.object_registration import (CustomObjectScope, custom_object_scope,  # noqa: F401
                                               get_custom_objects)
from mlcore.utils.legacy import deserialize_keras_object, serialize_keras_object  # noqa: F401
from mlcore.utils.progbar import Progbar  # noqa: F401
