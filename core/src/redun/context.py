"""Context: configuration values a workflow reads lazily, without hashing the whole config.

``get_context("db.host", "localhost")`` is usually a task argument's default: it
is resolved before the job's arguments are hashed, so changing one context value
re-runs only the tasks that read it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from redun.expression import SchedulerExpression
from redun.promise import Promise
from redun.task import scheduler_task

if TYPE_CHECKING:
    from redun.scheduler import Job

T = TypeVar("T")


def get_context_value(context: dict, var_path: str, default: T) -> T:
    """The value at dot-separated `var_path` in `context`, or `default`."""
    value: Any = context
    for part in var_path.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


@scheduler_task(namespace="redun")
def get_context(
    scheduler: Any,
    parent_job: Job,
    sexpr: SchedulerExpression,
    var_path: str,
    default: Any = None,
) -> Promise:
    """The current job's context value at `var_path` (dot-separated), else `default`."""
    if parent_job is not None:
        context = parent_job.get_context()
    else:
        # Options of the root job are evaluated before any job exists.
        execution = scheduler._current_execution
        context = execution.context if execution is not None else scheduler._context
    return scheduler.evaluate((var_path, default), parent_job=parent_job).then(
        lambda args: get_context_value(context, args[0], args[1])
    )
