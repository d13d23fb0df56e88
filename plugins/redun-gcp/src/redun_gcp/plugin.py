"""Entry point of redun-gcp (group `redun`): the ``gs://`` filesystem and ``gcp_batch``.

Targets are dotted strings: the google SDKs (seconds to import) load only
when a gs:// URL or a ``type = gcp_batch`` executor is first used.
"""

from __future__ import annotations

from redun.plugins import FileSystemSpec, hookimpl


@hookimpl
def redun_filesystems() -> list[FileSystemSpec]:
    return [FileSystemSpec(("gs",), "redun_gcp.gcs:GSFileSystem", "Google Cloud Storage")]
