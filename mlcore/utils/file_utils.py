"""get_file: Keras's download-once cache, made safe to interrupt and easy to bypass.

Files live in $MLCORE_HOME (default ~/.mlcore)/<cache_subdir>/. A copy already in
Keras's own cache ($KERAS_HOME or ~/.keras) is used as is, so weights people already
downloaded for Keras are not fetched again. A download goes to a temporary file beside
its target, is hashed while it streams, and only a verified file is moved into place,
so an interrupted or corrupted download never leaves a file that looks complete.
"""

import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile

_CHUNK = 1 << 16
_TIMEOUT_S = 60  # per socket operation: a stalled server fails instead of hanging


def cache_root():
    """mlcore's cache folder: $MLCORE_HOME, else ~/.mlcore."""
    return os.path.expanduser(os.environ.get("MLCORE_HOME") or os.path.join("~", ".mlcore"))


def _keras_root():
    return os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras"))


def resolve_hasher(algorithm, file_hash=None):
    """A hashlib object: sha256 when asked or when "auto" sees a 64-digit hash, else md5."""
    if algorithm == "sha256" or (algorithm == "auto" and file_hash and len(file_hash) == 64):
        return hashlib.sha256()
    return hashlib.md5()


def hash_file(fpath, algorithm="sha256", chunk_size=65535):
    """Hex digest of a file, read in chunks so large weight files need little memory."""
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535):
    """Whether the file's sha256 or md5 digest equals `file_hash`."""
    hasher = resolve_hasher(algorithm, file_hash)
    return hash_file(fpath, hasher, chunk_size) == str(file_hash).lower()


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """Return the local path of `fname`, downloading it from `origin` if it isn't cached.

    Arguments and defaults are Keras's. `cache_subdir` may be absolute. With `file_hash`
    (or the older `md5_hash`) a cached file must match it and a download is checked
    against it (ValueError on mismatch, nothing left behind). With `extract` (or the
    older `untar`) the archive is unpacked once and the folder's path is returned.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    provided_fname = bool(fname)
    fname = os.fspath(fname) if fname else os.path.basename(urllib.parse.urlsplit(origin).path)
    if not fname:
        raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'. "
                         "Please specify the `fname` argument.")
    if os.sep in fname:
        raise ValueError("Paths are not accepted as the `fname` argument. To choose the "
                         f"file's folder, use `cache_dir`. Received: fname={fname}")
    unpack = untar or extract
    archive_name, extract_name = fname, None
    if unpack:  # Keras 3's names for the archive and the folder it is unpacked into
        if provided_fname and "." in fname:
            extract_name = fname[:fname.find(".")] + "_extracted"
        else:
            archive_name, extract_name = fname + "_archive", fname

    root = os.path.expanduser(cache_dir) if cache_dir else cache_root()
    target = os.path.join(root, cache_subdir, archive_name)
    # Where downloads go when `root` is read-only (as Keras falls back to /tmp/.keras).
    fallback = os.path.join(tempfile.gettempdir(), ".mlcore", cache_subdir, archive_name)
    candidates = [target, fallback]
    if cache_dir is None:  # only the default location also looks in Keras's cache
        candidates.insert(1, os.path.join(_keras_root(), cache_subdir, archive_name))
    found = None if force_download else _find_cached(candidates, file_hash, hash_algorithm)
    downloaded = found is None
    if downloaded:
        target = _writable(target, fallback)
        _download(origin, target, file_hash, hash_algorithm)
        found = target
    if not unpack:
        return found
    extraction_dir = os.path.join(os.path.dirname(target), extract_name)
    if os.path.isdir(extraction_dir) and not downloaded:
        return extraction_dir
    return _extract(found, extraction_dir, "tar" if untar else archive_format)


def _find_cached(candidates, file_hash, algorithm):
    """The first existing candidate that matches the hash (any, when no hash is given)."""
    for i, path in enumerate(candidates):
        if not os.path.isfile(path):
            continue
        if file_hash is None or validate_file(path, file_hash, algorithm):
            return path
        if i == 0:
            name = resolve_hasher(algorithm, file_hash).name
            print(f"A local file was found at {path}, but its {name} hash does not "
                  f"match {file_hash}; it seems incomplete or outdated, so it will be "
                  "downloaded again.", file=sys.stderr)
    return None


def _writable(target, fallback):
    """`target` when its folder can be made and written to, else `fallback`."""
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.access(os.path.dirname(target), os.W_OK):
            return target
    except OSError:
        pass
    os.makedirs(os.path.dirname(fallback), exist_ok=True)
    return fallback


def _download(origin, target, file_hash, algorithm):
    """Stream `origin` into a temp file beside `target`, verify it, then move it into place."""
    print(f"Downloading data from {origin}", file=sys.stderr)
    hasher = resolve_hasher(algorithm, file_hash)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(target) + ".", suffix=".part",
                               dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                _stream(origin, out, hasher)
            except (OSError, ValueError, http.client.HTTPException) as e:
                reason = e if isinstance(e, urllib.error.HTTPError) else getattr(e, "reason", e)
                raise OSError(
                    f"URL fetch failure on {origin}: {reason}. To install the file by hand, "
                    f"download it and save it as {target}"
                    + (f" (its {hasher.name} hash is {file_hash})" if file_hash else "")
                ) from e
        if file_hash is not None:
            actual = hasher.hexdigest()
            if actual != str(file_hash).lower():
                raise ValueError(
                    f"Incomplete or corrupted file detected: {os.path.basename(target)} from "
                    f"{origin} has {hasher.name} hash {actual}, expected {file_hash}.")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _stream(origin, out, hasher):
    """Copy the response body to `out`, hashing it and drawing a progress line."""
    with urllib.request.urlopen(origin, timeout=_TIMEOUT_S) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        progress = _Progress(total)
        done = 0
        for chunk in iter(lambda: response.read(_CHUNK), b""):
            out.write(chunk)
            hasher.update(chunk)
            done += len(chunk)
            progress.update(done)
        progress.finish(done)
    if total is not None and done != total:
        raise OSError(f"connection closed after {done} of {total} bytes")


class _Progress:
    """One stderr line: bytes done / total, percent, speed; redrawn at most 10 times a
    second on a terminal, written once at the end otherwise (logs stay readable)."""

    def __init__(self, total):
        self.total = total
        self.start = self.last = time.monotonic()
        self.live = sys.stderr.isatty()

    def _line(self, done):
        speed = done / max(time.monotonic() - self.start, 1e-9)
        if self.total:
            return (f"{_mib(done)}/{_mib(self.total)}  {100 * done / self.total:3.0f}%  "
                    f"{_mib(speed)}/s")
        return f"{_mib(done)}  {_mib(speed)}/s"

    def update(self, done):
        now = time.monotonic()
        if self.live and now - self.last >= 0.1:
            self.last = now
            sys.stderr.write("\r" + self._line(done))
            sys.stderr.flush()

    def finish(self, done):
        sys.stderr.write(("\r" if self.live else "") + self._line(done) + "\n")
        sys.stderr.flush()


def _mib(n):
    return f"{n / 2**20:.1f} MiB"


def _extract(archive, extraction_dir, archive_format):
    """Unpack a tar or zip archive into `extraction_dir`, atomically: it is unpacked into a
    temporary folder that is renamed only when complete. Returns `extraction_dir`."""
    formats = ["tar", "zip"] if archive_format == "auto" else archive_format or []
    formats = [formats] if isinstance(formats, str) else formats
    for fmt in formats:
        if fmt == "tar" and tarfile.is_tarfile(archive):
            opener = tarfile.open
        elif fmt == "zip" and zipfile.is_zipfile(archive):
            opener = zipfile.ZipFile
        elif fmt in ("tar", "zip"):
            continue
        else:
            raise NotImplementedError(fmt)
        parent = os.path.dirname(extraction_dir)
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=os.path.basename(extraction_dir) + ".", dir=parent)
        try:
            with opener(archive) as a:
                if fmt == "zip":  # zipfile already strips absolute paths and ".." parts
                    a.extractall(tmp)
                elif hasattr(tarfile, "data_filter"):  # refuses paths outside `tmp`, links
                    a.extractall(tmp, filter="data")
                else:  # Python < 3.10.12 / 3.11.4: keep what the "data" filter keeps
                    a.extractall(tmp, members=_plain_members(a))
            if os.path.isdir(extraction_dir):
                shutil.rmtree(extraction_dir)
            os.replace(tmp, extraction_dir)
        finally:
            if os.path.isdir(tmp):
                shutil.rmtree(tmp)
        return extraction_dir
    warnings.warn("Could not extract archive.", stacklevel=3)
    return extraction_dir


def _plain_members(tar):
    """Files and folders whose relative paths stay inside the extraction folder."""
    return [m for m in tar if (m.isfile() or m.isdir()) and not os.path.isabs(m.name)
            and ".." not in m.name.replace("\\", "/").split("/")]
