"""Files as values: File, Dir, FileSet and their staging, immutable and content families.

A File's hash stands for the file's state, so a cached result that names a
file is reused only while the file is unchanged. The storage behind a URL
scheme is a `FileSystem`; filesystems come from plugins (the local disk and
HTTP(S) are builtin plugins) and are looked up by scheme on first use.
"""

from __future__ import annotations

import abc
import io
import os
import re
import shutil
import sys
from collections.abc import Iterator
from shlex import quote
from typing import IO, Any, Generic, TypeVar, cast

from redun.compat import module_getattr
from redun.hashing import hash_stream, hash_struct
from redun.value import Value

T = TypeVar("T")

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+\-.]*):")

# Filesystems registered in code with @register_filesystem; they take
# precedence over plugins for their scheme.
_registered_classes: dict[str, type[FileSystem]] = {}
# One instance per scheme (and per class, so a class serving several schemes
# is instantiated once), valid for the plugin manager they were resolved with.
_instances_by_scheme: dict[str, FileSystem] = {}
_instances_by_class: dict[type, FileSystem] = {}
_instances_manager: Any = None


# -- scheme registry ---------------------------------------------------------------


def register_filesystem(cls: type[FileSystem]) -> type[FileSystem]:
    """Class decorator: serve URLs of scheme ``cls.name`` with `cls` in this process."""
    _registered_classes[cls.name] = cls
    _instances_by_scheme.pop(cls.name, None)
    return cls


def get_proto(url: str | None = None) -> str:
    """The URL scheme of `url` ("s3", "http", ...); plain paths are "local".

    Same rule as urllib.parse (a letter, then letters, digits, "+-.", then
    ":"), without importing it for every File.
    """
    if not url or ":" not in url:
        return "local"
    match = _SCHEME.match(url)
    return match.group(1).lower() if match else "local"


def _plugin_manager() -> Any:
    from redun.plugins.manager import get_plugin_manager

    return get_plugin_manager()


def get_filesystem_class(proto: str | None = None, url: str | None = None) -> type[FileSystem]:
    """The FileSystem class for a scheme or URL; missing plugins give an install hint."""
    if not proto:
        if not url:
            raise ValueError("get_filesystem_class needs a scheme (proto) or a url")
        proto = get_proto(url)
    cls = _registered_classes.get(proto)
    if cls is not None:
        return cls
    from redun.plugins.manager import get_filesystem_class as plugin_filesystem_class

    return plugin_filesystem_class(proto)


def get_filesystem(proto: str | None = None, url: str | None = None) -> FileSystem:
    """The shared FileSystem instance for a scheme or URL."""
    global _instances_manager
    if not proto:
        proto = get_proto(url)
    manager = _plugin_manager()
    if manager is not _instances_manager:
        # The plugin manager was replaced (tests, REDUN_DISABLED_PLUGINS): re-resolve.
        _instances_by_scheme.clear()
        _instances_by_class.clear()
        _instances_manager = manager
    filesystem = _instances_by_scheme.get(proto)
    if filesystem is None:
        cls = get_filesystem_class(proto=proto)
        filesystem = _instances_by_class.get(cls)
        if filesystem is None:
            filesystem = _instances_by_class[cls] = cls()
        _instances_by_scheme[proto] = filesystem
    return filesystem


def list_filesystem_schemes() -> list[str]:
    """Every URL scheme some installed filesystem serves (imports none of them)."""
    return sorted(set(_plugin_manager().filesystem_specs()) | set(_registered_classes))


def list_filesystems() -> list[type[FileSystem]]:
    """The FileSystem classes of every installed scheme (imports each of them)."""
    classes: list[type[FileSystem]] = []
    for scheme in list_filesystem_schemes():
        cls = get_filesystem_class(scheme)
        if cls not in classes:
            classes.append(cls)
    return classes


def open_file(url: str, mode: str = "r", encoding: str | None = None, **kwargs: Any) -> IO:
    return get_filesystem(url=url).open(url, mode=mode, encoding=encoding, **kwargs)


def glob_file(pattern: str) -> list[str]:
    return get_filesystem(url=pattern).glob(pattern)


