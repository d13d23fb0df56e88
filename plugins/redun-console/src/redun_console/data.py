"""Reads behind the lists: executions, jobs of an execution, status counts, change tokens.

Every function takes the backend's ORM session and returns plain records, so
screens never hold ORM objects across refreshes. Queries select only the
columns shown and are paged, so a repo of any size opens at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redun.backends.db import CallNode, Execution, Job, Task, Value
from redun.backends.db.query import CallGraphQuery
from redun.tags import ANY_VALUE
from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from redun_console.filters import ExecutionFilter
from redun_console.fmt import command_line, task_fullname

ERROR_TYPE = "redun.ErrorValue"
PAGE_SIZE = 200


def job_status_column(job: Any = Job, value: Any = Value) -> Any:
    """redun's job status rule, in SQL (needs `value` joined through the job's call node)."""
    return case(
        (value.type == ERROR_TYPE, literal("FAILED")),
        (job.end_time.is_(None), literal("RUNNING")),
        (job.cached, literal("CACHED")),
        else_=literal("DONE"),
    )


def failed_calls() -> Any:
    """Call nodes whose result is an error (few, found through the value type index)."""
    return (
        select(CallNode.call_hash)
        .join(Value, Value.value_hash == CallNode.value_hash)
        .where(Value.type == ERROR_TYPE)
    )


def job_status_condition(status: str) -> Any:
    """Jobs of one status, using job columns only (no join per job)."""
    failed = Job.call_hash.in_(failed_calls())
    if status == "FAILED":
        return failed
    not_failed = or_(Job.call_hash.is_(None), ~failed)
    if status == "RUNNING":
        return and_(Job.end_time.is_(None), not_failed)
    ended = and_(Job.end_time.is_not(None), not_failed)
    return and_(ended, Job.cached.is_(status == "CACHED"))


@dataclass(frozen=True)
class ExecutionRow:
    id: str
    status: str
    start_time: datetime | None
    end_time: datetime | None
    updated_time: datetime | None
    command: str
    task: str
    job_id: str
    tags: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class JobRow:
    id: str
    task: str
    task_hash: str
    status: str
    start_time: datetime | None
    end_time: datetime | None
    cached: bool
    call_hash: str | None
    parent_id: str | None
    execution_id: str
    children: int = 0


def _execution_select() -> Any:
    root = aliased(Job)
    stmt = (
        select(
            Execution.id,
            Execution.args,
            Execution.updated_time,
            Execution.job_id,
            root.start_time,
            root.end_time,
            Task.name,
            Task.namespace,
            job_status_column(root, Value).label("status"),
        )
        .join(root, root.id == Execution.job_id)
        .join(Task, Task.hash == root.task_hash)
        .outerjoin(CallNode, CallNode.call_hash == root.call_hash)
        .outerjoin(Value, Value.value_hash == CallNode.value_hash)
    )
    return stmt, root


def _task_matches(task: Any, pattern: str) -> Any:
    """A task name or fullname, `*` matching any text."""
    fullname = case(
        (task.namespace == "", task.name), else_=task.namespace + literal(".") + task.name
    )
    if "*" in pattern:
        like = pattern.replace("%", r"\%").replace("_", r"\_").replace("*", "%")
        return or_(task.name.like(like, escape="\\"), fullname.like(like, escape="\\"))
    return or_(task.name == pattern, fullname == pattern)


def _core_filter(session: Session, query: ExecutionFilter) -> Any:
    """Execution ids narrowed by status and tags through the core's query API (or None)."""
    if not (query.statuses or query.tags):
        return None
    found = CallGraphQuery(session).filter_types(["Execution"])
    if query.statuses:
        found = found.filter_execution_statuses(list(query.statuses))
    if query.tags:
        found = found.filter_tags([(k, ANY_VALUE if v is None else v) for k, v in query.tags])
    stmt = found.build()["Execution"].with_only_columns(Execution.id).order_by(None)
    return stmt.correlate(None)


