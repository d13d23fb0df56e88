"""Values, arguments, call nodes, tasks and jobs in detail, as rows.

The read model's queries behind detail views (`redun.backends.db.reader` is
their public face). A value's preview and a failure's traceback are decoded
here, once, so that every UI shows the same text for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from redun.backends.db.browse import (
    PAGE_SIZE,
    _job_page,
    _job_rows,
    _job_select,
    child_jobs,
    chunks,
    get_job,
    get_tags,
    task_versions,
    value_consumers,
    value_producers,
)
from redun.backends.db.models import Argument, CallEdge, CallNode, File, Job, Subvalue, Task, Value
from redun.backends.db.rows import (
    ArgumentRow,
    CallNodeDetail,
    CallNodeRow,
    Failure,
    FileRow,
    JobDetail,
    JobRow,
    TaskDetail,
    TaskRow,
    ValueDetail,
    ValueRow,
    positional_then_keyword,
    task_fullname,
)
from redun.utils import trim_string

RELATED_LIMIT = 100


@dataclass(frozen=True)
class StoredValue:
    """A value row as stored (what the backend decodes and previews)."""

    value_hash: str
    type: str
    format: str
    value: bytes

    @property
    def in_value_store(self) -> bool:
        return len(self.value) == 0


def _stored(session: Session, value_hash: str) -> StoredValue | None:
    row = session.execute(
        select(Value.value_hash, Value.type, Value.format, Value.value).where(
            Value.value_hash == value_hash
        )
    ).first()
    return StoredValue(*row) if row is not None else None


def preview_object(session: Session, value_hash: str) -> Any:
    """The value for display: decoded, pickle-previewed, or a stand-in when too large."""
    stored = _stored(session, value_hash)
    if stored is None:
        return None
    return session.backend.preview_value_row(stored)  # type: ignore[attr-defined]


def load_value(session: Session, value_hash: str) -> tuple[Any, bool]:
    """The value itself, as a task would receive it (``(None, False)`` if unreadable)."""
    return session.backend.get_value(value_hash)  # type: ignore[attr-defined]


def _preview_text(session: Session, stored: StoredValue) -> str:
    """A short repr that never fails: undecodable values show their type."""
    try:
        text = repr(session.backend.preview_value_row(stored))  # type: ignore[attr-defined]
    except Exception as error:  # a corrupt or foreign pickle must not break a listing
        text = f"<{stored.type}: cannot decode ({type(error).__name__})>"
    return trim_string(text or stored.type)


def value_rows(session: Session, value_hashes: Sequence[str]) -> dict[str, ValueRow]:
    """{hash: ValueRow} of these values (with a File's path, without tags)."""
    found: dict[str, ValueRow] = {}
    stmt = select(Value.value_hash, Value.type, Value.format, Value.value, File.path).outerjoin(
        File, File.value_hash == Value.value_hash
    )
    for chunk in chunks(sorted(set(value_hashes))):
        for value_hash, type_name, format_, data, path in session.execute(
            stmt.where(Value.value_hash.in_(chunk))
        ):
            stored = StoredValue(value_hash, type_name, format_, data)
            found[value_hash] = ValueRow(
                value_hash, type_name, format_, _preview_text(session, stored), path
            )
    return found


def get_value(session: Session, value_hash: str) -> ValueRow | None:
    row = value_rows(session, [value_hash]).get(value_hash)
    if row is None:
        return None
    return replace(row, tags=get_tags(session, [value_hash]).get(value_hash, ()))


def call_arguments(
    session: Session, call_hashes: Sequence[str]
) -> dict[str, tuple[ArgumentRow, ...]]:
    """{call hash: its arguments, positional in order then keywords by name}."""
    rows: list[tuple[str, int | None, str | None, str]] = []
    stmt = select(Argument.call_hash, Argument.arg_position, Argument.arg_key, Argument.value_hash)
    for chunk in chunks(sorted(set(call_hashes))):
        rows.extend(session.execute(stmt.where(Argument.call_hash.in_(chunk))).all())
    values = value_rows(session, [value_hash for *_, value_hash in rows])
    found: dict[str, list[ArgumentRow]] = {call_hash: [] for call_hash in call_hashes}
    for call_hash, position, key, value_hash in rows:
        found[call_hash].append(ArgumentRow(position, key, values[value_hash]))
    return {call_hash: positional_then_keyword(tuple(args)) for call_hash, args in found.items()}


def call_nodes(session: Session, call_hashes: Sequence[str]) -> dict[str, CallNodeRow]:
    """{call hash: CallNodeRow} with arguments, result and tags."""
    rows = []
    stmt = select(
        CallNode.call_hash,
        CallNode.task_name,
        CallNode.task_hash,
        CallNode.args_hash,
        CallNode.value_hash,
        CallNode.timestamp,
        Task.name,
        Task.namespace,
    ).outerjoin(Task, Task.hash == CallNode.task_hash)
    for chunk in chunks(sorted(set(call_hashes))):
        rows.extend(session.execute(stmt.where(CallNode.call_hash.in_(chunk))).all())
    arguments = call_arguments(session, [row.call_hash for row in rows])
    results = value_rows(session, [row.value_hash for row in rows])
    tags = get_tags(session, [row.call_hash for row in rows])
    return {
        row.call_hash: CallNodeRow(
            call_hash=row.call_hash,
            task_name=task_fullname(row.namespace, row.name) if row.name else row.task_name,
            task_hash=row.task_hash,
            args_hash=row.args_hash,
            timestamp=row.timestamp,
            arguments=arguments[row.call_hash],
            result=results[row.value_hash],
            tags=tags.get(row.call_hash, ()),
        )
        for row in rows
    }


def get_call_node(session: Session, call_hash: str) -> CallNodeRow | None:
    return call_nodes(session, [call_hash]).get(call_hash)


def call_node_detail(session: Session, call_hash: str) -> CallNodeDetail | None:
    call = get_call_node(session, call_hash)
    if call is None:
        return None
    parent_ids = list(
        session.scalars(select(CallEdge.parent_id).where(CallEdge.child_id == call_hash))
    )
    child_ids = list(
        session.scalars(
            select(CallEdge.child_id)
            .where(CallEdge.parent_id == call_hash)
            .order_by(CallEdge.call_order)
        )
    )
    related = call_nodes(session, [*parent_ids, *child_ids])
    return CallNodeDetail(
        call=call,
        task=get_task(session, call.task_hash),
        parents=tuple(related[h] for h in parent_ids if h in related),
        children=tuple(related[h] for h in child_ids if h in related),
        failure=failure(session, call.result.hash) if call.failed else None,
    )


def tasks(session: Session, task_hashes: Sequence[str]) -> dict[str, TaskRow]:
    found = {}
    stmt = select(Task.hash, Task.name, Task.namespace, Task.source)
    for chunk in chunks(sorted(set(task_hashes))):
        for task_hash, name, namespace, source in session.execute(stmt.where(Task.hash.in_(chunk))):
            found[task_hash] = TaskRow(task_hash, name, namespace or "", source or "")
    tags = get_tags(session, list(found))
    return {h: replace(row, tags=tags.get(h, ())) for h, row in found.items()}


def get_task(session: Session, task_hash: str) -> TaskRow | None:
    return tasks(session, [task_hash]).get(task_hash)


def task_detail(session: Session, task_hash: str) -> TaskDetail | None:
    task = get_task(session, task_hash)
    if task is None:
        return None
    first = _job_page(session, Job.task_hash == task_hash, size=1)
    return TaskDetail(task, tuple(task_versions(session, task_hash)), first[0] if first else None)


def failure(session: Session, value_hash: str) -> Failure:
    """What a failed job raised, from its recorded error value."""
    error_value = preview_object(session, value_hash)
    error = getattr(error_value, "error", error_value)
    trace = getattr(error_value, "traceback", None)
    lines: tuple[str, ...] = ()
    logs: tuple[str, ...] = ()
    if trace is not None and hasattr(trace, "format"):
        # The decoded traceback is our own copy: take its logs out to keep them apart.
        logs = tuple(getattr(trace, "logs", None) or ())
        trace.logs = []
        lines = tuple("".join(trace.format()).rstrip("\n").splitlines())
    return Failure(
        error=f"{type(error).__name__}: {error}",
        error_repr=trim_string(repr(error)),
        traceback=lines,
        logs=logs,
    )


def with_line_data(session: Session, jobs: Sequence[JobRow]) -> list[JobRow]:
    """The jobs with their tags and their call's arguments (what a printed job line shows)."""
    tags = get_tags(session, [job.id for job in jobs])
    arguments = call_arguments(session, [job.call_hash for job in jobs if job.call_hash])
    return [
        replace(
            job,
            tags=tags.get(job.id, ()),
            arguments=arguments.get(job.call_hash, ()) if job.call_hash else (),
        )
        for job in jobs
    ]


def all_execution_jobs(session: Session, execution_id: str) -> list[JobRow]:
    """Every job of an execution in start order, ready to print (tags and arguments)."""
    stmt = _job_select().where(Job.execution_id == execution_id).order_by(Job.start_time, Job.id)
    return with_line_data(session, _job_rows(session, session.execute(stmt).all()))


def job_detail(session: Session, job_id: str, max_children: int = PAGE_SIZE) -> JobDetail | None:
    job = get_job(session, job_id)
    if job is None:
        return None
    (job,) = with_line_data(session, [job])
    call = get_call_node(session, job.call_hash) if job.call_hash else None
    lineage: list[JobRow] = []
    parent_id = job.parent_id
    while parent_id is not None:
        parent = get_job(session, parent_id)
        if parent is None:
            break
        lineage.append(parent)
        parent_id = parent.parent_id
    return JobDetail(
        job=job,
        task=get_task(session, job.task_hash),
        call=call,
        failure=failure(session, call.result.hash) if call is not None and call.failed else None,
        lineage=tuple(reversed(lineage)),
        children=tuple(child_jobs(session, job.id, size=max_children)),
        execution_tags=get_tags(session, [job.execution_id]).get(job.execution_id, ()),
    )


def value_detail(
    session: Session, value_hash: str, limit: int | None = RELATED_LIMIT
) -> ValueDetail | None:
    """A value with the jobs that made and used it (`limit` per list; None: all)."""
    value = get_value(session, value_hash)
    if value is None:
        return None
    children = list(
        session.scalars(
            select(Subvalue.value_hash).where(Subvalue.parent_value_hash == value_hash).limit(limit)
        )
    )
    parents = list(
        session.scalars(
            select(Subvalue.parent_value_hash).where(Subvalue.value_hash == value_hash).limit(limit)
        )
    )
    related = value_rows(session, [*children, *parents])
    return ValueDetail(
        value=value,
        producers=tuple(with_line_data(session, value_producers(session, value_hash, limit))),
        consumers=tuple(with_line_data(session, value_consumers(session, value_hash, limit))),
        children=tuple(related[h] for h in children if h in related),
        parents=tuple(related[h] for h in parents if h in related),
    )


def files(session: Session, value_hashes: Any) -> list[FileRow]:
    """Files whose value is among `value_hashes` (a subquery), by path."""
    stmt = select(File.value_hash, File.path).where(File.value_hash.in_(value_hashes))
    rows = session.execute(stmt.order_by(File.path)).all()
    tags = get_tags(session, [value_hash for value_hash, _ in rows])
    return [FileRow(value_hash, path, tags.get(value_hash, ())) for value_hash, path in rows]
