"""Fashion-MNIST (Zalando SE, MIT licence), as keras.datasets.fashion_mnist: the four gzipped
idx files, fetched once into the cache's datasets/fashion-mnist folder.

Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
8 Bag, 9 Ankle boot.
"""

import gzip
import os
import struct

import numpy as np

from mlcore.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILES = ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]


def load_data():
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (60000, 28, 28) and (10000, 28, 28),
    uint8 labels (60000,) and (10000,)."""
    dirname = os.path.join("datasets", "fashion-mnist")
    paths = [get_file(fname, origin=ORIGIN_FOLDER + fname, cache_subdir=dirname) for fname in FILES]
    y_train, x_train, y_test, x_test = (_read_idx(p, ndim) for p, ndim in zip(paths, (1, 3, 1, 3)))
    return (x_train, y_train), (x_test, y_test)


def _read_idx(path, ndim):
    """The uint8 array of a gzipped idx file: a magic number 0x800 + ndim, then its sizes."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    offset = 4 * (ndim + 1)
    magic, *shape = struct.unpack(">%dI" % (ndim + 1), data[:offset]) if len(data) >= offset else (0,)
    if magic != 0x800 + ndim or len(data) != offset + int(np.prod(shape)):
        raise ValueError(f"fashion_mnist.load_data: {path} is not a {ndim}-d idx file of uint8 "
                         f"(header says magic {magic:#x}, shape {tuple(shape)}; {len(data)} bytes).")
    return np.frombuffer(data, np.uint8, offset=offset).reshape(shape)
