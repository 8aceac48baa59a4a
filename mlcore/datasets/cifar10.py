"""CIFAR-10 (Krizhevsky 2009), as keras.datasets.cifar10: the python version's tar.gz, fetched
and unpacked once; its pickled batches are read without running code from them.

Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship, 9 truck.
"""

import os

import numpy as np

from mlcore.datasets.cifar import load_batch, to_image_data_format
from mlcore.utils.file_utils import get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"  # sha256


def load_data():
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (50000, 32, 32, 3) and
    (10000, 32, 32, 3) (channels first under that image_data_format), uint8 labels (50000, 1)
    and (10000, 1)."""
    path = get_file(fname="cifar-10-batches-py-target", origin=ORIGIN, extract=True,
                    file_hash=FILE_HASH)
    path = os.path.join(path, "cifar-10-batches-py")
    train = [load_batch(os.path.join(path, f"data_batch_{i}")) for i in range(1, 6)]
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    x_train = np.concatenate([x for x, _ in train]).astype("uint8")
    y_train = np.array([y for _, labels in train for y in labels], dtype="uint8").reshape(-1, 1)
    x_train, x_test = to_image_data_format(x_train, x_test.astype("uint8"))
    return (x_train, y_train), (x_test, np.array(y_test, dtype="uint8").reshape(-1, 1))
