"""File values: hashes, type names and pickles bit-identical to redun 0.44.1."""

import os
import pickle
from urllib.parse import urlparse

import pytest
import redun.file
from redun.file import (
    ContentDir,
    ContentFile,
    ContentFileSet,
    ContentStagingDir,
    ContentStagingFile,
    Dir,
    File,
    FileSet,
    IDir,
    IFile,
    IFileSet,
    IStagingDir,
    IStagingFile,
    RedunFileNotFoundError,
    StagingDir,
    StagingFile,
    copy_file,
    get_filesystem,
    get_proto,
    list_filesystem_schemes,
    list_filesystems,
    register_filesystem,
)
from redun.filesystems.local import LocalFileSystem
from redun.plugins.errors import MissingPluginError
from redun.value import get_type_registry

GOLDEN = {
    "file": "663a4f5736d843fbba0acfa3d9a4e11ec01b4769",
    "file_missing": "449af20f1de5e2223842aff073f4b7c0b17bc27f",
    "ifile": "9b1dc89f41cfc8240bba7c2d12aa5521f224eac3",
    "contentfile": "c83ebaa1f71c184c460ca2b255b1b731a884c99f",
    "dir": "7ca3b078c69a55c33afff15441c3420a2705f07b",
    "dir_slash": "7ca3b078c69a55c33afff15441c3420a2705f07b",
    "idir": "37a0f46edc57d85f26b891596590866fb5bf5be8",
    "contentdir": "25656e036be931e1a97dfb7ffb592bc3a225f403",
    "fileset": "d509b43e1f2ff785d51849d94def1f0012622003",
    "fileset_rec": "bcc1bdbcc214a676cee7aa328c8bdb6763e72055",
    "ifileset": "15e0da76832875dba8df00d106ebd78fd5d13d12",
    "contentfileset": "366ac6a607ed3231bc77ac76037f24d338613dc0",
    "stagingfile": "a83866e45763b04900a92cfc0a043c0795864313",
    "stagingdir": "95156501fa7be1b3de2b981ba0b71819f361ed58",
    "istagingfile": "3c82ddb272aded06589a342738df9ef14907a60d",
    "istagingdir": "1b11a337e7653a38dfa93bf4b79f90c4a964a213",
    "contentstagingfile": "7c3d23e1602a90eb11862f7242040b8ccbf98a65",
    "contentstagingdir": "4d9857bd278f9a4630b03e51fcc52ee6c86fe289",
    "stage_default": "8e1bf1920cb4e1c535fe9c34b9901916fd7217ff",
    "stage_dir": "047d7d912cc17968a7985598e867b200998673bb",
    "dir_stage": "7a310be538e7ad228e4b5853097e2e26df20a7f0",
    "contentfile_stage": "145f6f221e6ef846499f1df8d310b3e347e7e657",
    "list_of_file": "e31f5de1794d4147e1061d678f221fe17a264a00",
    "dict_of_files": "668f26d51fd64f586a5102ea97b2ef08df085774",
    "dir_missing": "d05163a8d9201822633d34f550ad1df201fe4233",
    "fileset_empty": "fdbea13f9337f7656e2b6eb94f870b6670db6ae7",
    "contentfileset_txt": "87000d2d535c5b37c2fca9ca291f583457b00e3e",
    "ifile_missing": "5a1ce9571f0f6ce4440d20f8e4da63556d16c4a2",
    "idir_missing": "1cda41488f1dbf32e3fc9a7f714b2ec76f8a14c0",
}

TYPE_NAMES = {
    "file": "redun.File",
    "ifile": "redun.IFile",
    "contentfile": "redun.ConentFile",
    "dir": "redun.Dir",
    "idir": "redun.IDir",
    "contentdir": "redun.ContentDir",
    "fileset": "redun.FileSet",
    "ifileset": "redun.IFileSet",
    "contentfileset": "redun.CnotentFileSet",
    "stagingfile": "redun.StagingFile",
    "stagingdir": "redun.StagingDir",
    "istagingfile": "redun.IStagingFile",
    "istagingdir": "redun.IStagingDir",
    "contentstagingfile": "redun.ContentStagingFile",
    "contentstagingdir": "redun.ContentStagingDir",
    "contentfile_stage": "redun.ContentStagingFile",
}

