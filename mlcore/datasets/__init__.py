"""Data sets, as keras.datasets.

The UCI Sonar set is shipped inside mlcore and never downloads:
`from mlcore.datasets import sonar; x, y = sonar.load_data()`. The others are Keras's files,
fetched on first use by mlcore.utils.get_file (cached in ~/.mlcore/datasets, or found in
Keras's ~/.keras/datasets) and read without running code from them:
`(x_train, y_train), (x_test, y_test) = mlcore.datasets.mnist.load_data()`.
"""

from mlcore.datasets import (boston_housing, california_housing, cifar10, cifar100, fashion_mnist,
                             imdb, mnist, reuters, sonar)

__all__ = ["boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist", "imdb",
           "mnist", "reuters", "sonar"]
