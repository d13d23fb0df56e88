"""How the scheduler writes task calls in its log lines (redun's shapes)."""

from __future__ import annotations

import inspect
from typing import Any

from redun.task import Task
from redun.utils import trim_string

JOB_ACTION_WIDTH = 6


def short_repr(value: Any, max_length: int = 200) -> str:
    """A trimmed repr that never raises for values nested too deeply to print."""
    try:
        return trim_string(repr(value), max_length=max_length)
    except RecursionError:
        return f"<{type(value).__name__} nested too deeply to show>"


def format_arg(arg_name: str, value: Any, max_length: int = 200) -> str:
    return f"{arg_name}={short_repr(value, max_length)}"


def format_task_call(task: Task, args: tuple, kwargs: dict) -> str:
    """``ns.task(a=1, b=File(...))`` as redun logs it."""
    parts = []
    params = list(task.signature.parameters.values())
    for i, param in enumerate(params):
        if param.kind == inspect.Parameter.VAR_POSITIONAL:
            parts.extend(format_arg(param.name, value) for value in args[i:])
            continue
        if param.kind == inspect.Parameter.VAR_KEYWORD:
            known = {p.name for p in params}
            parts.extend(format_arg(k, v) for k, v in kwargs.items() if k not in known)
            continue
        value = args[i] if i < len(args) else kwargs.get(param.name, param.default)
        parts.append(format_arg(param.name, value))
    return f"{task.fullname}({', '.join(parts)})"


def job_action(action: str, job_id: str) -> str:
    """The ``Run    Job 1234abcd:  `` prefix of a job's log line."""
    return f"{action.ljust(JOB_ACTION_WIDTH)} Job {job_id[:8]}:  "
