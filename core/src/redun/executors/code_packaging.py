"""The workflow's source files as one content-addressed tarball in scratch.

A remote worker needs the user's modules, not just redun. The files matching
``code_includes`` (minus ``code_excludes``) relative to the current directory
are packed into ``<scratch>/code/<hash>.tar.gz``; the name is a hash of the
file names, modes and contents, so an unchanged workflow is uploaded once and
every job of every run reuses it. ``redun oneshot --code`` unpacks it.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
import os
import shlex
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from redun.executors import scratch
from redun.executors.base import ExecutorError
from redun.utils import str2bool

DEFAULT_INCLUDES = ("**/*.py",)


@dataclass(frozen=True)
class CodePackageConfig:
    """Which files form the code package; ``enabled=False`` ships no code."""

    enabled: bool = True
    includes: tuple[str, ...] = DEFAULT_INCLUDES
    excludes: tuple[str, ...] = ()


def parse_code_package_config(config: Mapping[str, str], section: str) -> CodePackageConfig:
    """Read ``code_package``, ``code_includes`` and ``code_excludes`` (shell-quoted globs)."""
    raw = str(config.get("code_package", "true"))
    try:
        enabled = str2bool(raw.strip())
    except ValueError:
        raise ExecutorError(
            f"[{section}] code_package = {raw!r} is not a boolean; use true or false"
        ) from None
    includes = tuple(shlex.split(config.get("code_includes", ""))) or DEFAULT_INCLUDES
    excludes = tuple(shlex.split(config.get("code_excludes", "")))
    return CodePackageConfig(enabled, includes, excludes)


def find_code_files(
    includes: Iterable[str] = DEFAULT_INCLUDES,
    excludes: Iterable[str] = (),
    root: str = ".",
) -> list[str]:
    """Regular files under `root` matching an include glob and no exclude glob, sorted."""

    def matches(patterns: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for pattern in patterns:
            for path in glob.glob(pattern, root_dir=root, recursive=True):
                found.add(os.path.normpath(path))
        return found

    excluded = matches(excludes)
    return sorted(
        path
        for path in matches(includes) - excluded
        if os.path.isfile(os.path.join(root, path)) and "__pycache__" not in path.split(os.sep)
    )


def create_tar(files: Iterable[str], root: str = ".") -> tuple[bytes, str]:
    """A reproducible gzipped tar of `files` and its content hash.

    Owners and the gzip timestamp are blanked, so the bytes depend only on
    names, modes, mtimes and contents; the hash covers names, modes and
    contents, so touching a file does not force a new upload.
    """
    digest = hashlib.sha512()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in files:
            full_path = os.path.join(root, path)
            info = tar.gettarinfo(full_path, arcname=path)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open(full_path, "rb") as infile:
                data = infile.read()
            digest.update(f"{path}\0{info.mode:o}\0{len(data)}\0".encode())
            digest.update(data)
            tar.addfile(info, io.BytesIO(data))
    compressed = gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)
    return compressed, digest.hexdigest()[:40]


def package_code(scratch_prefix: str, config: CodePackageConfig, root: str = ".") -> str | None:
    """Upload the code package (unless already there); its scratch path, or None if disabled."""
    if not config.enabled:
        return None
    files = find_code_files(config.includes, config.excludes, root)
    data, tar_hash = create_tar(files, root)
    path = scratch.get_code_scratch_file(scratch_prefix, tar_hash)
    if not scratch.exists(path):
        scratch.write_bytes(path, data)
    return path


def extract_tar(path: str, dest: str = ".") -> None:
    """Unpack a code package (any scratch filesystem) into `dest`."""
    data = scratch.read_bytes(path)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
            return
        # Pythons before 3.11.4 (Debian bookworm's 3.11.2) lack extraction filters.
        for member in tar.getmembers():
            name = os.path.normpath(member.name)
            if os.path.isabs(name) or name.startswith(".." + os.sep) or not member.isfile():
                raise scratch.ScratchError(f"Code package {path} has unsafe member {member.name!r}")
        tar.extractall(dest)
