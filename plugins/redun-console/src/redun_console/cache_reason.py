"""Why a job ran or was served from the cache, reconstructed from what was recorded before it.

redun records only whether a job was cached; the reason is found the way a
person would find it: by looking for earlier calls of the same task.
"""

from __future__ import annotations

from redun.backends.db import Argument, CallNode, Job, Task
from sqlalchemy import select
from sqlalchemy.orm import Session

from redun_console.data import JobRow
from redun_console.fmt import short_id


def _earlier_job(session: Session, job: JobRow, *conditions: object) -> tuple | None:
    """The most recent job started before `job` whose call node meets `conditions`."""
    stmt = (
        select(Job.id, Job.execution_id, CallNode.call_hash, CallNode.task_hash)
        .join(CallNode, CallNode.call_hash == Job.call_hash)
        .where(Job.start_time < job.start_time, Job.id != job.id, *conditions)
        .order_by(Job.start_time.desc())
        .limit(1)
    )
    row = session.execute(stmt).first()
    return tuple(row) if row else None


def _arguments(session: Session, call_hash: str) -> dict[str, str]:
    rows = session.execute(
        select(Argument.arg_position, Argument.arg_key, Argument.value_hash).where(
            Argument.call_hash == call_hash
        )
    ).all()
    return {(key if key is not None else str(pos)): value for pos, key, value in rows}


def cache_reason(session: Session, job: JobRow) -> str:
    """One sentence a user can act on."""
    if job.cached:
        return _cached_reason(session, job)
    if job.call_hash is None:
        return "Running: the reason it ran is known once it has a result."
    call = session.get(CallNode, job.call_hash)
    if call is None:
        return "Ran (its call node is missing from the repo)."
    same_call = _earlier_job(
        session, job, CallNode.task_hash == call.task_hash, CallNode.args_hash == call.args_hash
    )
    if same_call:
        return (
            f"Ran although job {short_id(same_call[0])} had made the same call: the cached "
            "result was not valid any more (e.g. a File changed) or caching was off."
        )
    task = session.get(Task, call.task_hash)
    same_args = _earlier_job(
        session,
        job,
        CallNode.args_hash == call.args_hash,
        CallNode.task_name == call.task_name,
        CallNode.task_hash != call.task_hash,
    )
    if same_args:
        return (
            f"Ran because the task's code changed since job {short_id(same_args[0])} "
            f"(task hash {short_id(same_args[3])} -> {short_id(call.task_hash)})."
        )
    same_task = _earlier_job(session, job, CallNode.task_hash == call.task_hash)
    if same_task:
        before = _arguments(session, same_task[2])
        now = _arguments(session, call.call_hash)
        changed = sorted(
            name for name in before.keys() | now.keys() if before.get(name) != now.get(name)
        )
        detail = f": changed {', '.join(changed)}" if changed else ""
        return f"Ran because of new arguments compared with job {short_id(same_task[0])}{detail}."
    same_name = _earlier_job(session, job, CallNode.task_name == call.task_name)
    if same_name:
        return (
            f"Ran because both the code and the arguments differ from job {short_id(same_name[0])}."
        )
    name = task.name if task else call.task_name
    return f"Ran because this is the first recorded call of task {name}."


def _cached_reason(session: Session, job: JobRow) -> str:
    if job.call_hash is None:
        return "Cached."
    source = _earlier_job(session, job, CallNode.call_hash == job.call_hash, Job.cached.is_(False))
    if source is None:
        return "Cached: the result came from the single-reduction cache (no job recorded it)."
    where = (
        "earlier in this execution"
        if source[1] == job.execution_id
        else f"in execution {short_id(source[1])}"
    )
    return f"Cached: reused the result of job {short_id(source[0])} {where}."
