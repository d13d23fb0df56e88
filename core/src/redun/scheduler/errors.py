"""Exceptions raised by the scheduler."""

from __future__ import annotations

from redun.errors import RedunError

_PICKLE_MODULE = "redun.scheduler"


class SchedulerError(RedunError):
    """The scheduler cannot do what was asked (unknown executor, bad config, ...)."""

    __module__ = _PICKLE_MODULE


class DryRunResult(Exception):
    """A dry run stopped because some jobs would have to run."""

    __module__ = _PICKLE_MODULE


class TaskNotFoundError(SchedulerError):
    """An expression names a task that is not registered in this process."""

    __module__ = _PICKLE_MODULE