def _apply_filter(session: Session, stmt: Any, root: Any, query: ExecutionFilter) -> Any:
    core_ids = _core_filter(session, query)
    if core_ids is not None:
        stmt = stmt.where(Execution.id.in_(core_ids))
    for pattern in query.tasks:
        job, task = aliased(Job), aliased(Task)
        stmt = stmt.where(
            exists()
            .where(job.execution_id == Execution.id)
            .where(task.hash == job.task_hash)
            .where(_task_matches(task, pattern))
        )
    if query.after:
        stmt = stmt.where(root.start_time >= query.after)
    if query.before:
        stmt = stmt.where(root.start_time < query.before)
    for word in query.words:
        stmt = stmt.where(
            or_(Execution.id.startswith(word, autoescape=True), Execution.args.contains(word))
        )
    return stmt


def list_executions(
    session: Session, query: ExecutionFilter | None = None, page: int = 0, size: int = PAGE_SIZE
) -> list[ExecutionRow]:
    """One page of executions, newest first, with their current tags."""
    stmt, root = _execution_select()
    if query:
        stmt = _apply_filter(session, stmt, root, query)
    stmt = stmt.order_by(root.start_time.desc(), Execution.id).offset(page * size).limit(size)
    rows = session.execute(stmt).all()
    tags = get_tags(session, [row.id for row in rows])
    return [_execution_row(row, tags.get(row.id, ())) for row in rows]


def get_execution(session: Session, execution_id: str) -> ExecutionRow | None:
    stmt, _ = _execution_select()
    row = session.execute(stmt.where(Execution.id == execution_id)).first()
    if row is None:
        return None
    return _execution_row(row, get_tags(session, [row.id]).get(row.id, ()))


def _execution_row(row: Any, tags: tuple) -> ExecutionRow:
    status = "DONE" if row.status == "CACHED" else row.status
    return ExecutionRow(
        id=row.id,
        status=status,
        start_time=row.start_time,
        end_time=row.end_time,
        updated_time=row.updated_time,
        command=command_line(row.args),
        task=task_fullname(row.namespace, row.name),
        job_id=row.job_id,
        tags=tags,
    )


def get_tags(session: Session, entity_ids: list[str]) -> dict[str, tuple[tuple[str, Any], ...]]:
    """Current tags of each entity, sorted by key (read by the backend's own tag API)."""
    if not entity_ids:
        return {}
    found = session.backend.get_tags(entity_ids)  # type: ignore[attr-defined]
    return {
        entity_id: tuple(sorted(tags, key=lambda kv: (kv[0], str(kv[1]))))
        for entity_id, tags in found.items()
        if len(tags)
    }


def _job_select() -> Any:
    child = aliased(Job)
    children = (
        select(func.count()).select_from(child).where(child.parent_id == Job.id).scalar_subquery()
    )
    return (
        select(
            Job.id,
            Job.task_hash,
            Job.start_time,
            Job.end_time,
            Job.cached,
            Job.call_hash,
            Job.parent_id,
            Job.execution_id,
            Task.name,
            Task.namespace,
            job_status_column().label("status"),
            children.label("children"),
        )
        .join(Task, Task.hash == Job.task_hash)
        .outerjoin(CallNode, CallNode.call_hash == Job.call_hash)
        .outerjoin(Value, Value.value_hash == CallNode.value_hash)
    )


def _job_row(row: Any) -> JobRow:
    return JobRow(
        id=row.id,
        task=task_fullname(row.namespace, row.name),
        task_hash=row.task_hash,
        status=row.status,
        start_time=row.start_time,
        end_time=row.end_time,
        cached=row.cached,
        call_hash=row.call_hash,
        parent_id=row.parent_id,
        execution_id=row.execution_id,
        children=row.children,
    )


