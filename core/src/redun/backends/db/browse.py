"""Executions and jobs as rows: pages, trees, counts, producers and consumers.

The read model's queries over executions and jobs (`redun.backends.db.reader`
is their public face). Every function takes the backend's ORM session and
plain parameters and returns rows of `redun.backends.db.rows`. Queries
select only the columns a row has and pages are bounded: on a repo of any
size each call reads one page.

Statuses come from `redun.backends.db.status`. Task names match a task's name
or full name (``namespace.name``); ``*`` matches any text. Tag filters are
``(key, value)`` pairs, `redun.tags.ANY_VALUE` matching any value of a key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, exists, func, literal, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from redun.backends.db.models import (
    Argument,
    CallNode,
    Execution,
    Job,
    Subvalue,
    Task,
    Value,
)
from redun.backends.db.query import MODEL_CLASSES, MODEL_PKS, CallGraphQuery
from redun.backends.db.rows import (
    ExecutionRow,
    JobRow,
    Tags,
    TaskVersion,
    task_fullname,
)
from redun.backends.db.status import (
    active_executions,
    count_statuses,
    execution_status,
    is_stale,
    job_groups,
    job_status_clause,
    job_status_column,
    settled_status,
    stale_clause,
)

PAGE_SIZE = 200

# Raised by any function here when the repo cannot be read (a dropped connection,
# a restarting server); a caller may retry later with the same session.
ReadError = SQLAlchemyError


def _fullname(task: Any) -> Any:
    return case((task.namespace == "", task.name), else_=task.namespace + literal(".") + task.name)


def _task_matches(task: Any, pattern: str) -> Any:
    """A task's name or full name is `pattern` (``*`` matching any text)."""
    if "*" in pattern:
        like = pattern.replace("%", r"\%").replace("_", r"\_").replace("*", "%")
        return or_(task.name.like(like, escape="\\"), _fullname(task).like(like, escape="\\"))
    return or_(task.name == pattern, _fullname(task) == pattern)


# -- executions ---------------------------------------------------------------------


def _execution_select() -> tuple[Any, Any]:
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
            job_status_column(root, Value.type).label("status"),
        )
        .join(root, root.id == Execution.job_id)
        .join(Task, Task.hash == root.task_hash)
        .outerjoin(CallNode, CallNode.call_hash == root.call_hash)
        .outerjoin(Value, Value.value_hash == CallNode.value_hash)
    )
    return stmt, root


def _execution_rows(session: Session, rows: Sequence[Any]) -> list[ExecutionRow]:
    """Rows with their tags and status; one more query only if some heartbeat is stale."""
    stale = [row.id for row in rows if row.status == "RUNNING" and is_stale(row.updated_time)]
    active = set()
    if stale:
        recent = active_executions().subquery()
        active = set(
            session.scalars(select(recent.c.execution_id).where(recent.c.execution_id.in_(stale)))
        )
    tags = get_tags(session, [row.id for row in rows])
    return [_execution_row(row, tags.get(row.id, ()), row.id in active) for row in rows]


def _execution_row(row: Any, tags: Tags, jobs_active: bool) -> ExecutionRow:
    return ExecutionRow(
        id=row.id,
        status=execution_status(row.status, row.updated_time, jobs_active=jobs_active),
        start_time=row.start_time,
        end_time=row.end_time,
        updated_time=row.updated_time,
        args=row.args,
        task=task_fullname(row.namespace, row.name),
        job_id=row.job_id,
        tags=tags,
    )


def list_executions(
    session: Session,
    *,
    statuses: Iterable[str] = (),
    tasks: Iterable[str] = (),
    tags: Iterable[tuple[str, Any]] = (),
    after: datetime | None = None,
    before: datetime | None = None,
    words: Iterable[str] = (),
    page: int = 0,
    size: int = PAGE_SIZE,
) -> list[ExecutionRow]:
    """One page of executions, newest first, with their current tags.

    Every filter given must hold: a status among `statuses`, a job of each
    task pattern in `tasks`, every tag of `tags`, a root job started at or
    after `after` and before `before`, and each of `words` starting the id or
    found in the command line. Raises `QueryError` for an unknown status.
    """
    stmt, root = _execution_select()
    statuses, tags = list(statuses), list(tags)
    if statuses or tags:
        found = CallGraphQuery(session).filter_types(["Execution"])
        if statuses:
            found = found.filter_execution_statuses(statuses)
        if tags:
            found = found.filter_tags(tags)
        ids = found.build()["Execution"].with_only_columns(Execution.id).order_by(None)
        stmt = stmt.where(Execution.id.in_(ids.correlate(None)))
    for pattern in tasks:
        job, task = aliased(Job), aliased(Task)
        stmt = stmt.where(
            exists()
            .where(job.execution_id == Execution.id)
            .where(task.hash == job.task_hash)
            .where(_task_matches(task, pattern))
        )
    if after is not None:
        stmt = stmt.where(root.start_time >= after)
    if before is not None:
        stmt = stmt.where(root.start_time < before)
    for word in words:
        stmt = stmt.where(
            or_(Execution.id.startswith(word, autoescape=True), Execution.args.contains(word))
        )
    stmt = stmt.order_by(root.start_time.desc(), Execution.id).offset(page * size).limit(size)
    return _execution_rows(session, session.execute(stmt).all())


