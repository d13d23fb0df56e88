"""The local disk."""

from __future__ import annotations

import glob
import os
import shutil
from shlex import quote
from typing import IO, Any

from redun.file import FileSystem, get_filesystem, get_proto
from redun.hashing import hash_struct


class LocalFileSystem(FileSystem):
    """POSIX paths; writing a file creates its parent directories."""

    name = "local"

    def _ensure_dir(self, path: str) -> None:
        dirname = os.path.dirname(path)
        if dirname:
            os.makedirs(dirname, exist_ok=True)

    def _open(self, path: str, mode: str, **kwargs: Any) -> IO:
        if "w" in mode or "a" in mode:
            self._ensure_dir(path)
        return open(path, mode, **kwargs)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def remove(self, path: str) -> None:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass

    def touch(self, path: str, time: tuple[float, float] | None = None) -> None:
        if not self.exists(path):
            self.open(path, "w").close()
            if time is None:
                return
        os.utime(path, time)

    def mkdir(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def rmdir(self, path: str, recursive: bool = False) -> None:
        if not self.isdir(path):
            return
        if recursive:
            shutil.rmtree(path)
        else:
            os.rmdir(path)

    def get_hash(self, path: str) -> str:
        """Path, size and mtime: O(1), and changes whenever the file is rewritten."""
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return hash_struct(["File", "local", path, -1, "-1"])
        return hash_struct(["File", "local", path, stat.st_size, str(stat.st_mtime)])

    def copy(self, src_path: str, dest_path: str) -> None:
        if get_proto(src_path) == get_proto(dest_path) == "local":
            self._ensure_dir(dest_path)
            shutil.copyfile(src_path, dest_path)
        else:
            super().copy(src_path, dest_path)

    def shell_copy(
        self,
        src_path: str | None,
        dest_path: str | None,
        recursive: bool = False,
        as_mount: bool = False,
    ) -> str:
        schemes = {get_proto(path) for path in (src_path, dest_path) if path}
        if "local" not in schemes:
            return super().shell_copy(src_path, dest_path, recursive=recursive, as_mount=as_mount)
        other = next((scheme for scheme in schemes if scheme != "local"), None)
        if other:
            # The remote side knows its own copy tool (aws s3 cp, gsutil cp, ...).
            return get_filesystem(other).shell_copy(
                src_path, dest_path, recursive=recursive, as_mount=as_mount
            )
        if src_path and dest_path:
            flag = "-r " if recursive else ""
            return f"cp {flag}{quote(src_path)} {quote(dest_path)}"
        if recursive:
            raise ValueError("recursive copy needs a source and a destination path")
        if src_path:
            return f"cat {quote(src_path)}"
        assert dest_path, "schemes is non-empty, so one path is given"
        return f"cat > {quote(dest_path)}"

    def glob(self, pattern: str) -> list[str]:
        return glob.glob(pattern, recursive=True)

    def isfile(self, path: str) -> bool:
        return os.path.isfile(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def filesize(self, path: str) -> int:
        return os.stat(path).st_size