def get_job(session: Session, job_id: str) -> JobRow | None:
    row = session.execute(_job_select().where(Job.id == job_id)).first()
    return _job_row(row) if row else None


def _job_page(
    session: Session,
    *conditions: Any,
    newest_first: bool = False,
    page: int = 0,
    size: int = PAGE_SIZE,
) -> list[JobRow]:
    """One page of jobs: ids are chosen on the job table alone, then their rows fetched."""
    order = (Job.start_time.desc(), Job.id) if newest_first else (Job.start_time, Job.id)
    ids = (
        select(Job.id).where(*conditions).order_by(*order).offset(page * size).limit(size)
    ).subquery()
    stmt = _job_select().where(Job.id.in_(select(ids.c.id))).order_by(*order)
    return [_job_row(row) for row in session.execute(stmt)]


def child_jobs(
    session: Session, parent_id: str, page: int = 0, size: int = PAGE_SIZE
) -> list[JobRow]:
    """Children of a job in start order, one page at a time (a job may have 100,000)."""
    return _job_page(session, Job.parent_id == parent_id, page=page, size=size)


def execution_jobs(
    session: Session,
    execution_id: str,
    task: str | None = None,
    status: str | None = None,
    page: int = 0,
    size: int = PAGE_SIZE,
) -> list[JobRow]:
    """Jobs of an execution, optionally of one task and one status (a status table cell)."""
    conditions = [Job.execution_id == execution_id]
    if task is not None:
        conditions.append(Job.task_hash.in_(select(Task.hash).where(_task_matches(Task, task))))
    if status is not None:
        conditions.append(job_status_condition(status))
    return _job_page(session, *conditions, page=page, size=size)


def task_jobs(session: Session, task_hash: str, size: int = PAGE_SIZE) -> list[JobRow]:
    """The most recent jobs of one task version."""
    return _job_page(session, Job.task_hash == task_hash, newest_first=True, size=size)


def job_status_counts(session: Session, execution_id: str) -> dict[str, dict[str, int]]:
    """{task fullname: {status: count}} over every job of an execution.

    Counted on the job table alone, then corrected by the (few) failed jobs,
    so an execution of 100,000 jobs needs no join per job.
    """
    in_execution = Job.execution_id == execution_id
    running = Job.end_time.is_(None)
    counts: dict[tuple[str, str], int] = {}
    for task_hash, is_running, cached, count in session.execute(
        select(Job.task_hash, running, Job.cached, func.count())
        .where(in_execution)
        .group_by(Job.task_hash, running, Job.cached)
    ):
        status = "RUNNING" if is_running else "CACHED" if cached else "DONE"
        counts[(task_hash, status)] = counts.get((task_hash, status), 0) + count
    for task_hash, is_running, cached, count in session.execute(
        select(Job.task_hash, running, Job.cached, func.count())
        .where(in_execution, Job.call_hash.in_(failed_calls()))
        .group_by(Job.task_hash, running, Job.cached)
    ):
        status = "RUNNING" if is_running else "CACHED" if cached else "DONE"
        counts[(task_hash, status)] -= count
        counts[(task_hash, "FAILED")] = counts.get((task_hash, "FAILED"), 0) + count
    names = dict(
        (task_hash, task_fullname(namespace, name))
        for task_hash, namespace, name in session.execute(
            select(Task.hash, Task.namespace, Task.name).where(
                Task.hash.in_({task_hash for task_hash, _ in counts})
            )
        )
    )
    by_task: dict[str, dict[str, int]] = {}
    for (task_hash, status), count in counts.items():
        if count:
            per_task = by_task.setdefault(names.get(task_hash, task_hash), {})
            per_task[status] = per_task.get(status, 0) + count
    return dict(sorted(by_task.items()))


def change_token(session: Session) -> tuple:
    """Something that changes whenever a job starts or ends (two index lookups)."""
    return tuple(session.execute(select(func.max(Job.start_time), func.max(Job.end_time))).one())