def get_execution(session: Session, execution_id: str) -> ExecutionRow | None:
    stmt, _ = _execution_select()
    row = session.execute(stmt.where(Execution.id == execution_id)).first()
    if row is None:
        return None
    return _execution_rows(session, [row])[0]


def executions_by_ids(session: Session, ids: Sequence[str]) -> list[ExecutionRow]:
    """Rows of these executions, in the order given, with their tags."""
    stmt, _ = _execution_select()
    found = {
        row.id: row
        for chunk in chunks(ids)
        for row in session.execute(stmt.where(Execution.id.in_(chunk)))
    }
    return _execution_rows(session, [found[i] for i in ids if i in found])


def get_tags(session: Session, entity_ids: Sequence[str]) -> dict[str, Tags]:
    """Current tags of each entity that has some, sorted by key (the backend's tag API)."""
    found: dict[str, Tags] = {}
    for chunk in chunks(entity_ids):
        for entity_id, tags in session.backend.get_tags(chunk).items():  # type: ignore[attr-defined]
            if len(tags):
                found[entity_id] = tuple(sorted(tags, key=lambda kv: (kv[0], str(kv[1]))))
    return found


CHUNK = 500


def chunks(items: Sequence[str]) -> Iterable[list[str]]:
    """`items` in lists short enough for one ``IN (...)`` on every database."""
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# -- jobs ---------------------------------------------------------------------------


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
            job_status_column(Job, Value.type).label("status"),
            children.label("children"),
            Execution.updated_time.label("heartbeat"),
        )
        .join(Task, Task.hash == Job.task_hash)
        .outerjoin(CallNode, CallNode.call_hash == Job.call_hash)
        .outerjoin(Value, Value.value_hash == CallNode.value_hash)
        .outerjoin(Execution, Execution.id == Job.execution_id)
    )


def dead_executions(session: Session, execution_ids: Iterable[str | None]) -> set[str]:
    """Those of `execution_ids` that are not live: one query for them all."""
    ids = sorted({i for i in execution_ids if i is not None})
    return {
        execution_id
        for chunk in chunks(ids)
        for execution_id in session.scalars(
            select(Execution.id).where(Execution.id.in_(chunk), stale_clause(Execution))
        )
    }


def _job_rows(session: Session, rows: Sequence[Any]) -> list[JobRow]:
    """Rows with their status; one more query only if an unfinished job's heartbeat is stale."""
    dead = dead_executions(
        session,
        (row.execution_id for row in rows if row.status == "RUNNING" and is_stale(row.heartbeat)),
    )
    return [_job_row(row, row.execution_id not in dead) for row in rows]


