"""CIFAR-100 (Krizhevsky 2009), as keras.datasets.cifar100: 100 fine classes grouped into 20
coarse ones; the python version's tar.gz, fetched and unpacked once, read safely."""

import os

import numpy as np

from mlcore.datasets.cifar import load_batch, to_image_data_format
from mlcore.utils.file_utils import get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"  # sha256


def load_data(label_mode="fine"):
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (50000, 32, 32, 3) and
    (10000, 32, 32, 3), integer labels (50000, 1) and (10000, 1): the 100 "fine" classes or
    the 20 "coarse" ones."""
    if label_mode not in ["fine", "coarse"]:
        raise ValueError('cifar100.load_data: `label_mode` must be one of "fine", "coarse". '
                         f"Received: label_mode={label_mode}.")
    path = get_file(fname="cifar-100-python-target", origin=ORIGIN, extract=True,
                    file_hash=FILE_HASH)
    path = os.path.join(path, "cifar-100-python")
    (x_train, y_train), (x_test, y_test) = (
        load_batch(os.path.join(path, name), label_key=f"{label_mode}_labels")
        for name in ("train", "test"))
    x_train, x_test = to_image_data_format(x_train, x_test)
    return (x_train, np.reshape(y_train, (-1, 1))), (x_test, np.reshape(y_test, (-1, 1)))
