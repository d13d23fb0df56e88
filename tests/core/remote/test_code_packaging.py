"""Code packages: which files, reproducible content-addressed tarballs, safe unpacking."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from redun.executors.base import ExecutorError
from redun.executors.code_packaging import (
    CodePackageConfig,
    create_tar,
    extract_tar,
    find_code_files,
    package_code,
    parse_code_package_config,
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in ["wf.py", "lib/util.py", "lib/data.csv", "lib/__pycache__/util.cpython-311.py"]:
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\n")
    return tmp_path / "src"


def test_find_code_files_includes_and_excludes(tree: Path) -> None:
    assert find_code_files(root=str(tree)) == ["lib/util.py", "wf.py"]
    assert find_code_files(["**/*.py", "**/*.csv"], ["lib/util.py"], root=str(tree)) == [
        "lib/data.csv",
        "wf.py",
    ]


def test_config_parsing_and_bad_boolean() -> None:
    config = parse_code_package_config(
        {"code_includes": "'a b/*.py' *.sh", "code_excludes": "x.py"}, "executors.d"
    )
    assert config == CodePackageConfig(True, ("a b/*.py", "*.sh"), ("x.py",))
    assert not parse_code_package_config({"code_package": "False"}, "s").enabled
    with pytest.raises(ExecutorError, match=r"\[executors.d\] code_package = 'yes'"):
        parse_code_package_config({"code_package": "yes"}, "executors.d")


def test_tar_is_reproducible_and_hash_tracks_content(tree: Path) -> None:
    files = find_code_files(root=str(tree))
    data1, hash1 = create_tar(files, str(tree))
    assert create_tar(files, str(tree)) == (data1, hash1)
    os.utime(tree / "wf.py", (1, 1))
    _, hash2 = create_tar(files, str(tree))
    assert hash1 == hash2
    (tree / "wf.py").write_text("changed\n")
    _, hash3 = create_tar(files, str(tree))
    assert hash3 != hash1 and len(hash3) == 40


def test_package_uploads_once_and_extracts(tree: Path, tmp_path: Path) -> None:
    prefix = str(tmp_path / "scratch")
    path = package_code(prefix, CodePackageConfig(), root=str(tree))
    assert path is not None and path.startswith(prefix + "/code/") and path.endswith(".tar.gz")
    mtime = os.stat(path).st_mtime_ns
    assert package_code(prefix, CodePackageConfig(), root=str(tree)) == path
    assert os.stat(path).st_mtime_ns == mtime
    assert package_code(prefix, CodePackageConfig(enabled=False)) is None

    dest = tmp_path / "worker"
    dest.mkdir()
    extract_tar(path, str(dest))
    assert (dest / "lib/util.py").read_text() == "# lib/util.py\n"
    assert not (dest / "lib/data.csv").exists()


def test_extract_refuses_escaping_members(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        info = tarfile.TarInfo("../evil.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(raw.getvalue())
    (tmp_path / "dest").mkdir()
    with pytest.raises(Exception, match="evil"):
        extract_tar(str(bad), str(tmp_path / "dest"))
    assert not (tmp_path / "evil.py").exists()
