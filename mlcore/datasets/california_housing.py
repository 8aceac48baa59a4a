"""California housing prices (StatLib; 1990 US census), as keras.datasets.california_housing:
20,640 block groups, 8 features (MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup,
Latitude, Longitude) and the median house value in dollars."""

from mlcore.datasets.splits import check_test_split, load_regression
from mlcore.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz"
FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"  # sha256
VERSIONS = {"small": 600, "large": None}  # rows kept: the small version stands in for boston_housing


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """`(x_train, y_train), (x_test, y_test)`: float rows (n, 8) and targets (n,) of all rows
    ("large") or the first 600 ("small"), shuffled with `seed`, the last `test_split` the test set."""
    check_test_split("california_housing.load_data", test_split)
    if version not in VERSIONS:
        raise ValueError("california_housing.load_data: argument `version` must be one of "
                         f"'small', 'large'. Received: version={version}")
    path = get_file(path, origin=ORIGIN, file_hash=FILE_HASH)
    return load_regression(path, test_split, seed, rows=VERSIONS[version])
