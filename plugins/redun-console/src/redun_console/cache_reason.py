"""Why a job ran or was served from the cache, reconstructed from what was recorded before it.

redun records only whether a job was cached; the reason is found the way a
person would find it: by looking for earlier calls of the same task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from redun.backends.db import CallNode, Task
from redun.backends.db.browse import JobRow, call_arguments, earlier_call

from redun_console.fmt import short_id

if TYPE_CHECKING:
    from redun.backends.db import RedunSession


def cache_reason(session: RedunSession, job: JobRow) -> str:
    """One sentence a user can act on."""
    if job.cached:
        return _cached_reason(session, job)
    if job.call_hash is None:
        return "Running: the reason it ran is known once it has a result."
    call = session.get(CallNode, job.call_hash)
    if call is None:
        return "Ran (its call node is missing from the repo)."
    before = job.start_time
    same_call = earlier_call(
        session, job.id, before, task_hash=call.task_hash, args_hash=call.args_hash
    )
    if same_call:
        return (
            f"Ran although job {short_id(same_call.job_id)} had made the same call: the cached "
            "result was not valid any more (e.g. a File changed) or caching was off."
        )
    task = session.get(Task, call.task_hash)
    same_args = earlier_call(
        session,
        job.id,
        before,
        args_hash=call.args_hash,
        task_name=call.task_name,
        other_task_hash=call.task_hash,
    )
    if same_args:
        return (
            f"Ran because the task's code changed since job {short_id(same_args.job_id)} "
            f"(task hash {short_id(same_args.task_hash)} -> {short_id(call.task_hash)})."
        )
    same_task = earlier_call(session, job.id, before, task_hash=call.task_hash)
    if same_task:
        then = call_arguments(session, same_task.call_hash)
        now = call_arguments(session, call.call_hash)
        changed = sorted(
            name for name in then.keys() | now.keys() if then.get(name) != now.get(name)
        )
        detail = f": changed {', '.join(changed)}" if changed else ""
        earlier = short_id(same_task.job_id)
        return f"Ran because of new arguments compared with job {earlier}{detail}."
    same_name = earlier_call(session, job.id, before, task_name=call.task_name)
    if same_name:
        earlier = short_id(same_name.job_id)
        return f"Ran because both the code and the arguments differ from job {earlier}."
    name = task.name if task else call.task_name
    return f"Ran because this is the first recorded call of task {name}."


def _cached_reason(session: RedunSession, job: JobRow) -> str:
    if job.call_hash is None:
        return "Cached."
    source = earlier_call(session, job.id, job.start_time, call_hash=job.call_hash, cached=False)
    if source is None:
        return "Cached: the result came from the single-reduction cache (no job recorded it)."
    where = (
        "earlier in this execution"
        if source.execution_id == job.execution_id
        else f"in execution {short_id(source.execution_id)}"
    )
    return f"Cached: reused the result of job {short_id(source.job_id)} {where}."
