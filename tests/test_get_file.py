"""get_file against a loopback HTTP server: download, verify, cache, reuse Keras's cache."""

import hashlib
import http.server
import io
import os
import socket
import tarfile
import tempfile
import threading

import pytest

from mlcore.utils.file_utils import get_file, hash_file, validate_file

PAYLOAD = os.urandom(200_000)
MD5 = hashlib.md5(PAYLOAD).hexdigest()
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


def _tarball():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = b"hello"
        info = tarfile.TarInfo("inner/hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


FILES = {"/weights.h5": PAYLOAD, "/archive.tar.gz": _tarball()}


@pytest.fixture
def server():
    """A loopback server for FILES that records every request path."""
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            body = FILES.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def homes(tmp_path, monkeypatch):
    """Point mlcore's cache, the home directory (hence ~/.keras) and the temp dir (where
    get_file falls back when the cache is read-only) into tmp_path."""
    monkeypatch.setenv("MLCORE_HOME", str(tmp_path / "mlcore_home"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    return tmp_path


def test_downloads_verifies_and_caches(server, homes, capsys):
    url, requests = server
    path = get_file("weights.h5", url + "/weights.h5", md5_hash=MD5, cache_subdir="models")
    assert path == str(homes / "mlcore_home" / "models" / "weights.h5")
    with open(path, "rb") as f:
        assert f.read() == PAYLOAD
    err = capsys.readouterr().err
    assert "Downloading data from" in err and "100%" in err and "MiB/s" in err
    again = get_file("weights.h5", url + "/weights.h5", md5_hash=MD5, cache_subdir="models")
    assert again == path and requests == ["/weights.h5"]  # the second call made no request
    assert os.listdir(os.path.dirname(path)) == ["weights.h5"]  # no temporary left over


def test_name_from_url_sha256_and_default_subdir(server, homes):
    url, _ = server
    path = get_file(origin=url + "/weights.h5", file_hash=SHA256)
    assert path == str(homes / "mlcore_home" / "datasets" / "weights.h5")
    assert hash_file(path) == SHA256 and validate_file(path, MD5)


def test_bad_hash_raises_and_leaves_nothing(server, homes):
    url, _ = server
    with pytest.raises(ValueError) as err:
        get_file("weights.h5", url + "/weights.h5", file_hash="0" * 32)
    message = str(err.value)
    assert "weights.h5" in message and "0" * 32 in message and MD5 in message
    folder = homes / "mlcore_home" / "datasets"
    assert os.listdir(folder) == []


def test_stale_cached_file_is_downloaded_again(server, homes):
    url, requests = server
    folder = homes / "mlcore_home" / "models"
    folder.mkdir(parents=True)
    (folder / "weights.h5").write_bytes(b"truncated")
    path = get_file("weights.h5", url + "/weights.h5", file_hash=MD5, cache_subdir="models")
    assert open(path, "rb").read() == PAYLOAD and len(requests) == 1


def test_reuses_file_in_keras_cache(server, homes):
    url, requests = server
    keras_models = homes / "home" / ".keras" / "models"
    keras_models.mkdir(parents=True)
    (keras_models / "weights.h5").write_bytes(PAYLOAD)
    path = get_file("weights.h5", url + "/weights.h5", file_hash=MD5, cache_subdir="models")
    assert path == str(keras_models / "weights.h5") and requests == []
    (keras_models / "weights.h5").write_bytes(b"other file")  # wrong hash: not used
    path = get_file("weights.h5", url + "/weights.h5", file_hash=MD5, cache_subdir="models")
    assert path == str(homes / "mlcore_home" / "models" / "weights.h5") and len(requests) == 1


def test_unreachable_url_names_url_and_manual_path(homes):
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/weights.h5"
    with pytest.raises(OSError) as err:
        get_file("weights.h5", url, md5_hash=MD5, cache_subdir="models")
    message = str(err.value)
    assert url in message
    assert str(homes / "mlcore_home" / "models" / "weights.h5") in message
    assert MD5 in message
    assert os.listdir(homes / "mlcore_home" / "models") == []


def test_http_error_is_reported(server):
    url, _ = server
    with pytest.raises(OSError, match="404"):
        get_file("missing.bin", url + "/missing.bin")


def test_extracts_archive_once(server, homes):
    url, requests = server
    folder = get_file("archive.tar.gz", url + "/archive.tar.gz", extract=True)
    assert folder == str(homes / "mlcore_home" / "datasets" / "archive_extracted")
    with open(os.path.join(folder, "inner", "hello.txt"), "rb") as f:
        assert f.read() == b"hello"
    assert get_file("archive.tar.gz", url + "/archive.tar.gz", extract=True) == folder
    assert len(requests) == 1


def test_argument_errors():
    with pytest.raises(ValueError, match="origin"):
        get_file("x.bin")
    with pytest.raises(ValueError, match="fname"):
        get_file(os.path.join("a", "b.bin"), "http://127.0.0.1:1/b.bin")
