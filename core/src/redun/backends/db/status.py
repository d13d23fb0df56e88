"""The one rule for the status of a recorded job and of an execution.

Every reader asks here: the ORM rows (`Job.status`), the query filters
(``redun log --job-status``), the console's pages and status tables, record
export. The rule is written twice, once in Python for a row at hand and once
in SQL for filtering and counting, side by side so they cannot drift (a test
checks them against each other on every combination).

A job is, from what its row records:

- FAILED: its call node's result is an error value (cached or not, ended or not);
- RUNNING: it has no end time yet, and its execution is live;
- STOPPED: it has no end time, and its execution is not live (below): it will
  never end;
- CACHED: it ended, served from the cache;
- DONE: it ended, and ran.

An execution has its root job's status, DONE for a CACHED root, and FAILED
when its root job is missing; except that a RUNNING one is STOPPED when it
shows no sign of life for STALE_AFTER: its process died without a word
(SIGKILL, a crash, a lost machine, a database it could no longer write). The
signs of life are its heartbeat (``execution.updated_time``, refreshed by a
running scheduler every few seconds) and a job of it starting or ending: redun
0.44.1 writes the heartbeat at the start and then only after
``job_status_interval`` (20 s) without any event, so a busy redun 0.44.1 run
lives by its jobs. An execution without any heartbeat stays RUNNING. A run
that stops on a signal records its root job as failed, so it is FAILED at once.
An execution is live unless it shows no sign of life in that sense (whatever
its root job), and that decides its unfinished jobs too: a job of a live
execution is RUNNING, of a dead one STOPPED (a job without an execution: live).

Finding recent jobs takes two range scans of the job time indexes, asked only
about an execution whose heartbeat is stale; the liveness of an execution is
decided once for all its jobs (one query per page of rows, or a subquery the
database evaluates once), never per job.

A new state goes here and nowhere else: in the Python rule, in the SQL clause
for filtering, and in the list of statuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Select, and_, case, literal, or_, select, union

from redun.backends.db import schema

ERROR_VALUE_TYPE = "redun.ErrorValue"

JOB_STATUSES = ("RUNNING", "STOPPED", "FAILED", "CACHED", "DONE")
EXECUTION_STATUSES = ("RUNNING", "STOPPED", "FAILED", "DONE")
# Six heartbeats of a running scheduler (redun.scheduler.scheduler.HEARTBEAT_INTERVAL):
# a busy or briefly blocked scheduler is never taken for a dead one.
STALE_AFTER = timedelta(seconds=60)


class StatusError(ValueError):
    """A status name that is not one of the statuses of its kind."""


# -- in Python, for a row at hand ------------------------------------------------------


Liveness = bool | Callable[[], bool]


def _ask(answer: Liveness) -> bool:
    return answer() if callable(answer) else answer


def status_of(failed: bool, ended: bool, cached: bool, live: Liveness = True) -> str:
    """The rule itself: RUNNING, STOPPED, FAILED, CACHED or DONE (`live`: whether the
    job's execution is live; a callable is asked only for an unfinished job)."""
    if failed:
        return "FAILED"
    if not ended:
        return "RUNNING" if _ask(live) else "STOPPED"
    return "CACHED" if cached else "DONE"


def job_status(
    result_type: str | None, end_time: datetime | None, cached: bool, live: Liveness = True
) -> str:
    """A job's status from its result's type (None: no result), end time, cache flag and
    whether its execution is live."""
    return status_of(result_type == ERROR_VALUE_TYPE, end_time is not None, cached, live)


def settled_status(status: str, live: Liveness) -> str:
    """The status of a job whose `job_status_column` is `status`, its execution `live`
    or not (the SQL column leaves liveness to one question per page of rows)."""
    if status == "RUNNING" and not _ask(live):
        return "STOPPED"
    return status


def execution_live(
    updated_time: datetime | None, jobs_active: Liveness = False, now: datetime | None = None
) -> bool:
    """Whether an execution shows a sign of life: a fresh (or no) heartbeat, or a job of
    it that started or ended within STALE_AFTER (`jobs_active`, asked only when stale)."""
    return not is_stale(updated_time, now) or _ask(jobs_active)


def execution_status(
    root_job_status: str | None,
    updated_time: datetime | None = None,
    now: datetime | None = None,
    jobs_active: Liveness = False,
) -> str:
    """RUNNING, STOPPED, FAILED or DONE, from the status of the execution's root job
    (None: missing), its heartbeat `updated_time` and whether a job of it started or
    ended within STALE_AFTER (`jobs_active`: a callable is asked only when it matters)."""
    if root_job_status is None:
        return "FAILED"
    if root_job_status in ("DONE", "CACHED"):
        return "DONE"
    if root_job_status == "RUNNING" and not execution_live(updated_time, jobs_active, now):
        return "STOPPED"
    return root_job_status


def is_stale(updated_time: datetime | None, now: datetime | None = None) -> bool:
    """Whether a heartbeat is too old to come from a live scheduler (None: no heartbeat)."""
    return updated_time is not None and updated_time < _stale_before(now)


def _stale_before(now: datetime | None = None) -> datetime:
    """Heartbeats older than this belong to dead schedulers."""
    return (now or datetime.now(timezone.utc)) - STALE_AFTER


def count_statuses(
    grouped_rows: Iterable[tuple[Any, bool, bool, bool, int]], live: Liveness = True
) -> dict:
    """{(key, status): count} from rows ``(key, failed, ended, cached, count)`` of the
    jobs of one execution, `live` or not.

    A reader counts jobs with one GROUP BY over `job_groups` and still applies
    the rule here, in Python.
    """
    answer: list[bool] = []

    def live_once() -> bool:
        if not answer:
            answer.append(_ask(live))
        return answer[0]

    counts: dict[tuple[Any, str], int] = {}
    for key, failed, ended, cached, count in grouped_rows:
        status = status_of(bool(failed), bool(ended), bool(cached), live_once)
        counts[(key, status)] = counts.get((key, status), 0) + count
    return counts


# -- in SQL, for filtering and counting --------------------------------------------------


def failed_calls() -> Select:
    """Call hashes whose result is an error value (few, found through the type index)."""
    call_node, value = schema.call_node, schema.value
    return (
        select(call_node.c.call_hash)
        .join(value, value.c.value_hash == call_node.c.value_hash)
        .where(value.c.type == ERROR_VALUE_TYPE)
    )


def check_statuses(statuses: Iterable[str], kind: str = "job") -> list[str]:
    """`statuses` as a list, or a one-line `StatusError` naming the unknown one."""
    known = JOB_STATUSES if kind == "job" else EXECUTION_STATUSES
    statuses = list(statuses)
    for status in statuses:
        if status not in known:
            raise StatusError(f"Unknown {kind} status '{status}': use one of {', '.join(known)}.")
    return statuses


def job_groups(job: Any = schema.job.c) -> tuple[Any, Any, Any]:
    """The (failed, ended, cached) columns to GROUP BY before `count_statuses`."""
    return (
        and_(job.call_hash.is_not(None), job.call_hash.in_(failed_calls())),
        job.end_time.is_not(None),
        job.cached,
    )


def job_status_clause(status: str, job: Any = schema.job.c) -> Any:
    """SQL condition that a job has `status` (`job`: the job columns, ORM entity or alias)."""
    check_statuses([status])
    failed = job.call_hash.in_(failed_calls())
    if status == "FAILED":
        return failed
    # NOT IN is NULL (not true) for a NULL call_hash: a job without a result is not failed.
    not_failed = or_(job.call_hash.is_(None), ~failed)
    if status in ("RUNNING", "STOPPED"):
        dead = job.execution_id.in_(dead_executions())
        if status == "RUNNING":
            # NOT IN is NULL for a job without an execution: it is live.
            return and_(job.end_time.is_(None), not_failed, or_(job.execution_id.is_(None), ~dead))
        return and_(job.end_time.is_(None), not_failed, dead)
    return and_(job.end_time.is_not(None), job.cached.is_(status == "CACHED"), not_failed)


def _unfinished(job: Any = schema.job.c) -> Any:
    """SQL condition that a job has not ended and has not failed (RUNNING or STOPPED)."""
    return and_(
        job.end_time.is_(None), or_(job.call_hash.is_(None), ~job.call_hash.in_(failed_calls()))
    )


def active_executions(now: datetime | None = None) -> Any:
    """Ids of the executions a job of which started or ended within STALE_AFTER."""
    job = schema.job.c
    since = _stale_before(now)
    known = job.execution_id.is_not(None)  # NOT IN a set holding NULL is never true
    return union(
        select(job.execution_id).where(job.start_time >= since, known),
        select(job.execution_id).where(job.end_time >= since, known),
    )


def stale_clause(execution: Any = schema.execution.c, now: datetime | None = None) -> Any:
    """SQL condition that an execution shows no sign of life (whatever its root job)."""
    since = _stale_before(now)
    return and_(
        execution.updated_time.is_not(None),
        execution.updated_time < since,
        execution.id.not_in(active_executions(now)),
    )


def dead_executions(now: datetime | None = None) -> Select:
    """Ids of the executions that are not live (`stale_clause`), for their jobs' status."""
    execution = schema.execution
    return select(execution.c.id).where(stale_clause(execution.c, now))


def execution_status_clause(status: str, execution: Any = schema.execution.c) -> Any:
    """SQL condition that an execution has `status` (through its root job and heartbeat)."""
    check_statuses([status], "execution")
    if status in ("RUNNING", "STOPPED"):
        roots = select(schema.job.c.id).where(_unfinished())
        stale = stale_clause(execution)
        return and_(execution.job_id.in_(roots), stale if status == "STOPPED" else ~stale)
    job_statuses = ["DONE", "CACHED"] if status == "DONE" else [status]
    roots = select(schema.job.c.id).where(or_(*(job_status_clause(s) for s in job_statuses)))
    return execution.job_id.in_(roots)


def job_status_column(job: Any, result_type: Any) -> Any:
    """The status as a SQL value, but for liveness (`settled_status` turns RUNNING into
    STOPPED): `result_type` is ``value.type`` outer-joined through the job's call node
    (NULL for a job without a result)."""
    return case(
        (result_type == ERROR_VALUE_TYPE, literal("FAILED")),
        (job.end_time.is_(None), literal("RUNNING")),
        (job.cached, literal("CACHED")),
        else_=literal("DONE"),
    )
