"""PostgreSQL bulk inserts by COPY: the same rows, types and conflict rules as the INSERTs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from redun.backends.db import RedunBackendDb, schema
from redun.backends.db.buffer import COPY_MIN_ROWS, WriteBuffer, insert_ignore
from redun.testing.postgres import PostgresServer
from sqlalchemy import event, select

from tests.core.backends.helpers import make_task

pytestmark = pytest.mark.postgres
START = datetime(2026, 12, 3, 17, 0, 0, 123456, tzinfo=timezone.utc)


@pytest.fixture
def pg_backend(postgres_server: PostgresServer) -> Iterator[RedunBackendDb]:
    backend = RedunBackendDb(postgres_server.create_database())
    backend.load(migrate=True)
    yield backend
    backend.close()


def statements(backend: RedunBackendDb) -> list[str]:
    seen: list[str] = []
    event.listen(
        backend.engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: seen.append(statement),
    )
    return seen


def job_rows(task_hash: str, count: int, prefix: str, ended: bool) -> list[dict]:
    rows = []
    for i in range(count):
        row = {
            "id": f"{prefix}{i:04d}",
            "start_time": START + timedelta(seconds=i),
            "task_hash": task_hash,
            "cached": i % 2 == 0,
            "execution_id": "exec1",
        }
        if ended:
            # A non-UTC offset must be stored as the same instant.
            row["end_time"] = (START + timedelta(minutes=1)).astimezone(
                timezone(timedelta(hours=-8))
            )
            row["call_hash"] = None
            row["parent_id"] = f"{prefix}0000" if i else None
        rows.append(row)
    return rows


def test_rows_of_two_column_sets_arrive_intact_and_once(pg_backend: RedunBackendDb) -> None:
    backend = pg_backend
    task = make_task("copied")
    backend.record_value(task, task.hash)
    backend.flush()
    ended = job_rows(task.hash, COPY_MIN_ROWS + 5, "a", ended=True)
    started = job_rows(task.hash, COPY_MIN_ROWS + 5, "b", ended=False)
    execution = [{"id": "exec1", "args": "[]", "job_id": "a0000", "updated_time": START}]
    seen = statements(backend)
    for _ in range(2):  # a retried write inserts nothing twice
        with backend.engine.begin() as connection:
            insert_ignore(connection, schema.job, ended + started)
            insert_ignore(connection, schema.execution, execution)
    assert sum(s.startswith("COPY redun_copy_job") for s in seen) == 4  # two groups, twice
    assert not [s for s in seen if s.startswith("INSERT INTO job") and "VALUES" in s]
    with backend.engine.connect() as connection:
        stored = connection.execute(select(schema.job).order_by(schema.job.c.id)).all()
    assert len(stored) == len(ended) + len(started)
    first, later = stored[0], stored[len(ended) - 1]
    assert first.start_time == START and first.cached is True and first.parent_id is None
    assert later.cached is (len(ended) % 2 == 1) and later.parent_id == "a0000"
    assert first.end_time == START + timedelta(minutes=1)
    assert all(row.end_time is None for row in stored[len(ended) :])


def test_a_flush_of_many_records_goes_by_copy_with_upserted_evaluations(
    pg_backend: RedunBackendDb,
) -> None:
    backend = pg_backend
    task = make_task("bulk")
    backend.record_value(task, task.hash)
    count = COPY_MIN_ROWS * 2
    for i in range(count):
        backend.set_eval_cache(f"{i:040d}", task.hash, "a" * 40, i, backend.record_value(i))
        backend.record_value(bytes([i]) * 3)
    seen = statements(backend)
    backend.flush()
    copied = {s.split()[1] for s in seen if s.startswith("COPY")}
    assert {"redun_copy_value", "redun_copy_evaluation"} <= copied
    assert not [s for s in seen if s.startswith("INSERT INTO evaluation") and "VALUES" in s]
    # A later result of the same evaluations replaces the first (ON CONFLICT DO UPDATE).
    for i in range(count):
        backend.set_eval_cache(f"{i:040d}", task.hash, "a" * 40, -i, backend.record_value(-i))
    backend.flush()
    with backend.engine.connect() as connection:
        values = dict(
            connection.execute(select(schema.value.c.value_hash, schema.value.c.value)).all()
        )
        results = connection.execute(
            select(schema.evaluation.c.eval_hash, schema.evaluation.c.value_hash)
        ).all()
    assert len(results) == count
    for eval_hash, value_hash in results:
        assert backend.get_value(value_hash)[0] == -int(eval_hash)
    stored_bytes = backend.get_value(backend.record_value(bytes([7]) * 3))
    assert stored_bytes == (b"\x07\x07\x07", True)
    assert all(isinstance(data, bytes) for data in values.values())


def test_a_small_batch_still_goes_by_insert(pg_backend: RedunBackendDb) -> None:
    backend = pg_backend
    buffer = WriteBuffer()
    buffer.values = {
        f"{i:040d}": {"value_hash": f"{i:040d}", "type": "int", "format": "x", "value": b"1"}
        for i in range(COPY_MIN_ROWS - 1)
    }
    seen = statements(backend)
    with backend.engine.begin() as connection:
        buffer.write(connection)
    assert [s for s in seen if s.startswith("INSERT INTO value")]
    assert not [s for s in seen if s.startswith("COPY")]


def test_the_copy_table_is_looked_up_once_a_transaction_and_created_once(
    pg_backend: RedunBackendDb,
) -> None:
    backend = pg_backend
    task = make_task("probed")
    backend.record_value(task, task.hash)
    backend.flush()
    seen = statements(backend)
    with backend.engine.connect() as connection:
        for batch in ("a", "b"):
            with connection.begin():
                # Two groups of columns: two COPYs into one temporary table.
                insert_ignore(
                    connection,
                    schema.job,
                    job_rows(task.hash, COPY_MIN_ROWS, batch, ended=True)
                    + job_rows(task.hash, COPY_MIN_ROWS, batch + "s", ended=False),
                )
                insert_ignore(
                    connection,
                    schema.execution,
                    [{"id": "exec1", "args": "[]", "job_id": "a0000", "updated_time": START}],
                )
    probes = [s for s in seen if "pg_my_temp_schema" in s]
    creates = [s for s in seen if s.startswith("CREATE TEMPORARY TABLE")]
    assert len(probes) == 2  # one per transaction
    assert len(creates) == 1  # the session keeps it
    with backend.engine.connect() as connection:
        assert len(connection.execute(select(schema.job.c.id)).all()) == 4 * COPY_MIN_ROWS


def test_a_session_without_the_copy_table_gets_it_again(pg_backend: RedunBackendDb) -> None:
    """What a pooler handing the next transaction another server session looks like."""
    backend = pg_backend
    task = make_task("pooled")
    backend.record_value(task, task.hash)
    backend.flush()
    execution = [{"id": "exec1", "args": "[]", "job_id": "a0000", "updated_time": START}]
    with backend.engine.connect() as connection:
        with connection.begin():
            insert_ignore(connection, schema.job, job_rows(task.hash, COPY_MIN_ROWS, "a", True))
            insert_ignore(connection, schema.execution, execution)
        connection.exec_driver_sql("DISCARD TEMP")
        connection.commit()
        with connection.begin():
            insert_ignore(connection, schema.job, job_rows(task.hash, COPY_MIN_ROWS, "b", True))
        # A savepoint rolled back takes its CREATE with it; the next one makes it again.
        connection.exec_driver_sql("DISCARD TEMP")
        connection.commit()
        with connection.begin():
            savepoint = connection.begin_nested()
            insert_ignore(connection, schema.job, job_rows(task.hash, COPY_MIN_ROWS, "c", True))
            savepoint.rollback()
            with connection.begin_nested():
                insert_ignore(connection, schema.job, job_rows(task.hash, COPY_MIN_ROWS, "d", True))
        stored = {row.id[0] for row in connection.execute(select(schema.job.c.id))}
    assert stored == {"a", "b", "d"}
