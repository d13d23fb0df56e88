"""The ``s3://`` filesystem, on boto3 alone.

Any S3-compatible store works: endpoint, region and credentials come from
boto3's standard chain (``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` for
MinIO, Ceph or a test server). A File's hash is redun's,
``["File", "s3", path, ETag]``, so Files that redun recorded on S3 stay cache
hits. Directories are key prefixes; ``mkdir`` leaves a ``dir/`` marker object
as the S3 console does, which listings skip. Script tasks stage S3 files with
``redun fs cp``, so images need no ``aws`` CLI.
"""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from shlex import quote
from typing import IO, Any

from boto3.s3.transfer import TransferConfig
from redun.file import FileSystem, get_proto, open_file
from redun.hashing import hash_struct

from redun_aws import aws

# Files above this size move in parallel parts (upload_file/download_file, copy).
TRANSFER_CONFIG = TransferConfig(multipart_threshold=16 * 1024 * 1024, max_concurrency=8)
SPOOL_BYTES = 16 * 1024 * 1024
DELETE_BATCH = 1000
NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}
DENIED_CODES = {"403", "AccessDenied", "AllAccessDisabled", "AccountProblem"}


def parse_s3_path(path: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key)."""
    if not path.startswith("s3://"):
        raise ValueError(f"Not an S3 URL: {path!r} (expected s3://bucket/key)")
    bucket, _, key = path[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"S3 URL without a bucket: {path!r}")
    return bucket, key


def s3_url(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def translate_error(error: BaseException, operation: str, bucket: str, key: str) -> Exception:
    """An OSError (with the path) or AWSError for a failed S3 call; never a bare botocore error."""
    path = s3_url(bucket, key)
    general = aws.describe_failure(error, f"S3 {operation} on {path}")
    if general:
        return aws.AWSError(general)
    code = aws.error_code(error)
    if code in NOT_FOUND_CODES:
        return FileNotFoundError(errno.ENOENT, "No such file or directory", path)
    if code == "NoSuchBucket":
        return FileNotFoundError(
            errno.ENOENT, f"S3 bucket {bucket!r} does not exist (create it or fix the URL)", path
        )
    if code in DENIED_CODES:
        return PermissionError(
            errno.EACCES,
            f"S3 denied {operation} on bucket {bucket!r}, key {key!r} "
            "(check the credentials' IAM permissions and the bucket policy)",
            path,
        )
    return OSError(errno.EIO, f"S3 {operation} failed: {aws.error_message(error)}", path)


def _call(operation: str, bucket: str, key: str, func: Any, **kwargs: Any) -> Any:
    try:
        return func(**kwargs)
    except Exception as error:
        if aws.is_client_error(error):
            raise translate_error(error, operation, bucket, key) from None
        raise


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """A glob over '/'-separated keys: ``*`` and ``?`` stay in one segment, ``**`` crosses them."""
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                out.append(re.escape(char))
                i += 1
                continue
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out) + r"\Z")


_WILDCARD = re.compile(r"[*?\[]")


class _Reader(io.RawIOBase):
    """A readable raw stream over an S3 object's body."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self.body.close()
        super().close()


class _Writer(io.RawIOBase):
    """Spools written bytes (to disk past SPOOL_BYTES) and uploads them on close."""

    def __init__(
        self, filesystem: S3FileSystem, bucket: str, key: str, initial: bytes = b""
    ) -> None:
        self.filesystem = filesystem
        self.bucket = bucket
        self.key = key
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        self.spool.write(initial)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self.spool.write(data)

    def close(self) -> None:
        if self.closed:
            return
        try:
            self.spool.seek(0)
            client = self.filesystem.client()
            _call(
                "PutObject",
                self.bucket,
                self.key,
                client.upload_fileobj,
                Fileobj=self.spool,
                Bucket=self.bucket,
                Key=self.key,
                Config=TRANSFER_CONFIG,
            )
        finally:
            self.spool.close()
            super().close()