FILE_PICKLE = (
    b"\x80\x03credun.file\nFile\nq\x00)\x81q\x01}q\x02(X\x04\x00\x00\x00pathq\x03X\x08\x00\x00"
    b"\x00data.txtq\x04X\x04\x00\x00\x00hashq\x05X(\x00\x00\x00"
    b"663a4f5736d843fbba0acfa3d9a4e11ec01b4769q\x06ub."
)
DIR_PICKLE = (
    b"\x80\x03credun.file\nDir\nq\x00)\x81q\x01}q\x02(X\x04\x00\x00\x00pathq\x03X\x01\x00\x00"
    b"\x00dq\x04X\x04\x00\x00\x00hashq\x05X(\x00\x00\x00"
    b"7ca3b078c69a55c33afff15441c3420a2705f07bq\x06ub."
)


# More pickles recorded by redun 0.44.1 (value rows of a redun database).
MORE_PICKLES = {
    "ifile": (
        b"\x80\x03credun.file\nIFile\nq\x00)\x81q\x01}q\x02(X\x04\x00\x00\x00pathq\x03X\x08"
        b"\x00\x00\x00data.txtq\x04X\x04\x00\x00\x00hashq\x05X(\x00\x00\x00"
        b"9b1dc89f41cfc8240bba7c2d12aa5521f224eac3q\x06ub."
    ),
    "contentfile": (
        b"\x80\x03credun.file\nContentFile\nq\x00)\x81q\x01}q\x02(X\x04\x00\x00\x00pathq\x03"
        b"X\x08\x00\x00\x00data.txtq\x04X\x04\x00\x00\x00hashq\x05X(\x00\x00\x00"
        b"c83ebaa1f71c184c460ca2b255b1b731a884c99fq\x06ub."
    ),
    "fileset": (
        b"\x80\x03credun.file\nFileSet\nq\x00)\x81q\x01}q\x02(X\x07\x00\x00\x00patternq\x03"
        b"X\x07\x00\x00\x00d/*.txtq\x04X\x04\x00\x00\x00hashq\x05X(\x00\x00\x00"
        b"d509b43e1f2ff785d51849d94def1f0012622003q\x06ub."
    ),
    "stagingdir": (
        b"\x80\x03credun.file\nStagingDir\nq\x00)\x81q\x01}q\x02(X\x05\x00\x00\x00localq\x03"
        b"credun.file\nDir\nq\x04)\x81q\x05}q\x06(X\x04\x00\x00\x00pathq\x07X\x02\x00\x00\x00"
        b"ldq\x08X\x04\x00\x00\x00hashq\tX(\x00\x00\x00cd6e6ba0e583c0b95fbb34da6ff9268e1cfed20f"
        b"q\nubX\x06\x00\x00\x00remoteq\x0bh\x04)\x81q\x0c}q\r(h\x07X\x01\x00\x00\x00dq\x0eh\t"
        b"X(\x00\x00\x007ca3b078c69a55c33afff15441c3420a2705f07bq\x0fubub."
    ),
    "istagingfile": (
        b"\x80\x03credun.file\nIStagingFile\nq\x00)\x81q\x01}q\x02(X\x05\x00\x00\x00localq\x03"
        b"credun.file\nIFile\nq\x04)\x81q\x05}q\x06(X\x04\x00\x00\x00pathq\x07X\x01\x00\x00\x00"
        b"lq\x08X\x04\x00\x00\x00hashq\tX(\x00\x00\x00ee7a5fbda5ed82862a49debe6657817ad612d8ee"
        b"q\nubX\x06\x00\x00\x00remoteq\x0bh\x04)\x81q\x0c}q\r(h\x07X\x08\x00\x00\x00data.txt"
        b"q\x0eh\tX(\x00\x00\x009b1dc89f41cfc8240bba7c2d12aa5521f224eac3q\x0fubub."
    ),
}


