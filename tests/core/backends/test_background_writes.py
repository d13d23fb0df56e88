"""PostgreSQL flushes from try_flush are written by a writer thread: nothing is lost or unseen.

A real server's table lock holds the writer in the middle of its transaction,
so each test sees the state "handed over but not committed" for as long as it
needs, then lets the write finish.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from redun.backends.db import CallNode, Job, RedunBackendDb, RedunDatabaseError
from redun.cache import CacheCheckValid, CacheResult, CacheScope
from redun.hashing import hash_struct
from redun.testing.postgres import PostgresServer
from sqlalchemy import func, select

from tests.core.backends.helpers import cache_query, make_task, record_call

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_backend(postgres_server: PostgresServer) -> Iterator[RedunBackendDb]:
    backend = RedunBackendDb(postgres_server.create_database())
    backend.load(migrate=True)
    yield backend
    backend.close()


@contextmanager
def table_locked(backend: RedunBackendDb, table: str) -> Iterator[None]:
    """Another client holds `table` in SHARE mode: reads go on, a write waits for the block."""
    url = backend.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as other:
        other.execute(f"LOCK TABLE {table} IN SHARE MODE")
        yield
        other.rollback()


def rows(backend: RedunBackendDb, model: type) -> int:
    backend.end_read()
    with backend.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar()


def test_records_being_written_are_seen_and_kept(pg_backend: RedunBackendDb) -> None:
    backend = pg_backend
    task = make_task("held")
    call_hash, args_hash = record_call(backend, task, [1], 10)
    eval_hash = hash_struct(["Eval", task.hash, args_hash])
    backend.set_eval_cache(eval_hash, task.hash, args_hash, 10, backend.record_value(10))
    backend.record_job_start("job1", task, "exec1", None, False)
    backend.record_execution("exec1", ["redun", "run"], "job1")
    query = cache_query(
        task.hash,
        args_hash,
        eval_hash,
        "exec2",
        {task.hash},
        CacheScope.BACKEND,
        CacheCheckValid.FULL,
    )
    with table_locked(backend, "call_node"):
        assert backend.try_flush() is True  # handed over: the scheduler goes on
        time.sleep(0.2)
        # Neither in the buffer nor committed, yet every read sees the records.
        assert rows(backend, CallNode) == 0
        assert backend.get_value(backend.record_value(10)) == (10, True)
        assert backend.is_call_node_recorded(call_hash)
        hit = backend.check_cache(query)
        assert (hit.kind, hit.result) == (CacheResult.SINGLE, 10)
        # The job row is being written: its end becomes an update of the next batch.
        backend.record_job_end("job1", call_hash)
        backend.record_updated_time("exec1")
        assert backend.try_flush() is True  # the writer takes it once its batch is in
        time.sleep(0.2)
        assert rows(backend, CallNode) == 0
    backend.flush()  # waits for the writer
    assert rows(backend, CallNode) == 1
    with backend.engine.connect() as connection:
        job = connection.execute(select(Job.end_time, Job.call_hash)).one()
    assert job.call_hash == call_hash and job.end_time is not None


def test_a_batch_the_writer_cannot_write_is_reported_by_the_next_call(
    pg_backend: RedunBackendDb,
) -> None:
    backend = pg_backend
    task = make_task("bad")
    backend.record_value(task, task.hash)
    # A call edge to a call node that was never recorded breaks a foreign key.
    record_call(backend, task, [1], 1, children=("f" * 40,))
    assert backend.try_flush() is True
    deadline = time.monotonic() + 10
    with pytest.raises(RedunDatabaseError, match="Could not record provenance"):
        while time.monotonic() < deadline:
            backend.try_flush()
            time.sleep(0.05)
    # The invalid batch was dropped; what comes after is written.
    record_call(backend, task, [2], 2)
    assert backend.try_flush() is True
    backend.flush()
    assert rows(backend, CallNode) == 1


def test_a_dropped_connection_holds_the_batch_until_the_server_answers(
    pg_backend: RedunBackendDb,
) -> None:
    backend = pg_backend
    task = make_task("drop")
    record_call(backend, task, [1], 1)
    url = backend.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with table_locked(backend, "call_node"):
        assert backend.try_flush() is True
        time.sleep(0.2)
        with psycopg.connect(url, autocommit=True) as admin:
            # The writer's connection dies in the middle of its transaction.
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state <> 'idle' AND query LIKE 'INSERT%%'"
            )
        deadline = time.monotonic() + 10
        while backend.try_flush() is not False:
            assert time.monotonic() < deadline, "the failed write was never reported"
            time.sleep(0.05)
        assert backend.is_call_node_recorded(record_call(backend, task, [1], 1)[0])
    # The writer tries the held batch again; a flush waits for it.
    backend.flush()
    assert rows(backend, CallNode) == 1
