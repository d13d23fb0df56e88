"""The one rule for the status of a recorded job and of an execution.

Every reader asks here: the ORM rows (`Job.status`), the query filters
(``redun log --job-status``), the console's pages and status tables, record
export. The rule is written twice, once in Python for a row at hand and once
in SQL for filtering and counting, side by side so they cannot drift (a test
checks them against each other on every combination).

A job is, from what its row records:

- FAILED: its call node's result is an error value (cached or not, ended or not);
- RUNNING: it has no end time yet;
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

Finding recent jobs takes two range scans of the job time indexes, asked only
about an execution whose heartbeat is stale.

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

JOB_STATUSES = ("RUNNING", "FAILED", "CACHED", "DONE")
EXECUTION_STATUSES = ("RUNNING", "STOPPED", "FAILED", "DONE")
# Six heartbeats of a running scheduler (redun.scheduler.scheduler.HEARTBEAT_INTERVAL):
# a busy or briefly blocked scheduler is never taken for a dead one.
STALE_AFTER = timedelta(seconds=60)


class StatusError(ValueError):
    """A status name that is not one of the statuses of its kind."""


# -- in Python, for a row at hand ------------------------------------------------------


def status_of(failed: bool, ended: bool, cached: bool) -> str:
    """The rule itself: RUNNING, FAILED, CACHED or DONE."""
    if failed:
        return "FAILED"
    if not ended:
        return "RUNNING"
    return "CACHED" if cached else "DONE"


def job_status(result_type: str | None, end_time: datetime | None, cached: bool) -> str:
    """A job's status from its result's type (None: no result), end time and cache flag."""
    return status_of(result_type == ERROR_VALUE_TYPE, end_time is not None, cached)


def execution_status(
    root_job_status: str | None,
    updated_time: datetime | None = None,
    now: datetime | None = None,
    jobs_active: bool | Callable[[], bool] = False,
) -> str:
    """RUNNING, STOPPED, FAILED or DONE, from the status of the execution's root job
    (None: missing), its heartbeat `updated_time` and whether a job of it started or
    ended within STALE_AFTER (`jobs_active`: a callable is asked only when it matters)."""
    if root_job_status is None:
        return "FAILED"
    if root_job_status in ("DONE", "CACHED"):
        return "DONE"
    if root_job_status == "RUNNING" and is_stale(updated_time, now):
        if not (jobs_active() if callable(jobs_active) else jobs_active):
            return "STOPPED"
    return root_job_status


def is_stale(updated_time: datetime | None, now: datetime | None = None) -> bool:
    """Whether a heartbeat is too old to come from a live scheduler (None: no heartbeat)."""
    return updated_time is not None and updated_time < _stale_before(now)


def _stale_before(now: datetime | None = None) -> datetime:
    """Heartbeats older than this belong to dead schedulers."""
    return (now or datetime.now(timezone.utc)) - STALE_AFTER


def count_statuses(grouped_rows: Iterable[tuple[Any, bool, bool, bool, int]]) -> dict:
    """{(key, status): count} from rows ``(key, failed, ended, cached, count)``.

    A reader counts jobs with one GROUP BY over `job_groups` and still applies
    the rule here, in Python.
    """
    counts: dict[tuple[Any, str], int] = {}
    for key, failed, ended, cached, count in grouped_rows:
        status = status_of(bool(failed), bool(ended), bool(cached))
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
    if status == "RUNNING":
        return and_(job.end_time.is_(None), not_failed)
    return and_(job.end_time.is_not(None), job.cached.is_(status == "CACHED"), not_failed)


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


def execution_status_clause(status: str, execution: Any = schema.execution.c) -> Any:
    """SQL condition that an execution has `status` (through its root job and heartbeat)."""
    check_statuses([status], "execution")
    job_statuses = {"DONE": ["DONE", "CACHED"], "STOPPED": ["RUNNING"]}.get(status, [status])
    roots = select(schema.job.c.id).where(or_(*(job_status_clause(s) for s in job_statuses)))
    clause = execution.job_id.in_(roots)
    stale = stale_clause(execution)
    if status == "STOPPED":
        return and_(clause, stale)
    if status == "RUNNING":
        return and_(clause, ~stale)
    return clause


def job_status_column(job: Any, result_type: Any) -> Any:
    """The status as a SQL value: `result_type` is ``value.type`` outer-joined through
    the job's call node (NULL for a job without a result)."""
    return case(
        (result_type == ERROR_VALUE_TYPE, literal("FAILED")),
        (job.end_time.is_(None), literal("RUNNING")),
        (job.cached, literal("CACHED")),
        else_=literal("DONE"),
    )