def copy_file(src_path: str | None, dest_path: str | None, recursive: bool = False) -> None:
    """Copy between any two filesystems; None means stdin (source) or stdout (destination)."""
    if src_path is not None and dest_path is not None:
        if recursive:
            Dir(src_path).copy_to(Dir(dest_path))
        else:
            File(src_path).copy_to(File(dest_path))
        return
    if recursive:
        raise ValueError("recursive copy needs a source and a destination path, not stdin/stdout")
    infile = sys.stdin.buffer if src_path is None else open_file(src_path, "rb")
    outfile = sys.stdout.buffer if dest_path is None else open_file(dest_path, "wb")
    try:
        shutil.copyfileobj(infile, outfile)
    finally:
        if src_path is not None:
            infile.close()
        if dest_path is not None:
            outfile.close()
        else:
            outfile.flush()


# -- errors ------------------------------------------------------------------------


class _PathErrorMixin:
    """Adds the path to an OSError's message, which the builtin errors often lack."""

    path: str
    errno: int | None
    strerror: str | None

    def __str__(self) -> str:
        return f"[Errno {self.errno}] {self.strerror}. {self.path}"


class RedunFileNotFoundError(_PathErrorMixin, FileNotFoundError):
    def __init__(self, path: str, *args: Any) -> None:
        super().__init__(*args)
        self.path = path


class RedunPermissionError(_PathErrorMixin, PermissionError):
    def __init__(self, path: str, *args: Any) -> None:
        super().__init__(*args)
        self.path = path


class RedunOSError(_PathErrorMixin, OSError):
    def __init__(self, path: str, *args: Any) -> None:
        super().__init__(*args)
        self.path = path


# -- the FileSystem interface ----------------------------------------------------------


class FileSystem(abc.ABC):
    """Storage behind one or more URL schemes.

    Implement the abstract methods; `get_hash` must change whenever a file's
    content may have changed, and be cheap (redun calls it to validate every
    cached File). Check an implementation with
    `redun.testing.filesystem_conformance`.
    """

    name: str = "base"

    def open(self, path: str, mode: str, encoding: str | None = None, **kwargs: Any) -> IO:
        """Open a stream; errors carry the path (RedunFileNotFoundError, ...)."""
        if encoding:
            if "b" in mode:
                raise ValueError(f"Binary mode '{mode}' cannot be used with an encoding")
            mode += "b"
        try:
            stream = self._open(path, mode, **kwargs)
        except FileNotFoundError as error:
            raise RedunFileNotFoundError(path, *error.args) from error
        except PermissionError as error:
            raise RedunPermissionError(path, *error.args) from error
        except OSError as error:
            raise RedunOSError(path, *error.args) from error
        if encoding:
            stream = io.TextIOWrapper(stream, encoding)
        return stream

    @abc.abstractmethod
    def _open(self, path: str, mode: str, **kwargs: Any) -> IO:
        """Open a stream in `mode` ('r', 'w', 'a', with 'b' for bytes)."""

    @abc.abstractmethod
    def exists(self, path: str) -> bool: ...

    @abc.abstractmethod
    def remove(self, path: str) -> None:
        """Delete a file; deleting a missing file is not an error."""

    def touch(self, path: str, time: tuple[float, float] | None = None) -> None:
        """Create the file if needed; filesystems with settable times override this."""
        if time is not None:
            raise ValueError(f"The {self.name} filesystem cannot set file times")
        self.open(path, "a").close()

    @abc.abstractmethod
    def mkdir(self, path: str) -> None: ...

    @abc.abstractmethod
    def rmdir(self, path: str, recursive: bool = False) -> None:
        """Remove a directory (with its contents if `recursive`)."""

    @abc.abstractmethod
    def get_hash(self, path: str) -> str:
        """A cheap hash that changes when the file changes (size, mtime, ETag, ...)."""

    def iter_file_hashes(self, path: str) -> Iterator[str]:
        """Hashes of the files below a directory; override when a listing gives them."""
        for file_path in self.glob(os.path.join(path, "**")):
            if self.isfile(file_path):
                yield self.get_hash(file_path)

    def copy(self, src_path: str, dest_path: str) -> None:
        """Copy one file; the default streams bytes and so works across filesystems."""
        with open_file(src_path, "rb") as infile, open_file(dest_path, "wb") as outfile:
            shutil.copyfileobj(infile, outfile)

    def shell_copy(
        self,
        src_path: str | None,
        dest_path: str | None,
        recursive: bool = False,
        as_mount: bool = False,
    ) -> str:
        """A shell command copying src to dest (None: stdout/stdin), for script tasks."""
        if recursive:
            if not (src_path and dest_path):
                raise ValueError("recursive copy needs a source and a destination path")
            return f"redun fs cp --recursive {quote(src_path)} {quote(dest_path)}"
        src_cmd = (
            get_filesystem(url=src_path).shell_copy(src_path, None, as_mount=as_mount)
            if src_path
            else None
        )
        dest_cmd = (
            get_filesystem(url=dest_path).shell_copy(None, dest_path, as_mount=as_mount)
            if dest_path
            else None
        )
        if src_cmd and dest_cmd:
            return f"({src_cmd}) | ({dest_cmd})"
        if src_cmd or dest_cmd:
            return cast(str, src_cmd or dest_cmd)
        raise ValueError("shell_copy needs a source or a destination path")

    @abc.abstractmethod
    def glob(self, pattern: str) -> list[str]:
        """Paths matching `pattern`; ``**`` matches any number of directories."""

    @abc.abstractmethod
    def isfile(self, path: str) -> bool: ...

    @abc.abstractmethod
    def isdir(self, path: str) -> bool: ...

    @abc.abstractmethod
    def filesize(self, path: str) -> int: ...