@pytest.fixture
def golden_tree(tmp_path, monkeypatch):
    """The files (content and mtime) the golden values were computed from, in the cwd."""
    monkeypatch.chdir(tmp_path)
    for path, data, mtime in [
        ("data.txt", "hello\n", 1700000000.5),
        ("d/a.txt", "a", 1700000001.25),
        ("d/sub/b.txt", "bb", 1700000002),
    ]:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as out:
            out.write(data)
        os.utime(path, (mtime, mtime))
    return tmp_path


def golden_values():
    return {
        "file": File("data.txt"),
        "file_missing": File("missing.txt"),
        "ifile": IFile("data.txt"),
        "contentfile": ContentFile("data.txt"),
        "dir": Dir("d"),
        "dir_slash": Dir("d/"),
        "idir": IDir("d"),
        "contentdir": ContentDir("d"),
        "fileset": FileSet("d/*.txt"),
        "fileset_rec": FileSet("d/**/*.txt"),
        "ifileset": IFileSet("d/*.txt"),
        "contentfileset": ContentFileSet("d/**"),
        "stagingfile": StagingFile("local.txt", "data.txt"),
        "stagingdir": StagingDir("ld", "d"),
        "istagingfile": IStagingFile("local.txt", "data.txt"),
        "istagingdir": IStagingDir("ld", "d"),
        "contentstagingfile": ContentStagingFile("local.txt", "data.txt"),
        "contentstagingdir": ContentStagingDir("ld", "d"),
        "stage_default": File("data.txt").stage(),
        "stage_dir": File("data.txt").stage("out/"),
        "dir_stage": Dir("d").stage("x"),
        "contentfile_stage": ContentFile("data.txt").stage(),
        "list_of_file": [File("data.txt")],
        "dict_of_files": {"f": File("data.txt"), "d": Dir("d")},
        "dir_missing": Dir("nodir"),
        "fileset_empty": FileSet("d/*.none"),
        "contentfileset_txt": ContentFileSet("d/*.txt"),
        "ifile_missing": IFile("nope"),
        "idir_missing": IDir("nodir"),
    }


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_file_hashes_match_redun(golden_tree, name):
    assert get_type_registry().get_hash(golden_values()[name]) == GOLDEN[name]


@pytest.mark.parametrize("name", sorted(TYPE_NAMES))
def test_file_type_names_match_redun(golden_tree, name):
    value = golden_values()[name]
    registry = get_type_registry()
    assert registry.get_type_name(type(value)) == TYPE_NAMES[name]
    assert registry.parse_type_name(TYPE_NAMES[name]) is type(value)


def test_file_pickles_match_redun_and_load(golden_tree):
    registry = get_type_registry()
    assert registry.serialize(File("data.txt")) == FILE_PICKLE
    assert registry.serialize(Dir("d")) == DIR_PICKLE
    file = registry.deserialize("redun.File", FILE_PICKLE)
    assert (file.path, file.hash) == ("data.txt", GOLDEN["file"])
    assert file.is_valid()
    directory = registry.deserialize("redun.Dir", DIR_PICKLE)
    assert directory.is_valid()
    assert sorted(f.path for f in directory) == ["d/a.txt", "d/sub/b.txt"]


def test_more_pickles_match_redun(golden_tree):
    values = {
        "ifile": IFile("data.txt"),
        "contentfile": ContentFile("data.txt"),
        "fileset": FileSet("d/*.txt"),
        "stagingdir": StagingDir("ld", "d"),
        "istagingfile": IStagingFile("l", "data.txt"),
    }
    registry = get_type_registry()
    for name, value in values.items():
        assert registry.serialize(value) == MORE_PICKLES[name], name
        type_name = registry.get_type_name(type(value))
        loaded = registry.deserialize(type_name, MORE_PICKLES[name])
        assert type(loaded) is type(value) and loaded.get_hash() == value.get_hash()


def test_render_stage_commands_match_redun(golden_tree):
    staged = StagingFile("local dir/x.txt", "data.txt")
    assert staged.render_stage() == "cp data.txt 'local dir/x.txt'"
    assert staged.render_unstage() == "cp 'local dir/x.txt' data.txt"
    staged_dir = StagingDir("ld", "d")
    assert staged_dir.render_stage() == "cp -r d ld"
    assert staged_dir.render_unstage() == "cp -r ld d"
    assert StagingFile("data.txt", "data.txt").render_stage() == ""
    local = get_filesystem("local")
    assert local.shell_copy("a", "b") == "cp a b"
    assert local.shell_copy("a", None) == "cat a"
    assert local.shell_copy(None, "b") == "cat > b"
    assert local.shell_copy("a", "b", recursive=True) == "cp -r a b"


