"""A run that died without a word (SIGKILL) shows as STOPPED once its heartbeat is stale.

A running scheduler refreshes its execution's updated_time every HEARTBEAT_INTERVAL;
readers call an execution whose heartbeat is older than STALE_AFTER stopped.
"""

from __future__ import annotations

import os
import signal
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
    import subprocess

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


@pytest.mark.slow
def test_a_killed_run_is_stopped_in_redun_log(tmp_path: Path) -> None:
    project = Project(tmp_path, WORKFLOW, **{"executors.default": {"type": "local"}})
    log = tmp_path / "ran.log"
    process = project.start("main", "--n", "200", "--log", str(log))
    try:
        wait_for_lines(log, 3, process)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        kill_session(process.pid)
    [line] = redun_log(project)
    assert "[ RUN  ]" in line  # moments later it could still be alive
    backend = RedunBackendDb(project.db_uri)
    backend.load()
    [execution_id] = backend.session.execute(select(Execution.id)).scalars()
    # Let an hour pass for the last heartbeat.
    with backend.engine.begin() as connection:
        connection.execute(
            update(schema.execution).values(
                updated_time=datetime.now(timezone.utc) - timedelta(hours=1)
            )
        )
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
