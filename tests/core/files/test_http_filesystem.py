"""The HTTP filesystem against a real http.server on 127.0.0.1."""

import itertools

import pytest
from redun.file import File, RedunPermissionError, get_filesystem
from redun.filesystems.http import HTTPFileSystem
from redun.hashing import hash_struct
from redun.testing.filesystem_conformance import FileSystemReadConformance

from tests.core.files.http_server import serve_directory


@pytest.fixture(scope="module")
def http_server(tmp_path_factory):
    """(served directory, base URL) of a static file server."""
    served = tmp_path_factory.mktemp("served")
    with serve_directory(served) as base_url:
        yield served, base_url


_tree_ids = itertools.count()


@pytest.fixture
def make_served_tree(http_server):
    served, base_url = http_server

    def make(files):
        name = f"tree{next(_tree_ids)}"
        for rel_path, data in files.items():
            path = served / name / rel_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return f"{base_url}/{name}"

    return make


class TestHTTPFileSystemConformance(FileSystemReadConformance):
    @pytest.fixture
    def make_tree(self, make_served_tree):
        return make_served_tree


def test_http_and_https_share_one_filesystem():
    assert isinstance(get_filesystem("http"), HTTPFileSystem)
    assert get_filesystem("https") is get_filesystem("http")


def test_hash_matches_redun_fsspec_recipe(make_served_tree):
    root = make_served_tree({"data.txt": b"hello\n"})
    url = f"{root}/data.txt"
    assert File(url).hash == hash_struct(["File", "fsspec", url, "6"])
    missing = f"{root}/missing.txt"
    assert File(missing).hash == hash_struct(["File", "fsspec", missing, "-1"])


def test_writes_are_refused_as_read_only(make_served_tree):
    root = make_served_tree({"data.txt": b"x"})
    filesystem = get_filesystem(url=root)
    with pytest.raises(RedunPermissionError, match="read-only"):
        File(f"{root}/new.txt").write("nope")
    for operation in (filesystem.remove, filesystem.mkdir, filesystem.touch):
        with pytest.raises(RedunPermissionError, match="read-only"):
            operation(f"{root}/data.txt")


def test_unreachable_server_is_a_clear_error():
    with pytest.raises(OSError, match="Cannot reach http://127.0.0.1:9/x"):
        File("http://127.0.0.1:9/x").read()


def test_shell_copy_uses_redun_fs_cp():
    filesystem = get_filesystem("http")
    assert filesystem.shell_copy("http://x/a", "b") == "redun fs cp http://x/a b"
    assert filesystem.shell_copy("http://x/a", None) == "redun fs cp http://x/a -"
    assert filesystem.shell_copy("http://x/d", "e", recursive=True) == (
        "redun fs cp --recursive http://x/d e"
    )
    assert File("http://x/a").shell_copy_to("/tmp/b") == "redun fs cp http://x/a /tmp/b"