def test_reprs(golden_tree):
    assert repr(File("data.txt")) == "File(path=data.txt, hash=663a4f57)"
    assert repr(Dir("d")) == "Dir(path=d, hash=7ca3b078)"
    assert repr(StagingFile("l", "data.txt")) == (
        "StagingFile(local=File(path=l, hash=37399eee), remote=File(path=data.txt, hash=663a4f57))"
    )


def test_file_validity_tracks_changes(tmp_path):
    file = File(str(tmp_path / "f.txt"))
    file.write("one")
    cached = pickle.loads(pickle.dumps(file))
    assert cached.is_valid()
    file.write("three")
    assert not cached.is_valid()
    assert file.is_valid()
    fresh = File(str(tmp_path / "f.txt"))
    assert fresh.is_valid() and fresh.hash == file.hash


def test_ifile_is_always_valid_and_contentfile_ignores_mtime(tmp_path):
    path = str(tmp_path / "f.txt")
    File(path).write("same")
    ifile, content = IFile(path), ContentFile(path)
    ifile_hash, content_hash = ifile.hash, content.hash
    os.utime(path, (1, 1))
    assert ContentFile(path).hash == content_hash and content.is_valid()
    File(path).write("different")
    assert not content.is_valid()
    assert ifile.is_valid() and IFile(path).hash == ifile_hash
    assert ContentFile(str(tmp_path / "not-yet.txt")).hash != ContentFile(path).hash


def test_families_stay_consistent(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text("x")
    assert [type(f) for f in IDir(str(tmp_path / "d"))] == [IFile]
    assert [type(f) for f in ContentDir(str(tmp_path / "d"))] == [ContentFile]
    assert type(ContentFile("a").stage()) is ContentStagingFile
    assert type(IDir("d").stage()) is IStagingDir
    assert type(ContentStagingFile("a", "b").local) is ContentFile
    assert type(ContentStagingDir("a", "b").remote) is ContentDir


def test_file_operations(tmp_path):
    file = File(str(tmp_path / "sub" / "f.txt"))
    assert not file.exists()
    file.write("line1\nline2\n")
    assert file.exists() and file.isfile() and not file.isdir()
    assert file.readlines() == ["line1\n", "line2\n"]
    assert file.size() == 12
    assert file.basename() == "f.txt"
    assert file.dirname() == str(tmp_path / "sub")
    before = file.hash
    file.touch((1000, 1000))
    assert file.hash != before and file.is_valid()
    file.remove()
    assert not file.exists()
    with pytest.raises(RedunFileNotFoundError, match="f.txt"):
        file.read()


def test_copy_to_skip_if_exists_keeps_destination(tmp_path):
    src, dest = File(str(tmp_path / "src")), File(str(tmp_path / "dest"))
    src.write("new")
    dest.write("old")
    assert src.copy_to(dest, skip_if_exists=True).read() == "old"
    assert src.copy_to(dest).read() == "new"


def test_stage_paths(tmp_path):
    remote = File(str(tmp_path / "remote" / "data.txt"))
    assert remote.stage().local.path == "data.txt"
    assert remote.stage("dir/").local.path == "dir/data.txt"
    assert remote.stage("x.txt").local.path == "x.txt"
    remote.write("payload")
    staging = remote.stage(str(tmp_path / "work/"))
    assert staging.stage().read() == "payload"
    staging.local.write("changed")
    assert staging.unstage().read() == "changed"
    with pytest.raises(ValueError, match="pass a File and call .stage"):
        get_type_registry().parse_arg(StagingFile, "x")


def test_dir_operations(tmp_path):
    directory = Dir(str(tmp_path / "d"))
    assert not directory.exists()
    directory.mkdir()
    assert directory.exists()
    empty_hash = directory.hash
    directory.file("x/y.txt").write("y")
    assert directory.rel_path(directory.file("x/y.txt").path) == "x/y.txt"
    assert not directory.is_valid()
    directory.update_hash()
    assert directory.hash != empty_hash
    assert list(get_type_registry().iter_subvalues(directory))[0].path.endswith("y.txt")
    assert directory.shell_copy_to("/dest") == f"cp -r {directory.path} /dest"
    directory.rmdir(recursive=True)
    assert not directory.exists()


def test_fileset_iterates_matching_files(tmp_path):
    for name in ("a.txt", "b.txt", "c.csv"):
        (tmp_path / name).write_text(name)
    fileset = FileSet(str(tmp_path / "*.txt"))
    assert sorted(f.basename() for f in fileset.files()) == ["a.txt", "b.txt"]
    assert fileset.is_valid()
    (tmp_path / "d.txt").write_text("new")
    assert not fileset.is_valid()


def test_copy_file_streams(tmp_path, capsysbinary):
    src = tmp_path / "src.txt"
    src.write_text("streamed")
    copy_file(str(src), str(tmp_path / "out" / "dest.txt"))
    assert (tmp_path / "out" / "dest.txt").read_text() == "streamed"
    copy_file(str(src), None)
    assert capsysbinary.readouterr().out == b"streamed"
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "sub" / "f").write_text("f")
    copy_file(str(tmp_path / "tree"), str(tmp_path / "tree2"), recursive=True)
    assert (tmp_path / "tree2" / "sub" / "f").read_text() == "f"
    with pytest.raises(ValueError, match="recursive copy needs"):
        copy_file(None, str(tmp_path / "x"), recursive=True)


