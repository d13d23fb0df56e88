"""`redun run` closes its database at exit: SQLite folds the write-ahead log back in."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.core.reliability.helpers import Project

WORKFLOW = """
from redun import task

@task()
def square(x: int) -> int:
    return x * x

@task()
def main(n: int = 50) -> list:
    return [square(i) for i in range(n)]
"""


def test_redun_run_leaves_no_write_ahead_log_and_the_file_holds_every_job(tmp_path: Path) -> None:
    project = Project(tmp_path, WORKFLOW)
    db = tmp_path / "redun.db"
    for _ in range(2):
        done = project.run("main")
        assert done.returncode == 0, done.stderr[-2000:]
        assert not Path(f"{db}-wal").exists(), "the -wal file outlived the run"
        assert not Path(f"{db}-shm").exists(), "the -shm file outlived the run"
    # Read without WAL recovery help: the main file alone has both runs.
    connection = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    jobs = connection.execute("SELECT count(*) FROM job").fetchone()[0]
    executions = connection.execute("SELECT count(*) FROM execution").fetchone()[0]
    connection.close()
    assert (executions, jobs) == (2, 2 * 51)
