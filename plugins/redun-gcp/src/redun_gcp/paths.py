"""gs:// URL helpers that import nothing from google (the plugin and the executor use them)."""

from __future__ import annotations

import re

# Where GCP Batch mounts a bucket named in a job's volumes (and redun looks for it).
MOUNT_ROOT = "/mnt/disks"
_GS_URL = re.compile(r"gs://([a-z0-9][a-z0-9._-]{1,221}[a-z0-9])(?=/|\b)")
_MOUNTED = re.compile(re.escape(MOUNT_ROOT) + r"/([a-z0-9][a-z0-9._-]{1,221}[a-z0-9])(?=/|\b)")


class GCSPathError(ValueError):
    """A string that should be a gs://bucket/key URL is not one."""


def split_url(url: str) -> tuple[str, str]:
    """``gs://bucket/a/b`` -> ``("bucket", "a/b")``; the key may be empty."""
    if not url.startswith("gs://"):
        raise GCSPathError(f"{url!r} is not a gs:// URL (expected gs://BUCKET/PATH)")
    bucket, _, key = url[len("gs://") :].partition("/")
    if not bucket:
        raise GCSPathError(f"{url!r} names no bucket (expected gs://BUCKET/PATH)")
    return bucket, key


def mount_path(url: str) -> str:
    """Where a gs:// URL appears inside a GCP Batch task that mounts its bucket."""
    bucket, key = split_url(url)
    return f"{MOUNT_ROOT}/{bucket}/{key}".rstrip("/")


def buckets_in(text: str) -> list[str]:
    """Buckets a script refers to, as gs:// URLs or as mounted paths, in first-seen order."""
    found: dict[str, None] = {}
    for pattern in (_GS_URL, _MOUNTED):
        for match in pattern.finditer(text):
            found.setdefault(match.group(1), None)
    return list(found)


def to_mount_paths(text: str) -> str:
    """Rewrite every gs://bucket/... in `text` to its mounted path."""
    return _GS_URL.sub(lambda match: f"{MOUNT_ROOT}/{match.group(1)}", text)