def _job_row(row: Any, live: bool) -> JobRow:
    return JobRow(
        id=row.id,
        task=task_fullname(row.namespace, row.name),
        task_hash=row.task_hash,
        status=settled_status(row.status, live),
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
    return _job_rows(session, [row])[0] if row else None


def jobs_by_ids(session: Session, ids: Sequence[str]) -> list[JobRow]:
    """Rows of these jobs, in the order given."""
    stmt = _job_select()
    rows = [row for chunk in chunks(ids) for row in session.execute(stmt.where(Job.id.in_(chunk)))]
    found = {job.id: job for job in _job_rows(session, rows)}
    return [found[i] for i in ids if i in found]


def _job_page(
    session: Session, *conditions: Any, newest_first: bool = False, page: int = 0, size: int
) -> list[JobRow]:
    """One page of jobs: ids are chosen on the job table alone, then their rows fetched."""
    order = (Job.start_time.desc(), Job.id) if newest_first else (Job.start_time, Job.id)
    ids = (
        select(Job.id).where(*conditions).order_by(*order).offset(page * size).limit(size)
    ).subquery()
    stmt = _job_select().where(Job.id.in_(select(ids.c.id))).order_by(*order)
    return _job_rows(session, session.execute(stmt).all())


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
    """Jobs of an execution in start order, optionally of one task pattern and one status."""
    conditions = [Job.execution_id == execution_id]
    if task is not None:
        conditions.append(Job.task_hash.in_(select(Task.hash).where(_task_matches(Task, task))))
    if status is not None:
        conditions.append(job_status_clause(status, Job))
    return _job_page(session, *conditions, page=page, size=size)


def task_jobs(session: Session, task_hash: str, size: int = PAGE_SIZE) -> list[JobRow]:
    """The most recent jobs of one task version, newest first."""
    return _job_page(session, Job.task_hash == task_hash, newest_first=True, size=size)


def job_status_counts(session: Session, execution_id: str) -> dict[str, dict[str, int]]:
    """{task full name: {status: count}} over every job of an execution, by task name.

    One GROUP BY on the job table (the few failed call nodes looked up once),
    so an execution of 100,000 jobs needs no join per job; its liveness is asked
    once, and only if some job of it is unfinished.
    """
    groups = job_groups(Job)
    grouped = (
        select(Job.task_hash, *groups, func.count())
        .where(Job.execution_id == execution_id)
        .group_by(Job.task_hash, *groups)
    )
    counts = count_statuses(
        session.execute(grouped).all(),
        live=lambda: execution_id not in dead_executions(session, [execution_id]),
    )
    names = {
        task_hash: task_fullname(namespace, name)
        for task_hash, namespace, name in session.execute(
            select(Task.hash, Task.namespace, Task.name).where(
                Task.hash.in_({task_hash for task_hash, _ in counts})
            )
        )
    }
    by_task: dict[str, dict[str, int]] = {}
    for (task_hash, status), count in counts.items():
        per_task = by_task.setdefault(names.get(task_hash, task_hash), {})
        per_task[status] = per_task.get(status, 0) + count
    return dict(sorted(by_task.items()))


def change_token(session: Session) -> tuple:
    """A value that changes whenever a job starts or ends (two index lookups)."""
    return tuple(session.execute(select(func.max(Job.start_time), func.max(Job.end_time))).one())


# -- values and tasks -----------------------------------------------------------------


def value_producers(
    session: Session, value_hash: str, size: int | None = PAGE_SIZE
) -> list[JobRow]:
    """Jobs whose result is or contains the value, newest first (`size` None: all)."""
    return _related_jobs(session, CallNode.value_hash.in_(_with_parents(session, value_hash)), size)


def value_consumers(
    session: Session, value_hash: str, size: int | None = PAGE_SIZE
) -> list[JobRow]:
    """Jobs that received the value as an argument (or inside one), newest first."""
    calls = select(Argument.call_hash).where(
        Argument.value_hash.in_(_with_parents(session, value_hash))
    )
    return _related_jobs(session, Job.call_hash.in_(calls), size)


def _with_parents(session: Session, value_hash: str) -> list[str]:
    """The value's hash and those of the values it sits inside (a File inside a list)."""
    parents = select(Subvalue.parent_value_hash).where(Subvalue.value_hash == value_hash)
    return [value_hash, *session.scalars(parents)]


def _related_jobs(session: Session, condition: Any, size: int | None) -> list[JobRow]:
    stmt = _job_select().where(condition).order_by(Job.start_time.desc(), Job.id).limit(size)
    return _job_rows(session, session.execute(stmt).all())


def task_versions(session: Session, task_hash: str) -> list[TaskVersion]:
    """Every version recorded under the full name of task `task_hash`, latest job first."""
    task = aliased(Task)
    same_name = select(task.name, task.namespace).where(task.hash == task_hash).subquery()
    rows = session.execute(
        select(
            Task.hash,
            Task.source,
            func.count(Job.id),
            func.min(Job.start_time),
            func.max(Job.start_time),
        )
        .outerjoin(Job, Job.task_hash == Task.hash)
        .join(
            same_name, (Task.name == same_name.c.name) & (Task.namespace == same_name.c.namespace)
        )
        .group_by(Task.hash, Task.source)
    ).all()
    versions = [TaskVersion(h, n, first, last, source or "") for h, source, n, first, last in rows]
    versions.sort(key=lambda v: (v.last_seen is not None, v.last_seen or 0), reverse=True)
    return versions


def find_tasks(session: Session, name: str) -> list[str]:
    """Hashes of the task versions whose name or full name is `name`, newest job first."""
    stmt = (
        select(Task.hash)
        .outerjoin(Job, Job.task_hash == Task.hash)
        .where(or_(Task.name == name, _fullname(Task) == name))
        .group_by(Task.hash)
        .order_by(func.max(Job.start_time).desc())
    )
    return list(session.scalars(stmt))


# -- ids ------------------------------------------------------------------------------


def ids_with_prefix(session: Session, record_type: str, prefix: str, limit: int = 2) -> list[str]:
    """Up to `limit` ids of `record_type` (Execution, Job, CallNode, Task, Value) starting
    with `prefix`; a caller asks for two to tell a unique prefix from an ambiguous one."""
    column = MODEL_PKS[MODEL_CLASSES[record_type]]
    stmt = select(column).where(column.startswith(prefix, autoescape=True)).limit(limit)
    return list(session.scalars(stmt))


def first_job_of_call(session: Session, call_hash: str) -> str | None:
    """The id of the first job that made this call, if any."""
    stmt = select(Job.id).where(Job.call_hash == call_hash).order_by(Job.start_time).limit(1)
    return session.scalars(stmt).first()
