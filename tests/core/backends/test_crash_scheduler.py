"""A real `Scheduler.run` killed with SIGKILL: the next run reuses every job recorded as done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from redun.backends.db import Execution, Job, RedunBackendDb
from redun.backends.db.engine import make_engine
from redun.backends.db.query import CallGraphQuery
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

ROOT = Path(__file__).parents[3]
N = 60


def wait_for_done_steps(db_uri: str, count: int, timeout: float = 60) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        time.sleep(0.05)
        engine = make_engine(db_uri)
        try:
            with engine.connect() as connection:
                done = connection.execute(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.parent_id.is_not(None), Job.end_time.is_not(None))
                ).scalar()
        except DBAPIError:
            continue  # the schema is not created yet
        finally:
            engine.dispose()
        if done >= count:
            return True
    return False


def test_rerun_after_sigkill_reuses_done_jobs(db_uri: str, tmp_path: Path) -> None:
    log = tmp_path / "ran.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.core.backends.crash_workflow", db_uri, str(log), str(N)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Kill once some steps are recorded as done (the scheduler flushes each second).
    assert wait_for_done_steps(db_uri, 3), process.stderr.read().decode()[-2000:]
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    ran_before = log.read_text().split()
    assert len(ran_before) < N

    backend = RedunBackendDb(db_uri)
    backend.load()
    session = backend.session
    [execution] = CallGraphQuery(session).filter_types(["Execution"]).all()
    assert execution.status == "RUNNING"
    done_jobs = session.execute(
        select(Job).where(
            Job.execution_id == execution.id,
            Job.parent_id.is_not(None),
            Job.end_time.is_not(None),
        )
    ).scalars()
    done = {job.call_node.arguments[0].value_parsed for job in done_jobs}
    assert done, "some steps were recorded as done before the kill"
    backend.close()

    sys.path.insert(0, str(ROOT))
    from tests.core.backends.crash_workflow import run

    assert run(db_uri, str(log), N) == [i * i for i in range(N)]
    reran = {int(i) for i in log.read_text().split()[len(ran_before) :]}
    assert not reran & done
    assert reran | done == set(range(N))

    backend = RedunBackendDb(db_uri)
    backend.load()
    statuses = sorted(e.status for e in backend.session.execute(select(Execution)).scalars())
    assert statuses == ["DONE", "RUNNING"]
    backend.close()


def test_parallel_scheduler_runs_share_one_database(db_uri: str, tmp_path: Path) -> None:
    """Several `Scheduler.run` processes at once on one (new) database all succeed."""
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.core.backends.crash_workflow",
                db_uri,
                str(tmp_path / f"log{i}"),
                "8",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-2000:]
        assert "locked" not in err
        assert out.strip() == str([i * i for i in range(8)])
    backend = RedunBackendDb(db_uri)
    backend.load()
    executions = list(backend.session.execute(select(Execution)).scalars())
    assert sorted(e.status for e in executions) == ["DONE"] * 3
    backend.close()