def test_missing_plugin_scheme_names_the_distribution():
    file = File("s3://bucket/key")
    assert file.path == "s3://bucket/key"
    with pytest.raises(
        MissingPluginError, match="No filesystem for scheme 's3': pip install redun-aws"
    ):
        file.read()
    with pytest.raises(MissingPluginError, match="No filesystem for scheme 'nosuch'"):
        get_filesystem(url="nosuch://x")


def test_recorded_file_of_missing_scheme_still_loads():
    recorded_s3 = FILE_PICKLE.replace(b"data.txt", b"s3://b/k")
    recorded = pickle.loads(recorded_s3)
    assert recorded.path == "s3://b/k" and recorded.hash == GOLDEN["file"]


def test_scheme_registry(monkeypatch):
    monkeypatch.setattr(redun.file, "_registered_classes", {})
    monkeypatch.setattr(redun.file, "_instances_by_scheme", {})
    assert get_proto("/a/b") == "local"
    assert get_proto("rel/path") == "local"
    assert get_proto("s3://b/k") == "s3"
    assert get_proto("HTTPS://x") == "https"
    for url in ["a:b", "/x:y", "c:/p", "1a:b", "a+b.c-d://x", "rel/pa:th", "x_y://z", ":x"]:
        assert get_proto(url) == (urlparse(url).scheme or "local"), url
    assert {"local", "http", "https"} <= set(list_filesystem_schemes())
    assert LocalFileSystem in list_filesystems()

    @register_filesystem
    class MemoryFileSystem(LocalFileSystem):
        name = "memtest"

    assert isinstance(get_filesystem("memtest"), MemoryFileSystem)
    assert "memtest" in list_filesystem_schemes()


def test_filesystem_plugins_resolve_through_the_current_plugin_manager():
    from redun.plugins import FileSystemSpec, hookimpl
    from redun.plugins.manager import RedunPluginManager, reset_plugin_manager

    class Plugin:
        @hookimpl
        def redun_filesystems(self):
            target = "redun.filesystems.local:LocalFileSystem"
            return [FileSystemSpec(("pluginfs",), target, "test scheme")]

    manager = RedunPluginManager(strict=True)
    manager.load(autoload=False)
    manager.register_plugin(Plugin(), "pluginfs", "pluginfs-dist", "1.0")
    reset_plugin_manager(manager)
    assert isinstance(get_filesystem("pluginfs"), LocalFileSystem)
    assert "pluginfs" in list_filesystem_schemes()

    reset_plugin_manager()
    with pytest.raises(MissingPluginError, match="No filesystem for scheme 'pluginfs'"):
        get_filesystem("pluginfs")
