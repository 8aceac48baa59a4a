"""Boston housing prices (StatLib, Carnegie Mellon), as keras.datasets.boston_housing: 506 rows
of 13 attributes and the median home value in k$.

As Keras warns, one attribute ("B") encodes an assumption about race; use this set only to
illustrate ethical issues in data science, or prefer california_housing(version="small").
"""

from mlcore.datasets.splits import check_test_split, load_regression
from mlcore.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"  # sha256


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """`(x_train, y_train), (x_test, y_test)`: float rows (n, 13) and targets (n,), shuffled
    with `seed`, the last `test_split` of them the test set."""
    check_test_split("boston_housing.load_data", test_split)
    return load_regression(get_file(path, origin=ORIGIN, file_hash=FILE_HASH), test_split, seed)
