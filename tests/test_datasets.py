"""Bundled data: the Sonar set with its licence, and the ImageNet class index."""

import hashlib
import json
from importlib import resources

import numpy as np
import pytest

from mlcore.datasets import sonar


def test_sonar_load_data():
    x, y = sonar.load_data()
    assert x.shape == (208, 60) and x.dtype == np.float64
    assert y.shape == (208,) and set(y) == {"R", "M"}
    assert (y == "R").sum() == 97 and (y == "M").sum() == 111
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_allclose(x[0, :3], [0.0200, 0.0371, 0.0428])
    assert y[0] == "R" and y[-1] == "M"


def test_sonar_labels_encode_as_in_the_keras_tutorials():
    LabelEncoder = pytest.importorskip("sklearn.preprocessing").LabelEncoder

    _, y = sonar.load_data()
    encoded = LabelEncoder().fit(y).transform(y)
    assert list(np.unique(encoded)) == [0, 1]
    assert (encoded == 1).sum() == 97  # classes sort as ["M", "R"]


def test_sonar_licence_and_description_are_bundled():
    data = resources.files("mlcore.datasets").joinpath("data")
    licence = data.joinpath("SONAR_LICENSE.txt").read_text()
    assert "Gorman" in licence and "Sejnowski" in licence and "CC BY 4.0" in licence
    assert "UCI Machine Learning Repository" in licence
    assert "Gorman and Sejnowski" in data.joinpath("sonar.names").read_text()


def test_imagenet_class_index_is_keras_file():
    path = resources.files("mlcore.applications").joinpath("data/imagenet_class_index.json")
    raw = path.read_bytes()
    assert hashlib.md5(raw).hexdigest() == "c2c37ea517e94d9795004a39431a14cb"
    index = json.loads(raw)
    assert len(index) == 1000 and index["0"] == ["n01440764", "tench"]
