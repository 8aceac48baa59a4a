"""What CIFAR-10 and CIFAR-100 share: reading one pickled batch of the python version, safely."""

import numpy as np

from mlcore import config
from mlcore.datasets.safe_files import load_pickle


def load_batch(fpath, label_key="labels"):
    """`(data, labels)` of a batch file: uint8 images (n, 3, 32, 32) and a list of n labels."""
    batch = {k.decode("utf8"): v for k, v in load_pickle(fpath).items()}
    data, labels = batch.get("data"), batch.get(label_key)
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 \
            or labels is None or len(labels) != len(data):
        raise ValueError(f"{fpath} is not a CIFAR batch: expected 'data' of shape (n, 3072) and n "
                         f"'{label_key}', got data of shape {np.shape(data)} and "
                         f"{'no' if labels is None else len(labels)} labels.")
    return data.reshape(data.shape[0], 3, 32, 32), labels


def to_image_data_format(*images):
    """The (n, 3, 32, 32) arrays as mlcore's image_data_format wants them (channels last by default)."""
    if config.image_data_format() == "channels_last":
        return [x.transpose(0, 2, 3, 1) for x in images]
    return list(images)