# -- File families -------------------------------------------------------------------


class FileClasses:
    """The related classes of one family, so e.g. an IDir yields IFiles."""

    def __init__(
        self,
        file: type[File],
        file_set: type[FileSet],
        dir: type[Dir],
        staging_file: type[StagingFile],
        staging_dir: type[StagingDir],
    ) -> None:
        self.File = file
        self.FileSet = file_set
        self.Dir = dir
        self.StagingFile = staging_file
        self.StagingDir = staging_dir


_WRITE_MODE_CHARS = frozenset("wax+")


class File(Value):
    """A file at a path or URL, hashed by the state of the file.

    For a local file the hash covers path, size and modification time; a
    cached result holding a File is reused only while that hash still holds.
    """

    type_basename = "File"
    type_name = "redun.File"
    classes: FileClasses

    def __init__(self, path: str | os.PathLike) -> None:
        self.path: str = os.fspath(path)
        self._filesystem: FileSystem | None = None
        self._hash: str | None = None

    @property
    def filesystem(self) -> FileSystem:
        """Resolved on first use, so recorded Files of a scheme whose plugin is
        missing still load (and show) and fail only when touched."""
        if self._filesystem is None:
            self._filesystem = get_filesystem(url=self.path)
        return self._filesystem

    @filesystem.setter
    def filesystem(self, filesystem: FileSystem) -> None:
        self._filesystem = filesystem

    def __repr__(self) -> str:
        return f"{self.type_basename}(path={self.path}, hash={self.hash[:8]})"

    def __getstate__(self) -> dict:
        return {"path": self.path, "hash": self.hash}

    def __setstate__(self, state: dict) -> None:
        self.path = state["path"]
        self._hash = state["hash"]
        self._filesystem = None

    @property
    def hash(self) -> str:
        if not self._hash:
            self._hash = self._calc_hash()
        return self._hash

    def _calc_hash(self) -> str:
        return self.filesystem.get_hash(self.path)

    def get_hash(self, data: bytes | None = None) -> str:
        return self.hash

    def update_hash(self) -> None:
        self._hash = self._calc_hash()

    def exists(self) -> bool:
        return self.filesystem.exists(self.path)

    def remove(self) -> None:
        self.filesystem.remove(self.path)

    def open(self, mode: str = "r", encoding: str | None = None, **kwargs: Any) -> IO:
        """Open the file; closing a stream opened for writing re-hashes the file."""
        stream = self.filesystem.open(self.path, mode, encoding=encoding, **kwargs)
        if _WRITE_MODE_CHARS.isdisjoint(mode):
            return stream
        original_close = stream.close

        def close() -> None:
            original_close()
            # Put the original back first: closing twice must not re-hash.
            stream.close = original_close  # type: ignore[method-assign]
            self.update_hash()

        stream.close = close  # type: ignore[method-assign]
        return stream

    def touch(self, time: tuple[float, float] | None = None) -> None:
        self.filesystem.touch(self.path, time)
        self.update_hash()

    def read(self, mode: str = "r", encoding: str | None = None) -> str | bytes:
        with self.open(mode=mode, encoding=encoding) as infile:
            return infile.read()

    def readlines(self, mode: str = "r") -> list[str | bytes]:
        with self.open(mode=mode) as infile:
            return infile.readlines()

    def write(self, data: str | bytes, mode: str = "w", encoding: str | None = None) -> None:
        with self.open(mode=mode, encoding=encoding) as out:
            out.write(data)

    def copy_to(self, dest_file: File, skip_if_exists: bool = False) -> File:
        """Copy to `dest_file` (any filesystem) and return it, re-hashed."""
        if skip_if_exists and dest_file.exists():
            return dest_file
        if self.filesystem.name == "local" and dest_file.filesystem.name != "local":
            # The destination's filesystem knows its fast upload path.
            dest_file.filesystem.copy(self.path, dest_file.path)
        else:
            self.filesystem.copy(self.path, dest_file.path)
        dest_file.update_hash()
        return dest_file

    def shell_copy_to(self, dest_path: str | None, as_mount: bool = False) -> str:
        return self.filesystem.shell_copy(self.path, dest_path, as_mount=as_mount)

    def isfile(self) -> bool:
        return self.filesystem.isfile(self.path)

    def isdir(self) -> bool:
        return self.filesystem.isdir(self.path)

    def is_valid(self) -> bool:
        """True while the file is as it was when its hash was first taken."""
        if not self._hash:
            self.update_hash()
            return True
        return self._hash == self._calc_hash()

    def stage(self, local: str | None = None) -> StagingFile:
        """Pair this (remote) file with a local path; a trailing "/" keeps the basename."""
        if not local:
            local = os.path.basename(self.path)
        elif local.endswith("/"):
            local = os.path.join(local, os.path.basename(self.path))
        return self.classes.StagingFile(local, self)

    def basename(self) -> str:
        return os.path.basename(self.path)

    def dirname(self) -> str:
        return os.path.dirname(self.path)

    def size(self) -> int:
        return self.filesystem.filesize(self.path)


