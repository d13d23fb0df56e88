"""Scratch on a URL goes through the filesystem registry (any registered scheme works)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner
from redun.cli.main import cli
from redun.executors import scratch
from redun.executors.code_packaging import CodePackageConfig, package_code
from redun.file import _registered_classes, register_filesystem
from redun.filesystems.local import LocalFileSystem
from redun.utils import pickle_loads

ROOT_ENV = "REDUN_TEST_MOUNTFS_ROOT"


class MountFileSystem(LocalFileSystem):
    """``mountfs://key`` is the file ``$REDUN_TEST_MOUNTFS_ROOT/key``: a URL scheme on disk."""

    name = "mountfs"

    def _local(self, path: str) -> str:
        return os.path.join(os.environ[ROOT_ENV], path.removeprefix("mountfs://"))

    def _open(self, path: str, mode: str, **kwargs: Any) -> IO:
        return super()._open(self._local(path), mode, **kwargs)

    def exists(self, path: str) -> bool:
        return super().exists(self._local(path))

    def remove(self, path: str) -> None:
        super().remove(self._local(path))


@pytest.fixture
def mountfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "bucket"
    root.mkdir()
    monkeypatch.setenv(ROOT_ENV, str(root))
    register_filesystem(MountFileSystem)
    yield root
    _registered_classes.pop("mountfs", None)


WORKFLOW = """
from redun.task import task

@task(name="triple", namespace="urltest")
def triple(x):
    return 3 * x
"""


def test_code_package_and_oneshot_on_url_scratch(
    mountfs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "urltest_workflow.py").write_text(WORKFLOW)
    code_file = package_code("mountfs://scratch", CodePackageConfig(), root=str(code))
    assert code_file is not None and code_file.startswith("mountfs://scratch/code/")
    assert scratch.exists(code_file)
    assert list((mountfs / "scratch/code").iterdir())

    scratch.write_job_input("mountfs://scratch/jobs/h/input", [14], {})
    worker = tmp_path / "worker"
    worker.mkdir()
    monkeypatch.chdir(worker)
    monkeypatch.syspath_prepend(str(worker))
    result = CliRunner().invoke(
        cli,
        [
            "oneshot",
            "urltest_workflow",
            "urltest.triple",
            "--code",
            code_file,
            "--input",
            "mountfs://scratch/jobs/h/input",
            "--output",
            "mountfs://scratch/jobs/h/output",
            "--error",
            "mountfs://scratch/jobs/h/error",
        ],
    )
    assert result.exit_code == 0, result.output
    assert pickle_loads((mountfs / "scratch/jobs/h/output").read_bytes()) == 42
    scratch.remove("mountfs://scratch/jobs/h/output")
    assert not scratch.exists("mountfs://scratch/jobs/h/output")
