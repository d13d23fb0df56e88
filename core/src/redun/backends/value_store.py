"""Large values kept outside the database, laid out like git objects."""

from __future__ import annotations

import os
from typing import Any


class ValueStore:
    """Value bytes at ``<root>/<hash[:2]>/<hash[2:]>`` on any redun filesystem.

    The database row of a stored value keeps empty bytes; an empty row plus a
    missing file means the value is unavailable (a cache miss, never an error).
    """

    def __init__(self, root_path: str, use_subdir: bool = True) -> None:
        self.root_path = root_path
        self.use_subdir = use_subdir

    def get_value_path(self, value_hash: str) -> str:
        suffix = f"{value_hash[:2]}/{value_hash[2:]}" if self.use_subdir else value_hash
        return os.path.join(self.root_path, suffix)

    def _file(self, value_hash: str) -> Any:
        from redun.file import File

        return File(self.get_value_path(value_hash))

    def has(self, value_hash: str) -> bool:
        return self._file(value_hash).exists()

    def put(self, value_hash: str, data: bytes) -> None:
        """Store `data` unless present: values are content-addressed, never rewritten."""
        file = self._file(value_hash)
        if file.exists():
            return
        with file.open("wb") as out:
            out.write(data)

    def get(self, value_hash: str) -> tuple[bytes, bool]:
        file = self._file(value_hash)
        try:
            with file.open("rb") as infile:
                return infile.read(), True
        except FileNotFoundError:
            return b"", False

    def size(self, value_hash: str) -> int:
        """Size in bytes, -1 when the value is missing."""
        file = self._file(value_hash)
        return file.size() if file.exists() else -1
