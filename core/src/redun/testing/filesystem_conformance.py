"""A conformance suite for FileSystem implementations, for plugin authors to subclass.

A read-only filesystem (like HTTP) subclasses `FileSystemReadConformance` and
defines a `make_tree` fixture; a writable one subclasses
`FileSystemConformance` and defines `fs_root`::

    from redun.testing.filesystem_conformance import FileSystemConformance

    class TestMyFileSystem(FileSystemConformance):
        @pytest.fixture
        def fs_root(self, my_bucket):
            return f"myfs://{my_bucket}/root"   # an empty directory URL

The tests go through `redun.file.get_filesystem`, so the filesystem must be
registered for its scheme (as a plugin, or with `register_filesystem`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from redun.file import (
    Dir,
    File,
    FileSystem,
    RedunFileNotFoundError,
    StagingDir,
    get_filesystem,
    get_proto,
)

MakeTree = Callable[[dict[str, bytes]], str]

TREE = {"a.txt": b"hello", "b.csv": b"x,y\n1,2\n", "sub/c.txt": b"nested file"}
HASH_PATTERN = re.compile(r"\A[0-9a-f]{40}\Z")


def join(root: str, rel_path: str) -> str:
    return f"{root.rstrip('/')}/{rel_path}"


class FileSystemReadConformance:
    """What every filesystem must do: stat, read, hash and glob existing files."""

    @pytest.fixture
    def make_tree(self) -> MakeTree:
        """Return a function creating files (relative path -> bytes) that returns the root URL."""
        pytest.fail(f"{type(self).__name__} must define the `make_tree` fixture")

    @pytest.fixture
    def root(self, make_tree: MakeTree) -> str:
        return make_tree(TREE)

    @pytest.fixture
    def filesystem(self, root: str) -> FileSystem:
        return get_filesystem(url=root)

    def test_is_registered_for_its_scheme(self, root: str, filesystem: FileSystem) -> None:
        assert isinstance(filesystem, FileSystem)
        assert get_filesystem(url=root) is filesystem
        assert get_filesystem(get_proto(root)) is filesystem

    def test_exists_isfile_isdir(self, root: str, filesystem: FileSystem) -> None:
        assert filesystem.exists(join(root, "a.txt"))
        assert filesystem.isfile(join(root, "a.txt"))
        assert not filesystem.isdir(join(root, "a.txt"))
        assert filesystem.isdir(join(root, "sub"))
        assert not filesystem.isfile(join(root, "sub"))
        missing = join(root, "missing.txt")
        assert not filesystem.exists(missing)
        assert not filesystem.isfile(missing)
        assert not filesystem.isdir(missing)

    def test_open_reads_bytes_and_text(self, root: str, filesystem: FileSystem) -> None:
        with filesystem.open(join(root, "a.txt"), "rb") as infile:
            assert infile.read() == b"hello"
        with filesystem.open(join(root, "b.csv"), "r") as infile:
            assert infile.read() == "x,y\n1,2\n"
        with filesystem.open(join(root, "b.csv"), "r", encoding="utf-8") as infile:
            assert infile.readlines() == ["x,y\n", "1,2\n"]

    def test_open_missing_file_names_the_path(self, root: str, filesystem: FileSystem) -> None:
        missing = join(root, "missing.txt")
        with pytest.raises(RedunFileNotFoundError) as info:
            filesystem.open(missing, "rb")
        assert missing in str(info.value)

    def test_filesize(self, root: str, filesystem: FileSystem) -> None:
        assert filesystem.filesize(join(root, "a.txt")) == 5
        assert filesystem.filesize(join(root, "sub/c.txt")) == len(TREE["sub/c.txt"])

    def test_get_hash_is_stable_and_distinguishes_files(
        self, root: str, filesystem: FileSystem
    ) -> None:
        first = filesystem.get_hash(join(root, "a.txt"))
        assert HASH_PATTERN.match(first)
        assert filesystem.get_hash(join(root, "a.txt")) == first
        assert filesystem.get_hash(join(root, "b.csv")) != first
        assert filesystem.get_hash(join(root, "missing.txt")) != first

    def test_glob(self, root: str, filesystem: FileSystem) -> None:
        assert sorted(filesystem.glob(join(root, "*.txt"))) == [join(root, "a.txt")]
        recursive = sorted(
            path for path in filesystem.glob(join(root, "**")) if filesystem.isfile(path)
        )
        assert recursive == sorted(join(root, rel) for rel in TREE)
        assert sorted(filesystem.glob(join(root, "**/*.txt"))) == [
            join(root, "a.txt"),
            join(root, "sub/c.txt"),
        ]
        assert filesystem.glob(join(root, "a.txt")) == [join(root, "a.txt")]
        assert filesystem.glob(join(root, "*.none")) == []

    def test_iter_file_hashes_covers_every_file(self, root: str, filesystem: FileSystem) -> None:
        expected = sorted(filesystem.get_hash(join(root, rel)) for rel in TREE)
        assert sorted(filesystem.iter_file_hashes(root)) == expected

    def test_file_and_dir_values(self, root: str, tmp_path) -> None:
        file = File(join(root, "a.txt"))
        assert file.read() == "hello"
        assert file.read("rb") == b"hello"
        assert file.exists() and file.size() == 5
        assert file.is_valid()
        assert sorted(f.path for f in Dir(root)) == sorted(join(root, rel) for rel in TREE)
        assert HASH_PATTERN.match(Dir(root).hash)

    def test_copy_to_local(self, root: str, tmp_path) -> None:
        dest = File(str(tmp_path / "copied" / "a.txt"))
        File(join(root, "a.txt")).copy_to(dest)
        assert dest.read("rb") == b"hello"
        copied = Dir(root).copy_to(Dir(str(tmp_path / "tree")))
        assert sorted(copied.rel_path(f.path) for f in copied) == sorted(TREE)

    def test_shell_copy_renders_a_command(self, root: str, filesystem: FileSystem) -> None:
        command = filesystem.shell_copy(join(root, "a.txt"), "/tmp/dest.txt")
        assert isinstance(command, str) and "a.txt" in command
        assert filesystem.shell_copy(join(root, "a.txt"), None)


class FileSystemConformance(FileSystemReadConformance):
    """Read conformance plus writing, removing, directories and copying."""

    @pytest.fixture
    def fs_root(self) -> str:
        """Return the URL of an empty directory this test may write below."""
        pytest.fail(f"{type(self).__name__} must define the `fs_root` fixture")

    @pytest.fixture
    def make_tree(self, fs_root: str) -> MakeTree:
        def make(files: dict[str, bytes]) -> str:
            for rel_path, data in files.items():
                File(join(fs_root, rel_path)).write(data, mode="wb")
            return fs_root

        return make

    def test_write_creates_parents_and_round_trips(self, fs_root: str) -> None:
        path = join(fs_root, "new/deep/file.txt")
        filesystem = get_filesystem(url=path)
        with filesystem.open(path, "w") as out:
            out.write("text ✓")
        assert filesystem.exists(path)
        with filesystem.open(path, "rb") as infile:
            assert infile.read() == "text ✓".encode()
        with filesystem.open(path, "w", encoding="latin-1") as out:
            out.write("é")
        with filesystem.open(path, "rb") as infile:
            assert infile.read() == b"\xe9"

    def test_rewrite_changes_hash(self, fs_root: str) -> None:
        path = join(fs_root, "changing.txt")
        file = File(path)
        file.write("one")
        first = file.hash
        assert file.is_valid()
        File(path).write("three")
        assert not file.is_valid()
        assert get_filesystem(url=path).get_hash(path) != first

    def test_file_open_for_writing_rehashes_on_close(self, fs_root: str) -> None:
        file = File(join(fs_root, "rehash.txt"))
        missing_hash = file.hash
        with file.open("w") as out:
            out.write("content")
        assert file.hash != missing_hash
        assert file.is_valid()

    def test_remove(self, fs_root: str) -> None:
        path = join(fs_root, "gone.txt")
        filesystem = get_filesystem(url=path)
        File(path).write("x")
        filesystem.remove(path)
        assert not filesystem.exists(path)
        filesystem.remove(path)

    def test_touch_creates_file(self, fs_root: str) -> None:
        path = join(fs_root, "touched.txt")
        filesystem = get_filesystem(url=path)
        filesystem.touch(path)
        assert filesystem.isfile(path)

    def test_mkdir_and_rmdir(self, fs_root: str) -> None:
        path = join(fs_root, "made")
        filesystem = get_filesystem(url=path)
        filesystem.mkdir(path)
        filesystem.rmdir(path)
        File(join(path, "inner.txt")).write("x")
        filesystem.rmdir(path, recursive=True)
        assert not filesystem.exists(join(path, "inner.txt"))

    def test_copy_within_and_from_local(self, fs_root: str, tmp_path) -> None:
        src = join(fs_root, "src.txt")
        File(src).write("copy me")
        dest = File(src).copy_to(File(join(fs_root, "copies/dest.txt")))
        assert dest.read() == "copy me"
        local = tmp_path / "local.txt"
        local.write_text("from local")
        uploaded = File(str(local)).copy_to(File(join(fs_root, "uploaded.txt")))
        assert uploaded.read() == "from local"
        assert uploaded.is_valid()

    def test_dir_copy_and_staging(self, fs_root: str, tmp_path) -> None:
        for rel_path, data in TREE.items():
            File(join(fs_root, "tree/" + rel_path)).write(data, mode="wb")
        remote = Dir(join(fs_root, "tree"))
        staged = remote.stage(str(tmp_path / "staged")).stage()
        assert sorted(staged.rel_path(f.path) for f in staged) == sorted(TREE)
        File(staged.file("extra.txt").path).write("extra")
        unstaged = StagingDir(staged.path, join(fs_root, "back")).unstage()
        assert sorted(unstaged.rel_path(f.path) for f in unstaged) == sorted([*TREE, "extra.txt"])
