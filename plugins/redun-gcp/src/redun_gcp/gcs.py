"""The ``gs://`` filesystem, on google-cloud-storage directly.

Why not gcsfs: measured in ``bench/gcp/gcs_clients.py`` (README figures), the
direct client imports faster, makes fewer requests per File operation (one
metadata GET gives hash, size and existence) and adds no asyncio/aiohttp
layer; gcsfs is also what stalls 60 s per bucket here unless an experimental
flag is set before import.

Hash recipe: ``["File", "gs", path, md5 (or crc32c for composite objects),
generation]``. redun hashed gs files by path and size only (its fsspec
recipe), which misses a rewrite of equal size; the generation changes on
every write, the checksum ties the hash to the bytes.
"""

from __future__ import annotations

import errno
import io
import os
import shlex
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from google.api_core import exceptions as gexc
from google.cloud import storage
from redun.file import FileSystem, RedunFileNotFoundError, RedunOSError, RedunPermissionError
from redun.filesystems.http import _glob_regex
from redun.hashing import hash_struct

from redun_gcp.credentials import CredentialsError, storage_credentials
from redun_gcp.paths import mount_path, split_url

# Uploads over 8 MiB (the client's multipart limit) are resumable, in chunks this big.
CHUNK_SIZE = 16 * 1024 * 1024
MULTIPART_LIMIT = 8 * 1024 * 1024
SPOOL_IN_MEMORY = 8 * 1024 * 1024
_MAGIC = ("*", "?", "[")


class _Clients(threading.local):
    """One storage client per thread and process: clients hold an HTTP session."""

    pid = -1
    client: storage.Client | None = None


_clients = _Clients()


def get_client() -> storage.Client:
    if _clients.client is None or _clients.pid != os.getpid():
        credentials, project = storage_credentials()
        # project=None (not omitted) stops the client from looking a project up.
        _clients.client = storage.Client(project=project, credentials=credentials)
        _clients.pid = os.getpid()
    return _clients.client


def _bucket_missing(bucket: str) -> bool:
    try:
        return not get_client().bucket(bucket).exists()
    except gexc.GoogleAPIError:
        return False


def _not_found_message(path: str) -> str:
    bucket, _ = split_url(path)
    if _bucket_missing(bucket):
        return (
            f"bucket gs://{bucket} does not exist; create it "
            f"(gcloud storage buckets create gs://{bucket}) or fix the URL"
        )
    return "No such object"


@contextmanager
def _errors(path: str) -> Iterator[None]:
    """Google API errors as the OSErrors redun's File API raises, naming the path."""
    try:
        yield
    except gexc.NotFound:
        raise RedunFileNotFoundError(path, errno.ENOENT, _not_found_message(path)) from None
    except (gexc.Forbidden, gexc.Unauthorized) as error:
        message = getattr(error, "message", str(error))
        raise RedunPermissionError(
            path,
            errno.EACCES,
            f"GCS refused access ({error.code} {message}); check the credentials' "
            "roles on this bucket (roles/storage.objectAdmin to write)",
        ) from None
    except CredentialsError as error:
        raise RedunPermissionError(path, errno.EACCES, str(error)) from None
    except gexc.GoogleAPIError as error:
        raise RedunOSError(path, errno.EIO, f"GCS request failed: {error}") from None


def _object_hash(path: str, blob: Any) -> str:
    checksum = blob.md5_hash or f"crc32c:{blob.crc32c}"
    return hash_struct(["File", "gs", path, checksum, str(blob.generation)])


class _Upload(io.BufferedIOBase):
    """A write stream that uploads on close: one request when small, resumable when large."""

    def __init__(self, blob: Any, path: str, initial: bytes = b"") -> None:
        super().__init__()
        self._blob = blob
        self._path = path
        self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        self._spool.write(initial)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed gs:// stream")
        return self._spool.write(data)

    def close(self) -> None:
        if self.closed:
            return
        try:
            size = self._spool.tell()
            self._spool.seek(0)
            with _errors(self._path):
                self._blob.upload_from_file(self._spool, size=size)
        finally:
            self._spool.close()
            super().close()