class FileSet(Value):
    """The files matching a glob pattern, hashed by the pattern and every file's hash."""

    type_basename = "FileSet"
    type_name = "redun.FileSet"
    classes: FileClasses

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._filesystem: FileSystem | None = None
        self._hash: str | None = None
        self._files: list[File] | None = None

    @property
    def filesystem(self) -> FileSystem:
        if self._filesystem is None:
            self._filesystem = get_filesystem(url=self.pattern)
        return self._filesystem

    @filesystem.setter
    def filesystem(self, filesystem: FileSystem) -> None:
        self._filesystem = filesystem

    def __repr__(self) -> str:
        return f"{self.type_basename}(pattern={self.pattern}, hash={self.hash})"

    @property
    def hash(self) -> str:
        if not self._hash:
            self.update_hash()
        return cast(str, self._hash)

    def _calc_hash(self, files: list[File] | None = None) -> str:
        if files is None:
            files = list(self)
        return hash_struct([self.type_basename, self.pattern] + sorted(file.hash for file in files))

    def get_hash(self, data: bytes | None = None) -> str:
        return self.hash

    def update_hash(self) -> None:
        self._files = list(self)
        self._hash = self._calc_hash(self._files)

    def __getstate__(self) -> dict:
        return {"pattern": self.pattern, "hash": self.hash}

    def __setstate__(self, state: dict) -> None:
        self.pattern = state["pattern"]
        self._hash = state["hash"]
        self._filesystem = None
        self._files = None

    def __iter__(self) -> Iterator[File]:
        file_class = self.classes.File
        for path in glob_file(self.pattern):
            if self.filesystem.isfile(path):
                yield file_class(path)

    def files(self) -> list[File]:
        return list(self)

    def is_valid(self) -> bool:
        if not self._hash:
            self.update_hash()
            return True
        return self._hash == self._calc_hash()

    def iter_subvalues(self) -> Iterator[Value]:
        return iter(self._files) if self._files is not None else iter(self)


