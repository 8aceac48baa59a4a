"""MNIST handwritten digits, as keras.datasets.mnist: Keras's own npz file, fetched once.

Yann LeCun and Corinna Cortes hold the copyright of MNIST (a derivative of NIST's data),
made available under CC BY-SA 3.0.
"""

import numpy as np

from mlcore.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # sha256


def load_data(path="mnist.npz"):
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (60000, 28, 28) and (10000, 28, 28)
    with values 0-255, uint8 digit labels (60000,) and (10000,). `path` is the file's name in
    the cache (~/.mlcore/datasets, or Keras's ~/.keras/datasets when it is already there)."""
    path = get_file(fname=path, origin=ORIGIN, file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
