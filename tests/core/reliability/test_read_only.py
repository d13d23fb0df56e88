"""A repository we may not write (shared, archived, someone else's) can still be read.

Opening the database in WAL mode would have to create SQLite's WAL files, which
a read-only directory forbids: whether the last writer closed it cleanly (no WAL
files) or died (they are left behind), it is read without writing anything.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.reliability.helpers import REDUN, Project

WORKFLOW = """
from redun import task


@task()
def add(a: int, b: int) -> int:
    return a + b
"""

# Root may write anywhere: without these capabilities it is held to the file modes.
NOT_ROOT = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]


# A writer that dies without closing (SIGKILL, a crash) leaves the WAL files behind.
DIE_IN_WAL_MODE = """
import os, sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("PRAGMA journal_mode=WAL")
connection.execute("PRAGMA wal_autocheckpoint=0")
connection.execute("CREATE TABLE left_in_wal (x)")
connection.commit()
os._exit(0)
"""


@pytest.fixture(params=["closed", "wal_left"])
def read_only_repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Project]:
    """A repository with one recorded run, closed cleanly or not, then made read-only."""
    project = Project(tmp_path, WORKFLOW, f"sqlite:///{tmp_path / '.redun' / 'redun.db'}")
    done = project.run("add", "--a", "1", "--b", "2")
    assert done.returncode == 0, done.stderr
    db = project.config_dir / "redun.db"
    if request.param == "closed":
        with sqlite3.connect(db) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    else:
        subprocess.run([sys.executable, "-c", DIE_IN_WAL_MODE, str(db)], check=True)
        assert Path(f"{db}-wal").exists()
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("SKIPPED LOUDLY: as root the read-only test needs setpriv (util-linux)")
    project.config_dir.chmod(0o555)
    try:
        yield project
    finally:
        project.config_dir.chmod(0o755)


def as_user(command: list[str]) -> list[str]:
    return [*NOT_ROOT, *command] if os.geteuid() == 0 else command


def wal_files(project: Project) -> list[str]:
    return sorted(path.name for path in project.config_dir.glob("redun.db-*"))


def test_redun_log_reads_a_read_only_repository(read_only_repo: Project) -> None:
    project = read_only_repo
    before = wal_files(project)
    done = subprocess.run(
        as_user([*REDUN, "-c", str(project.config_dir), "log"]),
        cwd=project.root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "Exec " in done.stdout and "[ DONE ]" in done.stdout
    assert wal_files(project) == before, "the read left files behind"


def test_redun_run_in_a_read_only_repository_says_so_in_one_line(read_only_repo: Project) -> None:
    project = read_only_repo
    done = subprocess.run(
        as_user(project.command("add", "--a", "3", "--b", "4")),
        cwd=project.root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "read-only" in errors[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def test_a_log_without_its_index_in_a_read_only_directory_is_one_line(tmp_path: Path) -> None:
    """SQLite cannot read a WAL file without its -shm index unless it may create one."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("SKIPPED LOUDLY: as root the read-only test needs setpriv (util-linux)")
    project = Project(tmp_path, WORKFLOW, f"sqlite:///{tmp_path / '.redun' / 'redun.db'}")
    assert project.run("add", "--a", "1", "--b", "2").returncode == 0
    db = project.config_dir / "redun.db"
    subprocess.run([sys.executable, "-c", DIE_IN_WAL_MODE, str(db)], check=True)
    Path(f"{db}-shm").unlink()
    project.config_dir.chmod(0o555)
    try:
        done = subprocess.run(
            as_user([*REDUN, "-c", str(project.config_dir), "log"]),
            cwd=project.root,
            capture_output=True,
            text=True,
        )
    finally:
        project.config_dir.chmod(0o755)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    [line] = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert "redun.db-wal" in line and "read-only directory" in line and "writable" in line