class Dir(FileSet):
    """A directory tree, hashed by its path and the hashes of all files below it."""

    type_basename = "Dir"
    type_name = "redun.Dir"

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path).rstrip("/")
        super().__init__(os.path.join(self.path, "**"))

    def __repr__(self) -> str:
        return f"{self.type_basename}(path={self.path}, hash={self.hash[:8]})"

    def __getstate__(self) -> dict:
        return {"path": self.path, "hash": self.hash}

    def __setstate__(self, state: dict) -> None:
        self.path = state["path"]
        super().__setstate__({"pattern": os.path.join(self.path, "**"), "hash": state["hash"]})

    @property
    def hash(self) -> str:
        if not self._hash:
            self._hash = self._calc_hash()
        return self._hash

    def _calc_hash(self, files: list[File] | None = None) -> str:
        # Like redun, every Dir family hashes the filesystem's own file hashes.
        file_hashes = self.filesystem.iter_file_hashes(self.path)
        return hash_struct([self.type_basename, self.path] + sorted(file_hashes))

    def update_hash(self) -> None:
        self._files = None
        self._hash = self._calc_hash()

    def exists(self) -> bool:
        return self.filesystem.exists(self.path)

    def mkdir(self) -> None:
        self.filesystem.mkdir(self.path)
        self.update_hash()

    def rmdir(self, recursive: bool = False) -> None:
        self.filesystem.rmdir(self.path, recursive)
        self.update_hash()

    def file(self, rel_path: str) -> File:
        return self.classes.File(os.path.join(self.path, rel_path))

    def rel_path(self, path: str) -> str:
        return os.path.relpath(path, self.path)

    def copy_to(self, dest_dir: Dir, skip_if_exists: bool = False) -> Dir:
        """Copy every file below this directory into `dest_dir`; return it, re-hashed."""
        for src_file in self:
            src_file.copy_to(dest_dir.file(self.rel_path(src_file.path)), skip_if_exists)
        dest_dir.update_hash()
        return dest_dir

    def shell_copy_to(self, dest_path: str, as_mount: bool = False) -> str:
        return self.filesystem.shell_copy(self.path, dest_path, recursive=True, as_mount=as_mount)

    def stage(self, local: str | None = None) -> StagingDir:
        return self.classes.StagingDir(local or os.path.basename(self.path), self)


class Staging(Value, Generic[T]):
    """A local path paired with a remote one, copied in before and out after a script."""

    type_basename = "Staging"
    classes: FileClasses
    # Which member of `classes` wraps plain paths: "File" or "Dir".
    member_kind = "File"
    local: Any
    remote: Any

    def __init__(self, local: T | str, remote: T | str) -> None:
        wrap = getattr(self.classes, self.member_kind)
        self.local = wrap(local) if isinstance(local, str) else local
        self.remote = wrap(remote) if isinstance(remote, str) else remote

    def __repr__(self) -> str:
        return f"{self.type_basename}(local={self.local}, remote={self.remote})"

    def __getstate__(self) -> dict:
        return {"local": self.local, "remote": self.remote}

    def __setstate__(self, state: dict) -> None:
        self.local = state["local"]
        self.remote = state["remote"]

    def get_hash(self, data: bytes | None = None) -> str:
        return hash_struct([self.type_name, self.local.path, self.remote.path])

    def stage(self) -> T:
        """Copy remote to local (nothing to do when they are the same path)."""
        if self.local.path == self.remote.path:
            return self.local
        return self.remote.copy_to(self.local)

    def unstage(self) -> T:
        """Copy local back to remote."""
        if self.local.path == self.remote.path:
            return self.remote
        return self.local.copy_to(self.remote)

    def render_stage(self, as_mount: bool = False) -> str:
        """Shell command for `stage`; empty when no copy is needed."""
        if self.local.path == self.remote.path:
            return ""
        return self.remote.shell_copy_to(self.local.path, as_mount=as_mount)

    def render_unstage(self, as_mount: bool = False) -> str:
        """Shell command for `unstage`; empty when no copy is needed."""
        if self.local.path == self.remote.path:
            return ""
        return self.local.shell_copy_to(self.remote.path, as_mount=as_mount)

    @classmethod
    def parse_arg(cls, raw_type: type, arg: str) -> Any:
        raise ValueError(
            f"{cls.__name__} cannot be given on the command line: pass a "
            f"{cls.type_basename.replace('Staging', '')} and call .stage() in the task"
        )


