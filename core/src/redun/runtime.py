"""What is running now: the scheduler of this thread, the job of this async task.

The model (tasks, expressions, handles) needs to ask these questions while the
scheduler answers them, so they live below both: the scheduler sets them, the
model reads them, and neither imports the other for it. `JobInfo` is here for
the same reason: tasks receive it, the scheduler fills it in.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redun.scheduler import Job, Scheduler

# Pickles (tracebacks recorded in the database) name these classes as redun did.
_PICKLE_MODULE = "redun.scheduler"

_local = threading.local()
_scheduler_var: ContextVar[Scheduler] = ContextVar("redun_scheduler")
_job_var: ContextVar[Job] = ContextVar("redun_job")


class NoCurrentScheduler(Exception):
    """A scheduler is required here but none is running on this thread."""

    __module__ = _PICKLE_MODULE

    def __init__(self) -> None:
        super().__init__("Scheduler is not running.")


def get_current_scheduler(required: bool = True) -> Scheduler | None:
    scheduler = getattr(_local, "scheduler", None)
    if scheduler is None and required:
        raise NoCurrentScheduler()
    return scheduler


def set_current_scheduler(scheduler: Scheduler | None) -> None:
    _local.scheduler = scheduler


def set_current_job(scheduler: Scheduler, job: Job) -> None:
    """Called by an executor before it runs an async task's coroutine."""
    _scheduler_var.set(scheduler)
    _job_var.set(job)


def get_current_job() -> tuple[Scheduler | None, Job | None]:
    """The scheduler and job of the async task running in this context, if any."""
    return _scheduler_var.get(None), _job_var.get(None)


class JobInfo:
    """A task parameter defaulting to ``JobInfo()`` receives its job's identity (unhashed)."""

    __module__ = _PICKLE_MODULE

    def __init__(
        self,
        execution_id: str = "",
        job_id: str = "",
        eval_hash: str = "",
        args_hash: str = "",
        options: dict | None = None,
    ) -> None:
        self.execution_id = execution_id
        self.job_id = job_id
        self.eval_hash = eval_hash
        self.args_hash = args_hash
        self.options = options or {}

    @classmethod
    def from_job(cls, job: Any) -> JobInfo:
        return cls(
            execution_id=job.execution.id if job.execution else "",
            job_id=job.id,
            eval_hash=job.eval_hash or "",
            args_hash=job.args_hash or "",
            options=job.get_options(),
        )

    def __repr__(self) -> str:
        return (
            f"JobInfo(execution_id={self.execution_id}, job_id={self.job_id}, "
            f"eval_hash={self.eval_hash}, args_hash={self.args_hash}, options={self.options})"
        )

    def __setstate__(self, state: dict) -> None:
        self.execution_id = state["execution_id"]
        self.job_id = state["job_id"]
        self.eval_hash = state["eval_hash"]
        self.args_hash = state["args_hash"]
        self.options = state.get("options", {})
