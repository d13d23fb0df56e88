"""Driver SQL: the hot path bypasses SQLAlchemy's per-call work, not its types, events or errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from redun.backends.base import TagEntity
from redun.backends.db import RedunBackendDb, schema
from redun.backends.db.buffer import dialect_insert
from redun.backends.db.driver_sql import DriverStatement
from redun.cache import CacheCheckValid, CacheScope
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from tests.core.backends.helpers import cache_query, make_task, record_call


def test_cache_lookups_are_seen_by_statement_listeners(backend: RedunBackendDb) -> None:
    seen: list[str] = []

    def on_execute(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    task = make_task("listened")
    event.listen(backend.engine, "before_cursor_execute", on_execute)
    try:
        backend.check_cache(
            cache_query(
                task.hash,
                "a" * 40,
                "e" * 40,
                "exec",
                {task.hash},
                CacheScope.BACKEND,
                CacheCheckValid.FULL,
            )
        )
    finally:
        event.remove(backend.engine, "before_cursor_execute", on_execute)
    assert any("evaluation" in statement for statement in seen)


def test_column_types_convert_parameters(backend: RedunBackendDb) -> None:
    """Timestamps are stored as UTC and tag values as the dialect's JSON, as through the ORM."""
    task = make_task("typed")
    backend.record_value(task, task.hash)
    call_hash, _ = record_call(backend, task, [1], 2)
    backend.record_tags(TagEntity.CallNode, call_hash, [("key", {"b": [1, 2], "a": None})])
    backend.flush()
    with backend.engine.connect() as connection:
        stamp = connection.execute(
            select(schema.call_node.c.timestamp).where(schema.call_node.c.call_hash == call_hash)
        ).scalar()
        value = connection.execute(
            select(schema.tag.c.value).where(schema.tag.c.entity_id == call_hash)
        ).scalar()
    assert stamp.tzinfo is not None and stamp.utcoffset().total_seconds() == 0
    assert value == {"a": None, "b": [1, 2]}


def test_naive_timestamps_are_still_refused(backend: RedunBackendDb) -> None:
    statement = DriverStatement(
        dialect_insert(backend._hot(), schema.execution).on_conflict_do_nothing(),
        backend.engine.dialect,
        ["id", "args", "job_id", "updated_time"],
    )
    with pytest.raises(ValueError, match="timezone naive"):
        statement.params({"id": "x", "args": "", "job_id": "j", "updated_time": datetime.now()})
    from redun.backends.db.types import DateTimeUTC

    dialect = backend.engine.dialect
    aware = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    params = statement.params({"id": "x", "args": "", "job_id": "j", "updated_time": aware})
    values = list(params.values()) if isinstance(params, dict) else list(params)
    converted = DateTimeUTC().dialect_impl(dialect).bind_processor(dialect)(aware)
    assert converted in values and "x" in values and "j" in values


def test_rows_without_a_defaulted_column_are_a_programming_error(backend: RedunBackendDb) -> None:
    with pytest.raises(ValueError, match="every column with a default"):
        DriverStatement(
            dialect_insert(backend._hot(), schema.job).on_conflict_do_nothing(),
            backend.engine.dialect,
            ["id", "start_time", "task_hash", "execution_id"],
        )


def test_lookup_errors_are_sqlalchemy_errors(tmp_path) -> None:
    """Retries and reconnects key on SQLAlchemy's error types, so raw cursor errors are wrapped."""
    backend = RedunBackendDb(f"sqlite:///{tmp_path}/redun.db")
    backend.load(migrate=True)
    try:
        broken = DriverStatement(
            select(schema.value.c.type).where(schema.value.c.value_hash == "x"),
            backend.engine.dialect,
        )
        broken.sql = broken.sql.replace("FROM value", "FROM no_such_table")
        with pytest.raises(OperationalError, match="no_such_table"):
            broken.fetchall(backend._hot(), {})
    finally:
        backend.close()


@pytest.mark.parametrize(
    "stamp",
    [
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-7))),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
def test_sqlite_timestamps_are_stored_as_sqlalchemy_stores_utc(stamp: datetime) -> None:
    from redun.backends.db.types import DateTimeUTC
    from sqlalchemy import DateTime
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    ours = DateTimeUTC().dialect_impl(dialect).bind_processor(dialect)
    reference = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    assert ours(stamp) == reference(stamp.astimezone(timezone.utc))
    assert ours(None) is None
    with pytest.raises(ValueError, match="timezone naive"):
        ours(stamp.replace(tzinfo=None))
