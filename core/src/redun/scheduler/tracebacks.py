"""The task-level frames of a failed job: one per job from the root down."""

from __future__ import annotations

import inspect
from traceback import FrameSummary
from typing import Any

from redun.tracebacks import Frame


def job_frames(job: Any) -> list[FrameSummary]:
    """One Frame per job from the root down to `job` (arguments as locals)."""
    stack = []
    current = job
    while current is not None:
        stack.append(current)
        current = current.parent_job
    frames: list[FrameSummary] = []
    for frame_job in reversed(stack):
        func = frame_job.task.func
        code = getattr(func, "__code__", None)
        if code is None:
            continue
        args, kwargs = frame_job.eval_args or ((), {})
        try:
            params = list(inspect.signature(func).parameters)
        except (TypeError, ValueError):
            params = []
        frames.append(
            Frame(
                code.co_filename,
                code.co_firstlineno,
                func.__name__,
                locals={**dict(zip(params, args)), **kwargs},
                job=frame_job,
            )
        )
    return frames
