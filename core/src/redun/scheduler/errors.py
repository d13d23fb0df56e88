"""Exceptions raised by the scheduler."""

from __future__ import annotations

from redun.errors import RedunError

_PICKLE_MODULE = "redun.scheduler"


class SchedulerError(RedunError):
    """The scheduler cannot do what was asked (unknown executor, bad config, ...)."""

    __module__ = _PICKLE_MODULE


class NoCurrentScheduler(Exception):
    """A scheduler is required here but none is running on this thread."""

    __module__ = _PICKLE_MODULE

    def __init__(self) -> None:
        super().__init__("Scheduler is not running.")


class DryRunResult(Exception):
    """A dry run stopped because some jobs would have to run."""

    __module__ = _PICKLE_MODULE


class TaskNotFoundError(SchedulerError):
    """An expression names a task that is not registered in this process."""

    __module__ = _PICKLE_MODULE
