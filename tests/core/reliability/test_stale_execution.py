"""A run that died without a word (SIGKILL) shows as STOPPED once its heartbeat is stale.

A running scheduler refreshes its execution's updated_time every HEARTBEAT_INTERVAL;
readers call an execution whose heartbeat is older than STALE_AFTER stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from redun import Scheduler, task
from redun.backends.db import Execution, RedunBackendDb, schema
from redun.backends.db.status import STALE_AFTER
from redun.config import Config
from redun.scheduler import scheduler as scheduler_module
from sqlalchemy import select, update

from tests.core.reliability.helpers import REDUN, Project, kill_session, wait_for_lines
from tests.helpers.aging import age_execution

redun_namespace = "stale_test"

WORKFLOW = """
import time

from redun import task


@task()
def work(i: int, log: str) -> int:
    time.sleep(0.2)
    with open(log, "a") as out:
        out.write(f"{i} {time.time()}\\n")
    return i


@task()
def main(n: int, log: str) -> list:
    return [work(i, log) for i in range(n)]
"""


def redun_log(project: Project, *args: str) -> list[str]:
    done = subprocess.run(
        [*REDUN, "-c", str(project.config_dir), "log", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line.startswith("Exec ")]


def test_heartbeats_stay_far_below_the_stale_limit() -> None:
    assert STALE_AFTER.total_seconds() >= 5 * scheduler_module.HEARTBEAT_INTERVAL


def wait_for_recorded_execution(
    project: Project, process: subprocess.Popen, timeout: float = 60
) -> None:
    """Task bodies may finish before the first write: kill only a run the log can see."""
    deadline = time.monotonic() + timeout
    while not redun_log(project):
        assert process.poll() is None, "the run ended too early"
        assert time.monotonic() < deadline, f"no execution recorded in {timeout} s"
        time.sleep(0.2)


@pytest.mark.slow
def test_a_killed_run_is_stopped_in_redun_log(tmp_path: Path) -> None:
    project = Project(tmp_path, WORKFLOW, **{"executors.default": {"type": "local"}})
    log = tmp_path / "ran.log"
    process = project.start("main", "--n", "200", "--log", str(log))
    try:
        wait_for_lines(log, 3, process)
        wait_for_recorded_execution(project, process)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        kill_session(process.pid)
    [line] = redun_log(project)
    assert "[ RUN  ]" in line  # moments later it could still be alive
    backend = RedunBackendDb(project.db_uri)
    backend.load()
    [execution_id] = backend.session.execute(select(Execution.id)).scalars()
    # Let an hour pass since its last sign of life.
    age_execution(backend.engine, execution_id)
    backend.close()
    [line] = redun_log(project)
    assert line.startswith(f"Exec {execution_id[:8]} [ STOP ]"), line
    assert redun_log(project, "--exec-status", "STOPPED") == [line]
    assert redun_log(project, "--exec-status", "RUNNING") == []


@task
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_a_running_scheduler_refreshes_its_heartbeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduler_module, "HEARTBEAT_INTERVAL", 0.2)
    db_uri = f"sqlite:///{tmp_path / 'redun.db'}"
    Scheduler(config=Config({"backend": {"db_uri": db_uri}})).run(nap(1.2))
    backend = RedunBackendDb(db_uri)
    backend.load()
    [execution] = backend.session.execute(select(Execution)).scalars()
    assert execution.updated_time - execution.job.start_time >= timedelta(seconds=0.8)
    assert execution.status == "DONE"
    backend.close()


LEGACY_DB = Path(__file__).parents[1] / "backends" / "data" / "redun-0.44.1.db"


def _busy_legacy_run(tmp_path: Path, last_job_event: timedelta) -> tuple[RedunBackendDb, str]:
    """A redun 0.44.1 database whose first execution is still running, as redun 0.44.1
    leaves one while busy: its heartbeat is the start (it refreshes it only after
    job_status_interval, 20 s, without any event), its jobs keep ending; the last
    one ended `last_job_event` ago."""
    path = tmp_path / "redun.db"
    shutil.copy(LEGACY_DB, path)
    backend = RedunBackendDb(f"sqlite:///{path}")
    backend.load()
    execution = backend.session.scalars(select(Execution).order_by(Execution.id)).first()
    execution_id, root_id = execution.id, execution.job_id
    now = datetime.now(timezone.utc)
    job = schema.job
    with backend.engine.begin() as connection:
        connection.execute(
            update(schema.execution)
            .where(schema.execution.c.id == execution_id)
            .values(updated_time=now - timedelta(hours=1))
        )
        connection.execute(
            update(job)
            .where(job.c.execution_id == execution_id)
            .values(start_time=now - timedelta(hours=1), end_time=now - timedelta(hours=1))
        )
        connection.execute(
            update(job).where(job.c.id == root_id).values(end_time=None, call_hash=None)
        )
        child = select(job.c.id).where(job.c.execution_id == execution_id, job.c.id != root_id)
        connection.execute(
            update(job)
            .where(job.c.id == child.limit(1).scalar_subquery())
            .values(start_time=now - last_job_event, end_time=now - last_job_event)
        )
    backend.end_read()
    return backend, execution_id


def _statuses(backend: RedunBackendDb, execution_id: str) -> dict[str, object]:
    """The execution's status as every reader sees it."""
    from redun.backends.db.reader import RecordFilter

    reader = backend.reader()
    listed = {row.id: row.status for row in reader.list_executions()}
    filtered = {
        status: [
            ref.id
            for ref in reader.search(RecordFilter(execution_statuses=(status,))).refs()
            if ref.type == "Execution"
        ]
        for status in ("RUNNING", "STOPPED")
    }
    backend.session.expire_all()
    return {
        "list": listed[execution_id],
        "one": reader.execution(execution_id).status,
        "orm": backend.session.get(Execution, execution_id).status,
        "running": execution_id in filtered["RUNNING"],
        "stopped": execution_id in filtered["STOPPED"],
    }


def test_a_busy_redun_044_run_is_running_while_its_jobs_keep_ending(tmp_path: Path) -> None:
    backend, execution_id = _busy_legacy_run(tmp_path, last_job_event=timedelta(seconds=5))
    try:
        assert _statuses(backend, execution_id) == {
            "list": "RUNNING",
            "one": "RUNNING",
            "orm": "RUNNING",
            "running": True,
            "stopped": False,
        }
    finally:
        backend.close()


def test_a_redun_044_run_without_heartbeat_or_job_events_is_stopped(tmp_path: Path) -> None:
    backend, execution_id = _busy_legacy_run(tmp_path, last_job_event=STALE_AFTER * 2)
    try:
        assert _statuses(backend, execution_id) == {
            "list": "STOPPED",
            "one": "STOPPED",
            "orm": "STOPPED",
            "running": False,
            "stopped": True,
        }
    finally:
        backend.close()
