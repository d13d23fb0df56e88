"""A running job's row waits one write, so a job that ends by then is inserted once, complete."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from redun.backends.db import RedunBackendDb, schema
from sqlalchemy import event, select

from tests.core.backends.helpers import make_task, record_call

START = datetime(2026, 12, 4, 1, 0, 0, 250000, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


class JobWrites:
    """Rows each statement on the job table carried, by kind of statement."""

    def __init__(self, backend: RedunBackendDb) -> None:
        self.inserted = 0
        self.updated = 0
        backend._require_engine()
        event.listen(backend.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement: str, params, context, executemany: bool) -> None:
        rows = len(params) if executemany else 1
        if statement.startswith(("INSERT INTO job ", "COPY redun_copy_job ")):
            self.inserted += rows
        elif statement.startswith("UPDATE job "):
            self.updated += rows

    def take(self) -> tuple[int, int]:
        counts = self.inserted, self.updated
        self.inserted = self.updated = 0
        return counts


def stored_jobs(backend: RedunBackendDb) -> dict[str, tuple]:
    with backend.engine.connect() as connection:
        rows = connection.execute(select(schema.job)).all()
    return {row.id: tuple(row) for row in rows}


def record_run(backend: RedunBackendDb, write: str) -> Iterator[dict[str, tuple]]:
    """A root job with two children, one ending before the second write, one after;
    yields the stored jobs after each write (`write` names the method called)."""
    task = make_task("once")
    call_hash, _ = record_call(backend, task, [1], 2)
    backend.record_execution("exec", ["redun", "run"], "root")
    backend.record_job_start("root", task, "exec", None, False, start_time=at(0))
    backend.record_job_start("quick", task, "exec", "root", False, start_time=at(1))
    backend.record_job_start("slow", task, "exec", "root", True, start_time=at(2))
    getattr(backend, write)()
    yield stored_jobs(backend)
    backend.record_job_end("quick", call_hash, end_time=at(3))
    getattr(backend, write)()
    yield stored_jobs(backend)
    backend.record_job_end("slow", call_hash, end_time=at(4))
    backend.record_job_end("root", call_hash, end_time=at(5))
    getattr(backend, write)()
    yield stored_jobs(backend)


def test_a_job_ending_before_the_next_write_is_inserted_once(backend: RedunBackendDb) -> None:
    writes = JobWrites(backend)
    run = record_run(backend, "try_flush")
    # The root is written (its execution needs it); the running children wait.
    assert set(next(run)) == {"root"}
    assert writes.take() == (1, 0)
    assert backend.holds_records
    # One insert for the child that ended meanwhile; the other, held once, goes in running.
    second = next(run)
    assert writes.take() == (2, 0)
    assert second["quick"][2] == at(3)
    assert second["slow"][2] is None
    assert not backend.holds_records
    # The job whose end came in a later write still gets its update.
    third = next(run)
    assert writes.take() == (0, 2)
    assert third["slow"][2] == at(4) and third["root"][2] == at(5)


def test_the_rows_are_those_of_writing_everything_each_time(
    db_uri: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    other_uri = (
        f"sqlite:///{tmp_path}/other.db"
        if db_uri.startswith("sqlite")
        else request.getfixturevalue("postgres_server").create_database()
    )
    runs = {}
    for write, uri in (("try_flush", db_uri), ("flush", other_uri)):
        backend = RedunBackendDb(uri)
        backend.load(migrate=True)
        runs[write] = list(record_run(backend, write))
        backend.close()
    assert runs["try_flush"][-1] == runs["flush"][-1]
    assert len(runs["flush"][-1]) == 3


def test_a_running_parent_goes_in_with_its_finished_child(backend: RedunBackendDb) -> None:
    task = make_task("nested")
    call_hash, _ = record_call(backend, task, [1], 2)
    backend.record_execution("exec", [], "root")
    backend.record_job_start("root", task, "exec", None, False, start_time=at(0))
    backend.flush()
    backend.record_job_start("parent", task, "exec", "root", False, start_time=at(1))
    backend.record_job_start("child", task, "exec", "parent", False, start_time=at(2))
    backend.record_job_start("sibling", task, "exec", "root", False, start_time=at(2))
    backend.record_job_end("child", call_hash, end_time=at(3))
    backend.try_flush()
    stored = stored_jobs(backend)
    assert set(stored) == {"root", "parent", "child"}
    assert stored["parent"][2] is None and stored["child"][2] == at(3)


def test_a_full_flush_holds_nothing_back(backend: RedunBackendDb) -> None:
    task = make_task("full")
    record_call(backend, task, [1], 2)
    backend.record_execution("exec", [], "root")
    backend.record_job_start("root", task, "exec", None, False, start_time=at(0))
    backend.record_job_start("running", task, "exec", "root", False, start_time=at(1))
    backend.flush()
    assert set(stored_jobs(backend)) == {"root", "running"}
    assert not backend.holds_records


@pytest.mark.parametrize("write", ["try_flush", "flush"])
def test_a_held_row_is_read_before_it_is_written(backend: RedunBackendDb, write: str) -> None:
    task = make_task("seen")
    record_call(backend, task, [1], 2)
    backend.record_execution("exec", [], "root")
    backend.record_job_start("root", task, "exec", None, False, start_time=at(0))
    backend.record_job_start("running", task, "exec", "root", False, start_time=at(1))
    getattr(backend, write)()
    # Any read writes everything first, as it always did.
    assert backend.get_job("running") == {
        "job_id": "running",
        "parent_id": "root",
        "execution_id": "exec",
    }


def test_a_chain_of_held_jobs_is_written_parents_first(backend: RedunBackendDb) -> None:
    task = make_task("chain")
    record_call(backend, task, [1], 2)
    backend.record_execution("exec", [], "root")
    backend.record_job_start("root", task, "exec", None, False, start_time=at(0))
    backend.flush()
    parent = "root"
    for i in range(50):
        backend.record_job_start(f"j{i:02d}", task, "exec", parent, False, start_time=at(i))
        parent = f"j{i:02d}"
    backend.try_flush()
    assert backend.holds_records
    backend.try_flush()
    assert len(stored_jobs(backend)) == 51
