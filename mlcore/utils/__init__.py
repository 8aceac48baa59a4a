"""Utilities, as keras.utils: get_file, to_categorical, set_random_seed, PyDataset (Sequence), image
helpers, and the custom-object registry (register_keras_serializable, custom_object_scope)."""
from mlcore.utils import numerical as np_utils  # noqa: F401  (Keras 1/2: np_utils.to_categorical)
from mlcore.utils.file_utils import get_file  # noqa: F401
from mlcore.utils.numerical import normalize, to_categorical  # noqa: F401
from mlcore.utils.py_dataset import PyDataset, Sequence  # noqa: F401
from mlcore.preprocessing.image_utils import array_to_img, img_to_array, load_img, save_img  # noqa: F401
from mlcore.saving.object_registration import (CustomObjectScope, custom_object_scope,  # noqa: F401
                                               get_custom_objects, get_registered_name, get_registered_object,
                                               register_keras_serializable)


def set_random_seed(seed):
    """Seed Python's, numpy's and mlcore's generators (weights, dropout, shuffling)."""
    from mlcore.utils.rng import set_random_seed as _set
    _set(seed)
