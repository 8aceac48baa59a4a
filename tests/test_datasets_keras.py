"""keras.datasets loaders against Keras 3's own, both reading the same synthetic files (written in
each original format) from a loopback server; and pickles that would run code being refused."""

import functools
import gzip
import hashlib
import http.server
import importlib
import io
import os
import pickle
import tarfile
import threading

import numpy as np
import pytest

from mlcore import config
from mlcore.datasets import (boston_housing, california_housing, cifar10, cifar100, fashion_mnist,
                             imdb, mnist, reuters)
from mlcore.datasets.cifar import load_batch
from mlcore.datasets.safe_files import load_npz


@pytest.fixture
def server(monkeypatch, tmp_path):
    """Serves the files written into a folder on 127.0.0.1 and records the requests; mlcore's and
    Keras's caches (and the home folder) point into tmp_path."""
    monkeypatch.setenv("MLCORE_HOME", str(tmp_path / "mlcore_home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    root, requests = tmp_path / "served", []
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # called once per request
            requests.append(self.path)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d/" % httpd.server_address[1], root, requests
    httpd.shutdown()
    httpd.server_close()


def put(root, files):
    for name, body in files.items():
        (root / name).write_bytes(body)


def serve(monkeypatch, server, module, files, origin="ORIGIN", file_hash="FILE_HASH"):
    """Serve `files` ({name: bytes}) and point `module`'s origin there, with the first file's hash."""
    url, root, _ = server
    put(root, files)
    name, body = next(iter(files.items()))
    monkeypatch.setattr(module, origin, url + name)
    monkeypatch.setattr(module, file_hash, hashlib.sha256(body).hexdigest())


def keras_datasets(keras, monkeypatch, server, tmp_path, name):
    """Keras's loader module `name`, its get_file sent to the loopback server (hash not checked:
    the files are synthetic) with its cache in tmp_path."""
    module = importlib.import_module("keras.src.datasets." + name)
    real, url, cache_dir = module.get_file, server[0], tmp_path / "keras_cache"
    cache_dir.mkdir(exist_ok=True)  # else Keras falls back to /tmp/.keras

    def get_file(fname=None, origin=None, file_hash=None, **kwargs):
        return real(fname, url + os.path.basename(origin), cache_dir=str(cache_dir), **kwargs)
    monkeypatch.setattr(module, "get_file", get_file)
    return module


def assert_same(ours, theirs):
    for a, b in zip([*ours[0], *ours[1]], [*theirs[0], *theirs[1]]):
        assert a.dtype == b.dtype and a.shape == b.shape
        if a.dtype == object:
            assert [list(s) for s in a] == [list(s) for s in b]
        else:
            assert np.array_equal(a, b)


def npz(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def ragged(rng, n, vocabulary=40):
    """An object array of n word-index lists of lengths 1..30, as IMDB's and Reuters's files."""
    out = np.empty(n, dtype=object)
    out[:] = [rng.integers(1, vocabulary, rng.integers(1, 30)).tolist() for _ in range(n)]
    return out


def tar_gz(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def cifar_batch(first, n, **labels):
    """A pickled CIFAR batch as the python version's: bytes keys, uint8 rows of 3072 pixels."""
    rows = (np.arange(3072) * 3 + np.arange(first, first + n)[:, None] * 5) % 256
    batch = {b"batch_label": b"batch", b"data": rows.astype(np.uint8),
             b"filenames": [b"img_%d.png" % i for i in range(first, first + n)]}
    batch.update({k.encode(): [(i * 7 + len(k)) % 100 for i in range(first, first + n)]
                  for k, v in labels.items()})
    return pickle.dumps(batch, protocol=4)


class RunsCode:
    """Pickles as a call to os.system: what a tampered data file would hold."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, ("touch " + str(self.marker),)


# --- images ---------------------------------------------------------------------------------------
def test_mnist_matches_keras_and_is_cached(keras, monkeypatch, server, tmp_path, rng):
    arrays = {"x_train": rng.integers(0, 256, (60, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, 60, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, 10, dtype=np.uint8)}
    serve(monkeypatch, server, mnist, {"mnist.npz": npz(**arrays)})
    ours = mnist.load_data()
    assert_same(ours, keras_datasets(keras, monkeypatch, server, tmp_path, "mnist").load_data())
    (x_train, y_train), (x_test, y_test) = ours
    assert x_train.shape == (60, 28, 28) and x_train.dtype == np.uint8 and y_test.shape == (10,)
    assert np.array_equal(x_train, arrays["x_train"]) and np.array_equal(y_test, arrays["y_test"])
    assert os.path.isfile(tmp_path / "mlcore_home" / "datasets" / "mnist.npz")
    requests = server[2]
    mnist.load_data()
    assert requests.count("/mnist.npz") == 2                       # ours once, Keras's once


def test_mnist_found_in_keras_cache(monkeypatch, server, tmp_path):
    body = npz(x_train=np.zeros((2, 28, 28), np.uint8), y_train=np.zeros(2, np.uint8),
               x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.zeros(1, np.uint8))
    serve(monkeypatch, server, mnist, {"mnist.npz": body})
    (tmp_path / "keras_home" / "datasets").mkdir(parents=True)
    (tmp_path / "keras_home" / "datasets" / "mnist.npz").write_bytes(body)
    (x_train, _), _ = mnist.load_data()
    assert x_train.shape == (2, 28, 28) and server[2] == []


def idx_gz(array):
    header = np.array([0x800 + array.ndim, *array.shape], dtype=">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_matches_keras(keras, monkeypatch, server, tmp_path, rng):
    url, root, _ = server
    y_train, y_test = rng.integers(0, 10, 50), rng.integers(0, 10, 20)
    x_train, x_test = rng.integers(0, 256, (50, 28, 28)), rng.integers(0, 256, (20, 28, 28))
    put(root, dict(zip(fashion_mnist.FILES, map(idx_gz, (y_train, x_train, y_test, x_test)))))
    monkeypatch.setattr(fashion_mnist, "ORIGIN_FOLDER", url)
    ours = fashion_mnist.load_data()
    assert_same(ours, keras_datasets(keras, monkeypatch, server, tmp_path, "fashion_mnist").load_data())
    assert np.array_equal(ours[0][0], x_train) and ours[1][1].dtype == np.uint8
    assert os.path.isdir(tmp_path / "mlcore_home" / "datasets" / "fashion-mnist")


def test_fashion_mnist_bad_idx_file_names_it(monkeypatch, server, tmp_path):
    url, root, _ = server
    put(root, dict.fromkeys(fashion_mnist.FILES, gzip.compress(b"\0\0\x08\x01\0\0\0\x05abc")))
    monkeypatch.setattr(fashion_mnist, "ORIGIN_FOLDER", url)
    with pytest.raises(ValueError, match=r"fashion_mnist.load_data: .*train-labels-idx1-ubyte.gz.*\(5,\)"):
        fashion_mnist.load_data()


@pytest.fixture(scope="module")
def cifar10_tar():
    """The CIFAR-10 layout at full size (Keras fills 10,000 rows per batch): 5 + 1 batches."""
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    return tar_gz({"cifar-10-batches-py/" + name: cifar_batch(10000 * i, 10000, labels=True)
                   for i, name in enumerate(names)})


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_cifar10_matches_keras(keras, monkeypatch, server, tmp_path, cifar10_tar, data_format):
    serve(monkeypatch, server, cifar10, {"cifar-10-python.tar.gz": cifar10_tar})
    monkeypatch.setitem(config._overrides, "image_data_format", data_format)
    k_cifar10 = keras_datasets(keras, monkeypatch, server, tmp_path, "cifar10")
    monkeypatch.setattr(k_cifar10.backend, "image_data_format", lambda: data_format)
    ours = cifar10.load_data()
    assert_same(ours, k_cifar10.load_data())
    (x_train, y_train), (x_test, y_test) = ours
    image = (32, 32, 3) if data_format == "channels_last" else (3, 32, 32)
    assert x_train.shape == (50000, *image) and x_test.shape == (10000, *image)
    assert y_train.shape == (50000, 1) and y_train.dtype == x_train.dtype == np.uint8
    assert y_test[3, 0] == (60003 * 7 + 6) % 100


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_matches_keras(keras, monkeypatch, server, tmp_path, label_mode):
    tar = tar_gz({"cifar-100-python/train": cifar_batch(0, 30, fine_labels=1, coarse_labels=1),
                  "cifar-100-python/test": cifar_batch(30, 12, fine_labels=1, coarse_labels=1)})
    serve(monkeypatch, server, cifar100, {"cifar-100-python.tar.gz": tar})
    ours = cifar100.load_data(label_mode)
    theirs = keras_datasets(keras, monkeypatch, server, tmp_path, "cifar100").load_data(label_mode)
    assert_same(ours, theirs)
    assert ours[0][0].shape == (30, 32, 32, 3) and ours[1][1].shape == (12, 1)
    with pytest.raises(ValueError, match="cifar100.load_data: `label_mode`.*Received: label_mode=medium"):
        cifar100.load_data("medium")


def test_cifar_batch_of_wrong_shape_names_file(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": np.zeros((4, 100), np.uint8), b"labels": [0] * 4}))
    with pytest.raises(ValueError, match=r"data_batch_1 is not a CIFAR batch.*\(4, 100\)"):
        load_batch(str(path))


def test_pickle_that_runs_code_is_refused(monkeypatch, server, tmp_path):
    marker = tmp_path / "ran"
    evil = pickle.dumps({b"data": RunsCode(marker), b"labels": []}, protocol=2)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    tar = tar_gz({"cifar-10-batches-py/" + name: evil for name in names})
    serve(monkeypatch, server, cifar10, {"cifar-10-python.tar.gz": tar})
    with pytest.raises(pickle.UnpicklingError, match=r"Refusing to load `(posix|os)\.system` from .*data_batch_1"):
        cifar10.load_data()
    x = np.empty(2, dtype=object)
    x[:] = [[1, 2], RunsCode(marker)]
    serve(monkeypatch, server, imdb, {"imdb.npz": npz(x_train=x, y_train=np.zeros(2), x_test=x,
                                                      y_test=np.zeros(2))})
    with pytest.raises(pickle.UnpicklingError, match=r"system` from .*imdb.npz \(x_train.npy\)"):
        imdb.load_data()
    assert not marker.exists()


def test_safe_npz_reads_what_numpy_reads(tmp_path, rng):
    path = tmp_path / "a.npz"
    arrays = {"x": ragged(rng, 5), "y": rng.normal(size=(3, 4)).astype(np.float32)}
    np.savez(path, **arrays)
    got = load_npz(str(path))
    with np.load(path, allow_pickle=True) as expected:
        assert got.keys() == expected.keys()
        assert [list(s) for s in got["x"]] == [list(s) for s in expected["x"]]
        assert got["y"].dtype == np.float32 and np.array_equal(got["y"], expected["y"])


# --- text -----------------------------------------------------------------------------------------
SEQUENCE_ARGS = [{}, {"num_words": 20}, {"num_words": 20, "skip_top": 5}, {"maxlen": 15},
                 {"seed": 7, "oov_char": None, "num_words": 25}, {"start_char": None, "index_from": 0},
                 {"start_char": None, "index_from": 3, "skip_top": 6}]


@pytest.fixture
def imdb_files(monkeypatch, server, rng):
    serve(monkeypatch, server, imdb, {"imdb.npz": npz(x_train=ragged(rng, 40), y_train=rng.integers(0, 2, 40),
                                                      x_test=ragged(rng, 30), y_test=rng.integers(0, 2, 30))})
    index = b'{"the": 1, "and": 2, "film": 3}'
    serve(monkeypatch, server, imdb, {"imdb_word_index.json": index}, "WORD_INDEX_ORIGIN", "WORD_INDEX_HASH")


@pytest.mark.parametrize("kwargs", SEQUENCE_ARGS)
def test_imdb_matches_keras(keras, monkeypatch, server, tmp_path, imdb_files, kwargs):
    ours = imdb.load_data(**kwargs)
    assert_same(ours, keras_datasets(keras, monkeypatch, server, tmp_path, "imdb").load_data(**kwargs))
    (x_train, y_train), (x_test, _) = ours
    assert x_train.dtype == object and len(x_train) == len(y_train)
    if "num_words" in kwargs:
        assert max(max(s) for s in [*x_train, *x_test]) < kwargs["num_words"]
    if "maxlen" in kwargs:
        assert 0 < len(x_train) < 40 and max(map(len, x_train)) < kwargs["maxlen"]


def test_imdb_shifts_indices_and_shuffles_with_seed(imdb_files):
    (x_train, y_train), _ = imdb.load_data(num_words=1000)     # as Keras, no num_words cuts the top index
    (raw_x, raw_y), _ = imdb.load_data(start_char=None, index_from=0, num_words=1000)
    assert all(s[0] == 1 and list(s[1:]) == [w + 3 for w in r] for s, r in zip(x_train, raw_x))
    assert np.array_equal(y_train, raw_y)
    (other, _), _ = imdb.load_data(num_words=1000, seed=114)
    assert [list(s) for s in other] != [list(s) for s in x_train]
    assert sorted(map(tuple, other)) == sorted(map(tuple, x_train))
    (cut, _), _ = imdb.load_data(num_words=10, skip_top=4)
    assert all(s[0] == 2 and all(w == 2 or 4 <= w < 10 for w in s) for s in cut)  # start 1 < 4: oov


def test_imdb_word_index_and_arguments(keras, monkeypatch, server, tmp_path, imdb_files):
    assert imdb.get_word_index() == {"the": 1, "and": 2, "film": 3}
    assert keras_datasets(keras, monkeypatch, server, tmp_path, "imdb").get_word_index() == imdb.get_word_index()
    with pytest.warns(UserWarning, match="nb_words"):
        old = imdb.load_data(nb_words=20)
    assert_same(old, imdb.load_data(num_words=20))
    with pytest.raises(TypeError, match="imdb.load_data: unrecognized keyword arguments.*num_word"):
        imdb.load_data(num_word=20)
    with pytest.raises(ValueError, match="imdb.load_data: .*maxlen=1, no sequence"):
        imdb.load_data(maxlen=1)


@pytest.mark.parametrize("kwargs", SEQUENCE_ARGS + [{"test_split": 0.5, "maxlen": 20}])
def test_reuters_matches_keras(keras, monkeypatch, server, tmp_path, rng, kwargs):
    serve(monkeypatch, server, reuters, {"reuters.npz": npz(x=ragged(rng, 50), y=rng.integers(0, 46, 50))})
    ours = reuters.load_data(**kwargs)
    k_reuters = keras_datasets(keras, monkeypatch, server, tmp_path, "reuters")
    assert_same(ours, k_reuters.load_data(**kwargs))
    assert len(ours[0][0]) == int(len(ours[0][0]) + len(ours[1][0])) * (1 - kwargs.get("test_split", 0.2)) // 1
    assert reuters.get_label_names() == k_reuters.get_label_names() and len(reuters.get_label_names()) == 46


def test_reuters_word_index(keras, monkeypatch, server, tmp_path):
    serve(monkeypatch, server, reuters, {"reuters_word_index.json": b'{"said": 1}'},
          "WORD_INDEX_ORIGIN", "WORD_INDEX_HASH")
    assert reuters.get_word_index() == {"said": 1}
    assert keras_datasets(keras, monkeypatch, server, tmp_path, "reuters").get_word_index() == {"said": 1}


# --- regression -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"test_split": 0.3, "seed": 1}, {"test_split": 0}])
def test_boston_housing_matches_keras(keras, monkeypatch, server, tmp_path, rng, kwargs):
    x, y = rng.normal(size=(51, 13)), rng.uniform(10, 50, 51)
    serve(monkeypatch, server, boston_housing, {"boston_housing.npz": npz(x=x, y=y)})
    ours = boston_housing.load_data(**kwargs)
    theirs = keras_datasets(keras, monkeypatch, server, tmp_path, "boston_housing").load_data(**kwargs)
    assert_same(ours, theirs)
    assert len(ours[0][0]) == int(51 * (1 - kwargs.get("test_split", 0.2)))
    assert sorted(np.concatenate([ours[0][1], ours[1][1]])) == sorted(y)


@pytest.mark.parametrize("version", ["large", "small"])
def test_california_housing_matches_keras(keras, monkeypatch, server, tmp_path, rng, version):
    x, y = rng.normal(size=(700, 8)).astype(np.float32), rng.uniform(1e4, 5e5, 700).astype(np.float32)
    serve(monkeypatch, server, california_housing, {"california_housing.npz": npz(x=x, y=y)})
    ours = california_housing.load_data(version)
    k_california = keras_datasets(keras, monkeypatch, server, tmp_path, "california_housing")
    assert_same(ours, k_california.load_data(version))
    assert len(ours[0][0]) + len(ours[1][0]) == (600 if version == "small" else 700)
    assert ours[0][0].dtype == np.float32 and ours[0][0].shape[1] == 8


def test_housing_argument_errors(server):
    with pytest.raises(ValueError, match="boston_housing.load_data: invalid `test_split` argument: 1"):
        boston_housing.load_data(test_split=1)
    with pytest.raises(ValueError, match="california_housing.load_data: .*version=medium"):
        california_housing.load_data("medium")
    assert server[2] == []                                         # nothing was downloaded


# --- downloads ------------------------------------------------------------------------------------
def test_offline_says_where_to_put_the_file(monkeypatch, server, tmp_path):
    monkeypatch.setattr(cifar10, "ORIGIN", "http://127.0.0.1:9/cifar-10-python.tar.gz")
    target = tmp_path / "mlcore_home" / "datasets" / "cifar-10-batches-py-target_archive"
    with pytest.raises(OSError, match=f"save it as {target}.*{cifar10.FILE_HASH}"):
        cifar10.load_data()


def test_corrupted_download_is_refused(monkeypatch, server, tmp_path):
    put(server[1], {"mnist.npz": b"not mnist"})
    monkeypatch.setattr(mnist, "ORIGIN", server[0] + "mnist.npz")
    with pytest.raises(ValueError, match="corrupted.*mnist.npz"):
        mnist.load_data()
    assert os.listdir(tmp_path / "mlcore_home" / "datasets") == []


def test_keras_origins_and_hashes():
    folder = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    assert (mnist.ORIGIN, imdb.ORIGIN, reuters.ORIGIN) == (folder + "mnist.npz", folder + "imdb.npz",
                                                           folder + "reuters.npz")
    assert cifar10.ORIGIN == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert cifar100.FILE_HASH == "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
    assert imdb.WORD_INDEX_HASH == "bfafd718b763782e994055a2d397834f"