class StagingFile(Staging[File]):
    type_basename = "StagingFile"
    type_name = "redun.StagingFile"


class StagingDir(Staging[Dir]):
    type_basename = "StagingDir"
    type_name = "redun.StagingDir"
    member_kind = "Dir"


# -- immutable family: hashed by path only, always valid ---------------------------


class IFile(File):
    """A write-once file: hashed by path only, so it is never re-checked."""

    type_basename = "IFile"
    type_name = "redun.IFile"

    def _calc_hash(self) -> str:
        return hash_struct([self.type_basename, self.path])

    def is_valid(self) -> bool:
        return True


class IFileSet(FileSet):
    type_basename = "IFileSet"
    type_name = "redun.IFileSet"

    def _calc_hash(self, files: list[File] | None = None) -> str:
        return hash_struct([self.type_basename, self.pattern])

    def is_valid(self) -> bool:
        return True


class IDir(Dir):
    type_basename = "IDir"
    type_name = "redun.IDir"

    def _calc_hash(self, files: list[File] | None = None) -> str:
        return hash_struct([self.type_basename, self.path])


class IStagingFile(StagingFile):
    type_basename = "IStagingFile"
    type_name = "redun.IStagingFile"


class IStagingDir(StagingDir):
    type_basename = "IStagingDir"
    type_name = "redun.IStagingDir"


# -- content family: hashed by the bytes of the file -----------------------------
# The misspelt type names are redun's persistent identifiers; keep them.


class ContentFile(File):
    """A file hashed by its content: slower, but unchanged by a touch or a re-copy."""

    type_basename = "ContentFile"
    type_name = "redun.ConentFile"

    def _calc_hash(self) -> str:
        # filesystem.open, not self.open: hashing must not trigger re-hashing.
        try:
            with self.filesystem.open(self.path, mode="rb") as infile:
                content_hash: str | int = hash_stream(infile)
        except FileNotFoundError:
            # A file not written yet (an output path passed as an argument).
            content_hash = -1
        return hash_struct([self.type_basename, self.path, content_hash])


class ContentFileSet(FileSet):
    type_basename = "ContentFileSet"
    type_name = "redun.CnotentFileSet"


class ContentDir(Dir):
    type_basename = "ContentDir"
    type_name = "redun.ContentDir"


class ContentStagingFile(StagingFile):
    type_basename = "ContentStagingFile"
    type_name = "redun.ContentStagingFile"


class ContentStagingDir(StagingDir):
    type_basename = "ContentStagingDir"
    type_name = "redun.ContentStagingDir"


_FAMILIES = (
    (File, FileSet, Dir, StagingFile, StagingDir),
    (IFile, IFileSet, IDir, IStagingFile, IStagingDir),
    (ContentFile, ContentFileSet, ContentDir, ContentStagingFile, ContentStagingDir),
)
for _family in _FAMILIES:
    _classes = FileClasses(*_family)
    for _member in _family:
        _member.classes = _classes  # type: ignore[misc]
del _family, _classes, _member


# redun defined its filesystems in this module: the builtin ones import from here,
# the plugins' ones (S3FileSystem, ...) come from the plugin kernel (redun.compat).
__getattr__ = module_getattr(__name__)
