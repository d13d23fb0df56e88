"""Builtin filesystems: the local disk and read-only HTTP(S)."""

from __future__ import annotations

from redun.plugins import FileSystemSpec, hookimpl


@hookimpl
def redun_filesystems() -> list[FileSystemSpec]:
    return [
        FileSystemSpec(("local",), "redun.filesystems.local:LocalFileSystem", "Local disk"),
        FileSystemSpec(
            ("http", "https"), "redun.filesystems.http:HTTPFileSystem", "Read-only HTTP(S)"
        ),
    ]