class S3FileSystem(FileSystem):
    """Files and directories on Amazon S3 (or any S3-compatible store)."""

    name = "s3"

    def client(self) -> Any:
        return aws.client("s3")

    # -- objects -------------------------------------------------------------------

    def _head(self, path: str) -> dict | None:
        """The object's metadata, or None if there is no such object."""
        bucket, key = parse_s3_path(path)
        if not key or key.endswith("/"):
            return None
        try:
            return _call(
                "HeadObject", bucket, key, self.client().head_object, Bucket=bucket, Key=key
            )
        except FileNotFoundError:
            return None

    def _open(self, path: str, mode: str, **kwargs: Any) -> IO:
        bucket, key = parse_s3_path(path)
        binary = "b" in mode
        if "r" in mode and "+" not in mode:
            response = _call(
                "GetObject", bucket, key, self.client().get_object, Bucket=bucket, Key=key
            )
            stream: IO = io.BufferedReader(_Reader(response["Body"]), 1024 * 1024)
        elif "w" in mode or "a" in mode or "x" in mode:
            initial = b""
            if "x" in mode and self._head(path) is not None:
                raise FileExistsError(errno.EEXIST, "File exists", path)
            if "a" in mode and self._head(path) is not None:
                initial = _call(
                    "GetObject", bucket, key, self.client().get_object, Bucket=bucket, Key=key
                )["Body"].read()
            stream = io.BufferedWriter(_Writer(self, bucket, key, initial))
        else:
            raise ValueError(f"Unsupported mode {mode!r} for S3 file {path}")
        if binary:
            return stream
        return io.TextIOWrapper(stream, encoding=kwargs.get("encoding") or "utf-8")

    def exists(self, path: str) -> bool:
        return self.isfile(path) or self.isdir(path)

    def isfile(self, path: str) -> bool:
        return self._head(path) is not None

    def isdir(self, path: str) -> bool:
        bucket, key = parse_s3_path(path)
        client = self.client()
        if not key.strip("/"):
            try:
                _call("HeadBucket", bucket, "", client.head_bucket, Bucket=bucket)
            except FileNotFoundError:
                return False
            return True
        prefix = key.rstrip("/") + "/"
        try:
            response = _call(
                "ListObjectsV2",
                bucket,
                prefix,
                client.list_objects_v2,
                Bucket=bucket,
                Prefix=prefix,
                MaxKeys=1,
            )
        except FileNotFoundError:
            return False
        return response.get("KeyCount", 0) > 0

    def filesize(self, path: str) -> int:
        head = self._head(path)
        if head is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        return int(head["ContentLength"])

    def get_hash(self, path: str) -> str:
        head = self._head(path)
        etag = head["ETag"] if head is not None else ""
        return hash_struct(["File", "s3", path, etag])

    def remove(self, path: str) -> None:
        bucket, key = parse_s3_path(path)
        _call("DeleteObject", bucket, key, self.client().delete_object, Bucket=bucket, Key=key)

    def touch(self, path: str, time: tuple[float, float] | None = None) -> None:
        if time is not None:
            raise ValueError("S3 objects cannot be given modification times")
        bucket, key = parse_s3_path(path)
        client = self.client()
        if self._head(path) is None:
            _call("PutObject", bucket, key, client.put_object, Bucket=bucket, Key=key, Body=b"")
            return
        _call(
            "CopyObject",
            bucket,
            key,
            client.copy_object,
            Bucket=bucket,
            Key=key,
            CopySource={"Bucket": bucket, "Key": key},
            MetadataDirective="REPLACE",
        )

    # -- directories -------------------------------------------------------------------

    def _list(self, bucket: str, prefix: str, delimiter: str = "") -> Iterator[dict]:
        """Pages of list_objects_v2 under `prefix`."""
        paginator = self.client().get_paginator("list_objects_v2")
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        pages = _call("ListObjectsV2", bucket, prefix, paginator.paginate, **kwargs)
        try:
            yield from pages
        except Exception as error:
            if aws.is_client_error(error):
                raise translate_error(error, "ListObjectsV2", bucket, prefix) from None
            raise

    def _objects(self, bucket: str, prefix: str) -> Iterator[dict]:
        """Every object under `prefix` except directory markers."""
        for page in self._list(bucket, prefix):
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):
                    yield obj

    def mkdir(self, path: str) -> None:
        bucket, key = parse_s3_path(path)
        if not key.strip("/"):
            return
        marker = key.rstrip("/") + "/"
        client = self.client()
        _call("PutObject", bucket, marker, client.put_object, Bucket=bucket, Key=marker, Body=b"")

    def rmdir(self, path: str, recursive: bool = False) -> None:
        bucket, key = parse_s3_path(path)
        prefix = key.rstrip("/") + "/" if key.strip("/") else ""
        keys = [
            obj["Key"] for page in self._list(bucket, prefix) for obj in page.get("Contents", [])
        ]
        if not recursive and any(k != prefix for k in keys):
            raise OSError(errno.ENOTEMPTY, "Directory not empty", path)
        client = self.client()
        for start in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": k} for k in keys[start : start + DELETE_BATCH]]
            response = _call(
                "DeleteObjects",
                bucket,
                prefix,
                client.delete_objects,
                Bucket=bucket,
                Delete={"Objects": batch, "Quiet": True},
            )
            if response.get("Errors"):
                first = response["Errors"][0]
                raise OSError(
                    errno.EIO,
                    f"S3 could not delete {first.get('Key')}: {first.get('Message')}",
                    path,
                )

    def iter_file_hashes(self, path: str) -> Iterator[str]:
        """One listing (pages of 1,000) instead of a HEAD per file."""
        bucket, key = parse_s3_path(path)
        prefix = key.rstrip("/") + "/" if key.strip("/") else ""
        for obj in self._objects(bucket, prefix):
            yield hash_struct(["File", "s3", s3_url(bucket, obj["Key"]), obj["ETag"]])

    def glob(self, pattern: str) -> list[str]:
        """Keys (and the directories they imply) matching `pattern`, sorted."""
        bucket, key_pattern = parse_s3_path(pattern)
        match = _WILDCARD.search(key_pattern)
        if match is None:
            return [pattern] if self.exists(pattern) else []
        literal = key_pattern[: match.start()]
        base = literal[: literal.rfind("/") + 1]
        rest = key_pattern[len(base) :]
        regex = glob_to_regex(key_pattern)
        one_level = "/" not in rest and "**" not in rest
        found: set[str] = set()
        for page in self._list(bucket, base, delimiter="/" if one_level else ""):
            for common in page.get("CommonPrefixes", []):
                found.add(common["Prefix"].rstrip("/"))
            for obj in page.get("Contents", []):
                obj_key = obj["Key"]
                if not obj_key.endswith("/"):
                    found.add(obj_key)
                # Every directory between base and the object is a match candidate.
                parts = obj_key[len(base) :].split("/")[:-1]
                for depth in range(1, len(parts) + 1):
                    found.add(base + "/".join(parts[:depth]))
        return sorted(s3_url(bucket, k) for k in found if k and regex.match(k))

    # -- copies ---------------------------------------------------------------------

    def copy(self, src_path: str, dest_path: str) -> None:
        """Server-side within S3; upload/download (multipart for big files) with local disk."""
        src_proto, dest_proto = get_proto(src_path), get_proto(dest_path)
        client = self.client()
        if src_proto == "s3" and dest_proto == "s3":
            src_bucket, src_key = parse_s3_path(src_path)
            bucket, key = parse_s3_path(dest_path)
            _call(
                "CopyObject",
                bucket,
                key,
                client.copy,
                CopySource={"Bucket": src_bucket, "Key": src_key},
                Bucket=bucket,
                Key=key,
                Config=TRANSFER_CONFIG,
            )
        elif src_proto == "local" and dest_proto == "s3":
            bucket, key = parse_s3_path(dest_path)
            if not os.path.exists(src_path):
                raise FileNotFoundError(errno.ENOENT, "No such file or directory", src_path)
            _call(
                "PutObject",
                bucket,
                key,
                client.upload_file,
                Filename=src_path,
                Bucket=bucket,
                Key=key,
                Config=TRANSFER_CONFIG,
            )
        elif src_proto == "s3" and dest_proto == "local":
            bucket, key = parse_s3_path(src_path)
            os.makedirs(os.path.dirname(os.path.abspath(dest_path)), exist_ok=True)
            _call(
                "GetObject",
                bucket,
                key,
                client.download_file,
                Bucket=bucket,
                Key=key,
                Filename=dest_path,
                Config=TRANSFER_CONFIG,
            )
        else:
            with open_file(src_path, "rb") as infile, open_file(dest_path, "wb") as outfile:
                shutil.copyfileobj(infile, outfile, 1024 * 1024)

    def shell_copy(
        self,
        src_path: str | None,
        dest_path: str | None,
        recursive: bool = False,
        as_mount: bool = False,
    ) -> str:
        """``redun fs cp`` (``-`` for stdin/stdout): needs only redun in the image."""
        if recursive and not (src_path and dest_path):
            raise ValueError("recursive copy needs a source and a destination path")
        flag = "--recursive " if recursive else ""
        src = quote(src_path) if src_path else "-"
        dest = quote(dest_path) if dest_path else "-"
        return f"redun fs cp {flag}{src} {dest}"
