"""The scheduler's write path: records gathered in memory, written in one transaction.

Every insert is idempotent (ON CONFLICT DO NOTHING; evaluations are upserted),
so a flush that failed half-way, or was retried after a dropped connection,
can simply be run again, and two processes recording the same value never
conflict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, update
from sqlalchemy.dialects import sqlite

from redun.backends.db import schema
from redun.backends.db.driver_sql import CopyInsert, DriverStatements

_STATEMENTS = DriverStatements()
_COPIES: dict[tuple, CopyInsert] = {}
# Fewer rows than this go by executemany: COPY costs three statements whatever the count.
COPY_MIN_ROWS = 20


def dialect_insert(connection: Connection, table: Table) -> Any:
    """INSERT in the dialect that knows ON CONFLICT."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    return sqlite.insert(table)


def _by_columns(rows: list[dict]) -> dict[tuple[str, ...], list[dict]]:
    """Rows grouped by the columns they give (almost always one group)."""
    groups: dict[tuple[str, ...], list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return groups


def _insert_rows(
    connection: Connection, table: Table, conflict: Callable[[Any], Any], rows: list[dict]
) -> None:
    """INSERT `rows` with the ON CONFLICT clause `conflict` adds, per group of columns given.

    On PostgreSQL a group of COPY_MIN_ROWS or more goes by COPY (`CopyInsert`).
    """
    dialect = connection.dialect
    groups = _by_columns(rows)
    copy = dialect.name == "postgresql" and CopyInsert.fits(table)
    for index, (columns, group) in enumerate(groups.items()):
        if copy and len(group) >= COPY_MIN_ROWS:
            key = (dialect.name, table.name, conflict, columns)
            inserter = _COPIES.get(key)
            if inserter is None:
                inserter = _COPIES[key] = CopyInsert(table, columns, dialect, conflict)
            inserter.write(connection, group, clear=index < len(groups) - 1)
            continue
        _STATEMENTS.get(
            dialect,
            ("insert", table.name, conflict),
            lambda: conflict(dialect_insert(connection, table)),
            columns,
        ).executemany(connection, group)


def _ignore(stmt: Any) -> Any:
    return stmt.on_conflict_do_nothing()


def _upsert_evaluation(stmt: Any) -> Any:
    """A recorded evaluation takes the latest result."""
    return stmt.on_conflict_do_update(
        index_elements=["eval_hash"], set_={"value_hash": stmt.excluded.value_hash}
    )


def insert_ignore(connection: Connection, table: Table, rows: list[dict]) -> None:
    _insert_rows(connection, table, _ignore, rows)


class WriteBuffer:
    """Rows waiting for the next flush, indexed so reads can see them."""

    def __init__(self) -> None:
        self.values: dict[str, dict] = {}
        self.files: dict[str, dict] = {}
        self.tasks: dict[str, dict] = {}
        self.subvalues: set[tuple[str, str]] = set()
        self.call_nodes: dict[str, dict] = {}
        self.calls_by_key: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.call_edges: list[dict] = []
        self.arguments: dict[str, dict] = {}
        self.argument_results: set[tuple[str, str]] = set()
        self.subtree_tasks: dict[str, set[str]] = {}
        self.evaluations: dict[str, dict] = {}
        self.jobs: dict[str, dict] = {}
        # Rows of `jobs` kept back once already (see jobs_to_hold): the next write takes them.
        self.held_jobs: set[str] = set()
        self.job_ends: dict[str, dict] = {}
        self.executions: dict[str, dict] = {}
        self.execution_updates: dict[str, datetime] = {}
        self.handles: dict[str, dict] = {}
        self.handle_edges: set[tuple[str, str]] = set()
        self.tags: dict[str, dict] = {}
        self.tag_edits: set[tuple[str, str]] = set()  # (parent, child): imported tag history
        # Serialized value bytes held, so that large results are written early.
        self.value_bytes = 0

    def __bool__(self) -> bool:
        return bool(
            self.values
            or self.call_nodes
            or self.evaluations
            or self.jobs
            or self.job_ends
            or self.executions
            or self.execution_updates
            or self.handles
            or self.tags
        )

    def add_call_node(self, row: dict, subtree: set[str]) -> None:
        self.call_nodes[row["call_hash"]] = row
        self.calls_by_key[(row["task_hash"], row["args_hash"])].append(row["call_hash"])
        self.subtree_tasks[row["call_hash"]] = subtree

    def jobs_to_hold(self) -> set[str]:
        """Running jobs whose row can wait for the next write, to be written once, complete.

        A job's row is inserted when it starts and updated when it ends; if both
        fall in one write, the row goes in once. A job started since the last
        write and still running may well end before the next, so its row waits
        for that write (once: a row held before is written whatever its state).
        A row that a row being written needs stays in: an execution's root job
        and the ancestors of every job written (their foreign keys).
        """
        jobs, held_before = self.jobs, self.held_jobs
        held = {
            job_id
            for job_id, row in jobs.items()
            if row["end_time"] is None and job_id not in held_before
        }
        if not held:
            return held

        def needed(job_id: str | None) -> None:
            while job_id in held:
                held.discard(job_id)
                job_id = jobs[job_id]["parent_id"]

        for execution in self.executions.values():
            needed(execution["job_id"])
        for job_id, row in jobs.items():
            if job_id not in held:
                needed(row["parent_id"])
        return held

    def remainder(self, held: set[str]) -> WriteBuffer:
        """A buffer holding only the rows of `held` jobs, for after this one is written."""
        rest = WriteBuffer()
        # In start order, parents before children (SQLite checks each row's parent).
        rest.jobs = {job_id: row for job_id, row in self.jobs.items() if job_id in held}
        rest.held_jobs = set(held)
        return rest

    def write(self, connection: Connection, held: AbstractSet[str] = frozenset()) -> None:
        """Insert everything but the `held` jobs' rows, parents before children (foreign
        keys hold at every step)."""
        insert_ignore(connection, schema.value, list(self.values.values()))
        insert_ignore(
            connection,
            schema.subvalue,
            [{"value_hash": c, "parent_value_hash": p} for c, p in self.subvalues],
        )
        insert_ignore(connection, schema.file, list(self.files.values()))
        insert_ignore(connection, schema.task, list(self.tasks.values()))
        insert_ignore(connection, schema.call_node, list(self.call_nodes.values()))
        insert_ignore(connection, schema.call_edge, self.call_edges)
        insert_ignore(connection, schema.argument, list(self.arguments.values()))
        insert_ignore(
            connection,
            schema.argument_result,
            [{"arg_hash": a, "result_call_hash": c} for a, c in self.argument_results],
        )
        insert_ignore(
            connection,
            schema.call_subtree_task,
            [
                {"call_hash": call_hash, "task_hash": task_hash}
                for call_hash, task_hashes in self.subtree_tasks.items()
                for task_hash in task_hashes
            ],
        )
        self._upsert_evaluations(connection)
        insert_ignore(
            connection,
            schema.job,
            [row for job_id, row in self.jobs.items() if job_id not in held]
            if held
            else list(self.jobs.values()),
        )
        _STATEMENTS.get(
            connection.dialect,
            "job_end",
            lambda: (
                update(schema.job)
                .where(schema.job.c.id == bindparam("b_id"))
                .values(end_time=bindparam("b_end_time"), call_hash=bindparam("b_call_hash"))
            ),
        ).executemany(
            connection,
            (
                {"b_id": job_id, "b_end_time": row["end_time"], "b_call_hash": row["call_hash"]}
                for job_id, row in self.job_ends.items()
            ),
        )
        insert_ignore(connection, schema.execution, list(self.executions.values()))
        _STATEMENTS.get(
            connection.dialect,
            "execution_update",
            lambda: (
                update(schema.execution)
                .where(schema.execution.c.id == bindparam("b_id"))
                .values(updated_time=bindparam("b_time"))
            ),
        ).executemany(
            connection, ({"b_id": i, "b_time": t} for i, t in self.execution_updates.items())
        )
        insert_ignore(connection, schema.handle, list(self.handles.values()))
        if self.handles:
            # A state recorded again (a superseded branch re-run) is current again.
            connection.execute(
                update(schema.handle)
                .where(
                    schema.handle.c.hash.in_(list(self.handles)),
                    schema.handle.c.is_valid.is_(False),
                )
                .values(is_valid=True)
            )
        insert_ignore(
            connection,
            schema.handle_edge,
            [{"parent_id": p, "child_id": c} for p, c in self.handle_edges],
        )
        insert_ignore(connection, schema.tag, list(self.tags.values()))
        insert_ignore(
            connection,
            schema.tag_edit,
            [{"parent_id": p, "child_id": c} for p, c in self.tag_edits],
        )

    def _upsert_evaluations(self, connection: Connection) -> None:
        _insert_rows(
            connection, schema.evaluation, _upsert_evaluation, list(self.evaluations.values())
        )
