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
when its root job is missing; except that a RUNNING one whose heartbeat
(``execution.updated_time``, refreshed by a running scheduler every few
seconds) is older than STALE_AFTER is STOPPED: its process died without a word
(SIGKILL, a crash, a lost machine, a database it could no longer write). An
execution without any heartbeat (written by redun 0.44.1, which refreshes it
only when idle) stays RUNNING. A run that stops on a signal records its root
job as failed, so it is FAILED at once.

A new state goes here and nowhere else: in the Python rule, in the SQL clause
for filtering, and in the list of statuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Select, and_, case, literal, or_, select

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
    root_job_status: str | None, updated_time: datetime | None = None, now: datetime | None = None
) -> str:
    """RUNNING, STOPPED, FAILED or DONE, from the status of the execution's root job
    (None: missing) and its heartbeat `updated_time`."""
    if root_job_status is None:
        return "FAILED"
    if root_job_status in ("DONE", "CACHED"):
        return "DONE"
    if root_job_status == "RUNNING" and updated_time is not None:
        if updated_time < _stale_before(now):
            return "STOPPED"
    return root_job_status


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


def execution_status_clause(status: str, execution: Any = schema.execution.c) -> Any:
    """SQL condition that an execution has `status` (through its root job and heartbeat)."""
    check_statuses([status], "execution")
    job_statuses = {"DONE": ["DONE", "CACHED"], "STOPPED": ["RUNNING"]}.get(status, [status])
    roots = select(schema.job.c.id).where(or_(*(job_status_clause(s) for s in job_statuses)))
    clause = execution.job_id.in_(roots)
    stale = and_(execution.updated_time.is_not(None), execution.updated_time < _stale_before())
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
