"""The database goes away in the middle of a run and comes back: nothing is lost.

The test runs its own PostgreSQL server, stops it cleanly for 30 s (what a
managed failover looks like from the client) and starts it again. Meanwhile
jobs keep finishing: their records are held in memory, new jobs wait for their
cache lookups, and everything is written once the server answers again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redun.backends.db import CallNode, Execution, RedunBackendDb
from redun.testing.postgres import PostgresServer, find_server_bin
from sqlalchemy import func, select

from tests.core.reliability.helpers import Project, kill_session, read_log, wait_for_lines

OUTAGE_S = 30
STAGES = 6
PER_STAGE = 10

WORKFLOW = """
import time

from redun import task


@task()
def step(i: int, log: str) -> int:
    time.sleep(0.1)
    with open(log, "a") as out:
        out.write(f"{i} {time.time()}\\n")
    return i


@task()
def stage(k: int, n: int, log: str, previous: list) -> list:
    return [step(k * n + i, log) for i in range(n)]


@task()
def main(stages: int, n: int, log: str) -> int:
    results = []
    for k in range(stages):
        results = stage(k, n, log, results)
    return total(results)


@task()
def total(values: list) -> int:
    return len(values)
"""


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    """A server of this test alone: stopping it disturbs no other test."""
    bin_dir = find_server_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql")
    # Outside pytest's private tmp tree, which the postgres user cannot enter.
    root = Path(tempfile.mkdtemp(prefix="redun-pg-outage-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = PostgresServer(bin_dir, root)
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.postgres
def test_run_survives_a_30_s_postgres_outage(own_server: PostgresServer, tmp_path: Path) -> None:
    db_uri = own_server.create_database()
    project = Project(
        tmp_path, WORKFLOW, db_uri, **{"executors.default": {"type": "local", "max_workers": "4"}}
    )
    log = tmp_path / "ran.log"
    process = project.start(
        "main", "--stages", str(STAGES), "--n", str(PER_STAGE), "--log", str(log)
    )
    try:
        wait_for_lines(log, PER_STAGE + 2, process)
        own_server.stop("fast")
        time.sleep(OUTAGE_S)
        assert process.poll() is None, f"the run ended during the outage: {project.stderr[-3000:]}"
        own_server.start_server()
        code = process.wait(timeout=120)
    finally:
        kill_session(process.pid)
    assert code == 0, project.stderr[-3000:]
    assert project.stdout.strip().splitlines()[-1] == str(PER_STAGE)
    assert "does not answer" in project.stderr
    assert "answers again after" in project.stderr
    assert len(read_log(log)) == STAGES * PER_STAGE, "a job ran twice"

    backend = RedunBackendDb(db_uri)
    backend.load()
    session = backend.session
    steps = session.execute(
        select(func.count()).select_from(CallNode).where(CallNode.task_name == f"{project.ns}.step")
    ).scalar()
    assert steps == STAGES * PER_STAGE, "finished jobs were lost in the outage"
    assert [e.status for e in session.execute(select(Execution)).scalars()] == ["DONE"]
    backend.close()
