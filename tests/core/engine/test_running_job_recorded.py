"""A running job's row, kept back by one write, is in the database soon after it starts."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import closing

from redun import Scheduler, task
from redun.scheduler.scheduler import MAX_FLUSH_DELAY

redun_namespace = "running_job_recorded_test"

WAIT_S = 5.0


@task()
def watch(db_path: str) -> float:
    """Seconds until this job's row, still running, was readable by another connection."""
    start = time.monotonic()
    while time.monotonic() - start < WAIT_S:
        with closing(sqlite3.connect(db_path)) as db:
            found = db.execute(
                "SELECT 1 FROM job WHERE task_hash = ? AND end_time IS NULL", (watch.hash,)
            ).fetchone()
        if found:
            return time.monotonic() - start
        time.sleep(0.02)
    return WAIT_S


@task()
def main(db_path: str) -> float:
    return watch(db_path)


def test_a_long_job_is_recorded_as_running_without_waiting_for_its_end(
    repo: Callable[..., Scheduler], tmp_path
) -> None:
    waited = repo().run(main(str(tmp_path / "redun.db")))
    # Held by one write, then written by the next (MAX_FLUSH_DELAY later at the latest).
    assert waited < MAX_FLUSH_DELAY + 1.0
