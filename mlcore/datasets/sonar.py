"""The UCI Sonar data set (Gorman and Sejnowski 1988): 208 sonar returns, rock or mine.

Bundled under CC BY 4.0; see data/SONAR_LICENSE.txt and data/sonar.names. The labels
are kept as the letters of the CSV so that code written for the raw file, such as
encoding them with scikit-learn's LabelEncoder, works unchanged.
"""

from importlib import resources

import numpy as np

NUM_FEATURES = 60


def load_data():
    """Return `(x, y)`: x, float64 of shape (208, 60) with values in [0, 1]; y, str of
    shape (208,) with "R" (rock, 97 rows) or "M" (mine, 111 rows), in the file's order
    (all rocks first, so shuffle before splitting)."""
    with resources.files(__package__).joinpath("data/sonar.csv").open("r") as f:
        table = np.loadtxt(f, delimiter=",", dtype=str)
    return table[:, :NUM_FEATURES].astype("float64"), np.array(table[:, NUM_FEATURES].tolist())