class GSFileSystem(FileSystem):
    """Google Cloud Storage: objects are files, ``/``-separated name prefixes are directories."""

    name = "gs"

    def _blob(self, path: str, **kwargs: Any) -> Any:
        bucket, key = split_url(path)
        return get_client().bucket(bucket).blob(key, chunk_size=CHUNK_SIZE, **kwargs)

    def _stat(self, path: str) -> Any:
        """The object's metadata (one GET), or None if there is no such object."""
        bucket, key = split_url(path)
        if not key or key.endswith("/"):
            return None
        with _errors(path):
            return get_client().bucket(bucket).get_blob(key)

    def _list(self, path: str, max_results: int | None = None) -> Iterator[Any]:
        """Objects below a directory URL (every page)."""
        bucket, key = split_url(path)
        prefix = key.rstrip("/") + "/" if key.strip("/") else ""
        with _errors(path):
            yield from get_client().list_blobs(bucket, prefix=prefix, max_results=max_results)

    def _open(self, path: str, mode: str, **kwargs: Any) -> IO:
        binary = "b" in mode
        if "r" in mode and "+" not in mode:
            blob = self._stat(path)
            if blob is None:
                raise FileNotFoundError(errno.ENOENT, _not_found_message(path))
            # Pinned to the generation just read, so a concurrent rewrite cannot mix versions.
            reader = self._blob(path, generation=blob.generation).open("rb")
            return reader if binary else io.TextIOWrapper(reader, encoding="utf-8")
        if "+" in mode:
            raise ValueError(f"gs:// files cannot be opened for update (mode {mode!r})")
        initial = b""
        if "a" in mode and self._stat(path) is not None:
            with _errors(path):
                initial = self._blob(path).download_as_bytes()
        stream: IO = _Upload(self._blob(path), path, initial)  # type: ignore[assignment]
        return stream if binary else io.TextIOWrapper(stream, encoding="utf-8")  # type: ignore[arg-type]

    def exists(self, path: str) -> bool:
        return self._stat(path) is not None or self.isdir(path)

    def remove(self, path: str) -> None:
        try:
            with _errors(path):
                self._blob(path).delete()
        except FileNotFoundError:
            pass

    def mkdir(self, path: str) -> None:
        """Directories are implicit in GCS; only the bucket has to exist."""
        bucket, _ = split_url(path)
        with _errors(path):
            if not get_client().bucket(bucket).exists():
                raise FileNotFoundError(errno.ENOENT, _not_found_message(path))

    def rmdir(self, path: str, recursive: bool = False) -> None:
        blobs = list(self._list(path))
        if blobs and not recursive:
            raise RedunOSError(path, errno.ENOTEMPTY, "Directory not empty")
        for blob in blobs:
            with _errors(path):
                try:
                    blob.delete()
                except gexc.NotFound:
                    pass

    def get_hash(self, path: str) -> str:
        blob = self._stat(path)
        if blob is None:
            return hash_struct(["File", "gs", path, "", ""])
        return _object_hash(path, blob)

    def iter_file_hashes(self, path: str) -> Iterator[str]:
        """One listing gives every object's checksum and generation: no request per file."""
        bucket, _ = split_url(path)
        for blob in self._list(path):
            if not blob.name.endswith("/"):
                yield _object_hash(f"gs://{bucket}/{blob.name}", blob)

    def glob(self, pattern: str) -> list[str]:
        """Match `pattern` against one listing of the prefix before its first wildcard."""
        starts = [pattern.find(char) for char in _MAGIC if char in pattern]
        if not starts:
            return [pattern] if self.exists(pattern) else []
        bucket, key = split_url(pattern)
        fixed = pattern[: min(starts)]
        prefix = fixed[len(f"gs://{bucket}/") :] if len(fixed) > len(f"gs://{bucket}/") else ""
        regex = _glob_regex(pattern)
        candidates: set[str] = set()
        with _errors(pattern):
            for blob in get_client().list_blobs(bucket, prefix=prefix):
                name = blob.name.rstrip("/")
                parts = name.split("/")
                # Directories are the objects' name prefixes.
                for depth in range(1, len(parts)):
                    candidates.add(f"gs://{bucket}/" + "/".join(parts[:depth]))
                if not blob.name.endswith("/"):
                    candidates.add(f"gs://{bucket}/{name}")
        return sorted(url for url in candidates if regex.match(url))

    def isfile(self, path: str) -> bool:
        return self._stat(path) is not None

    def isdir(self, path: str) -> bool:
        bucket, key = split_url(path)
        if not key.strip("/"):
            with _errors(path):
                return get_client().bucket(bucket).exists()
        try:
            return next(self._list(path, max_results=1), None) is not None
        except FileNotFoundError:
            return False  # the bucket does not exist

    def filesize(self, path: str) -> int:
        blob = self._stat(path)
        if blob is None:
            raise RedunFileNotFoundError(path, errno.ENOENT, _not_found_message(path))
        return int(blob.size)

    def copy(self, src_path: str, dest_path: str) -> None:
        """Server side within GCS; resumable transfers to and from local disk."""
        src_gs = src_path.startswith("gs://")
        dest_gs = dest_path.startswith("gs://")
        if src_gs and dest_gs:
            source = self._blob(src_path)
            dest = self._blob(dest_path)
            with _errors(src_path):
                token, _, _ = dest.rewrite(source)
                while token is not None:
                    token, _, _ = dest.rewrite(source, token=token)
        elif dest_gs and "://" not in src_path:
            with _errors(dest_path):
                self._blob(dest_path).upload_from_filename(src_path)
        elif src_gs and "://" not in dest_path:
            os.makedirs(os.path.dirname(os.path.abspath(dest_path)), exist_ok=True)
            with _errors(src_path):
                self._blob(src_path).download_to_filename(dest_path)
        else:
            super().copy(src_path, dest_path)

    def shell_copy(
        self,
        src_path: str | None,
        dest_path: str | None,
        recursive: bool = False,
        as_mount: bool = False,
    ) -> str:
        """``redun fs cp`` (any image with redun has it); ``cp``/``cat`` on mounted buckets."""
        if as_mount:
            src = mount_path(src_path) if src_path and src_path.startswith("gs://") else src_path
            dest = (
                mount_path(dest_path) if dest_path and dest_path.startswith("gs://") else dest_path
            )
            if src and dest:
                flag = "-r " if recursive else ""
                parent = shlex.quote(os.path.dirname(dest) or ".")
                return f"mkdir -p {parent} && cp {flag}{shlex.quote(src)} {shlex.quote(dest)}"
            if src:
                return f"cat {shlex.quote(src)}"
            if dest:
                return f"cat > {shlex.quote(dest)}"
            raise ValueError("shell_copy needs a source or a destination path")
        if recursive:
            return super().shell_copy(src_path, dest_path, recursive=True)
        return f"redun fs cp {shlex.quote(src_path or '-')} {shlex.quote(dest_path or '-')}"
