"""Many processes on one SQLite file (or PostgreSQL database) at once, and SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from redun.backends.db import Execution, Job, RedunBackendDb
from redun.backends.db.query import CallGraphQuery
from redun.cache import CacheCheckValid, CacheResult, CacheScope
from sqlalchemy import func, select, text

from tests.core.backends.helpers import cache_query, make_task

ROOT = Path(__file__).parents[3]


def writer(uri: str, name: str, jobs: int, flush_every: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core.backends.writer_process", uri, name, str(jobs)]
        + [str(flush_every), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_parallel_writers_never_see_database_is_locked(db_uri: str) -> None:
    # The database does not exist yet: the processes also race to create the schema.
    processes = [writer(db_uri, f"exec{i}", 80, 4) for i in range(4)]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert "locked" not in err
        assert out.strip().endswith("DONE")
    backend = RedunBackendDb(db_uri)
    backend.load()
    session = backend.session
    assert session.execute(select(func.count()).select_from(Execution)).scalar() == 4
    assert session.execute(select(func.count()).select_from(Job)).scalar() == 4 * 81
    statuses = {e.id: e.status for e in CallGraphQuery(session).filter_types(["Execution"]).all()}
    assert statuses == {f"exec{i}": "RUNNING" for i in range(4)}
    backend.close()


def test_sigkill_leaves_a_database_that_serves_every_done_job(db_uri: str) -> None:
    process = writer(db_uri, "killed", 40, 7, "--hang")
    for line in process.stdout:
        if line.strip() == "HANGING":
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)

    backend = RedunBackendDb(db_uri)
    backend.load()
    session = backend.session
    if db_uri.startswith("sqlite"):
        assert session.execute(text("pragma integrity_check")).scalar() == "ok"
        assert session.execute(text("pragma foreign_key_check")).all() == []
    execution = session.get(Execution, "killed")
    assert execution.status == "RUNNING"
    assert session.get(Job, "killed-last").end_time is None

    task = make_task("step")
    done = session.execute(
        select(Job).where(Job.execution_id == "killed", Job.end_time.is_not(None))
    ).scalars()
    done = list(done)
    assert len(done) == 40
    for job in done:
        node = job.call_node
        hit = backend.check_cache(
            cache_query(
                task.hash,
                node.args_hash,
                "0" * 40,
                "next-run",
                {task.hash},
                CacheScope.BACKEND,
                CacheCheckValid.SHALLOW,
            )
        )
        assert hit.kind == CacheResult.ULTIMATE and hit.result == node.value_parsed
    backend.close()


def test_sigkill_in_the_middle_of_flushes(tmp_path: Path) -> None:
    """Killed at an arbitrary point of a write: the file still opens, whole batches only."""
    uri = f"sqlite:///{tmp_path}/redun.db"
    process = writer(uri, "busy", 100000, 3)
    for line in process.stdout:
        if line.startswith("FLUSHED 300"):
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    backend = RedunBackendDb(uri)
    backend.load()
    session = backend.session
    assert session.execute(text("pragma integrity_check")).scalar() == "ok"
    done = session.execute(
        select(func.count()).select_from(Job).where(Job.end_time.is_not(None))
    ).scalar()
    assert done >= 300 and done % 3 == 0
    backend.close()
