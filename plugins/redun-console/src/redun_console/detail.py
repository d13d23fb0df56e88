"""Reads behind the detail screens: one job, one value, one task."""

from __future__ import annotations

import pprint
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from redun.backends.db import CallNode, File, Task, Value
from redun.backends.db.browse import (
    PAGE_SIZE,
    JobRow,
    TaskVersion,
    child_jobs,
    get_job,
    get_tags,
    task_fullname,
    task_versions,
    value_consumers,
    value_producers,
)

if TYPE_CHECKING:
    from redun.backends.db import RedunSession

# Longest preview text built for one value; beyond it the screen says how to see more.
MAX_PREVIEW_CHARS = 200_000
RELATED_LIMIT = 100
MAX_ITEMS = 1000


@dataclass(frozen=True)
class ValueInfo:
    hash: str
    type: str
    preview: str


@dataclass(frozen=True)
class ArgumentInfo:
    name: str
    value: ValueInfo


@dataclass(frozen=True)
class Failure:
    error: str
    traceback: tuple[str, ...]
    logs: tuple[str, ...]


@dataclass
class JobDetail:
    job: JobRow
    task_source: str
    arguments: list[ArgumentInfo]
    result: ValueInfo | None
    failure: Failure | None
    parent: JobRow | None
    children: list[JobRow]
    tags: tuple[tuple[str, Any], ...]
    execution_tags: tuple[tuple[str, Any], ...]


def _shorten(value: Any) -> Any:
    """Keep the first MAX_ITEMS items of a large list, tuple, set or dict, and say so."""
    if isinstance(value, (list, tuple, set, frozenset)) and len(value) > MAX_ITEMS:
        items = list(value)[:MAX_ITEMS]
        return [*items, f"… {len(value) - MAX_ITEMS} more items"]
    if isinstance(value, dict) and len(value) > MAX_ITEMS:
        kept = dict(list(value.items())[:MAX_ITEMS])
        kept["…"] = f"{len(value) - MAX_ITEMS} more items"
        return kept
    return value


def preview_text(value: Any, width: int = 100) -> str:
    """A value's text for display; long texts are cut with a note, never silently."""
    text = value if isinstance(value, str) else pprint.pformat(_shorten(value), width=width)
    if len(text) > MAX_PREVIEW_CHARS:
        return text[:MAX_PREVIEW_CHARS] + f"\n… ({len(text) - MAX_PREVIEW_CHARS} more characters)"
    return text


def _value_info(value: Value, width: int = 100) -> ValueInfo:
    try:
        shown = preview_text(value.preview, width)
    except Exception as error:  # a value of a class this process cannot load
        shown = f"<cannot preview: {type(error).__name__}: {error}>"
    return ValueInfo(value.value_hash, value.type, shown)


def _failure(value: Value) -> Failure:
    error_value = value.preview
    error = getattr(error_value, "error", error_value)
    traceback = getattr(error_value, "traceback", None)
    lines: tuple[str, ...] = ()
    logs: tuple[str, ...] = ()
    if traceback is not None and hasattr(traceback, "format"):
        # The decoded traceback is our own copy: take its logs out so they are shown apart.
        logs = tuple(getattr(traceback, "logs", None) or ())
        traceback.logs = []
        lines = tuple("".join(traceback.format()).rstrip("\n").splitlines())
    return Failure(f"{type(error).__name__}: {error}", lines, logs)


def get_job_detail(
    session: RedunSession, job_id: str, max_children: int = PAGE_SIZE
) -> JobDetail | None:
    job = get_job(session, job_id)
    if job is None:
        return None
    task = session.get(Task, job.task_hash)
    call_node = session.get(CallNode, job.call_hash) if job.call_hash else None
    arguments: list[ArgumentInfo] = []
    result = failure = None
    if call_node is not None:
        for argument in sorted(
            call_node.arguments,
            key=lambda a: (a.arg_position is None, a.arg_position or 0, a.arg_key or ""),
        ):
            name = argument.arg_key if argument.arg_key is not None else str(argument.arg_position)
            arguments.append(ArgumentInfo(name, _value_info(argument.value)))
        if call_node.value.type == "redun.ErrorValue":
            failure = _failure(call_node.value)
        result = _value_info(call_node.value)
    tags = get_tags(session, [job.id, job.execution_id])
    return JobDetail(
        job=job,
        task_source=task.source if task else "",
        arguments=arguments,
        result=result,
        failure=failure,
        parent=get_job(session, job.parent_id) if job.parent_id else None,
        children=child_jobs(session, job.id, size=max_children),
        tags=tags.get(job.id, ()),
        execution_tags=tags.get(job.execution_id, ()),
    )


@dataclass
class ValueDetail:
    value: ValueInfo
    format: str
    file_path: str | None
    producers: list[JobRow]
    consumers: list[JobRow]
    children: list[ValueInfo] = field(default_factory=list)
    parents: list[ValueInfo] = field(default_factory=list)


def get_value_detail(session: RedunSession, value_hash: str) -> ValueDetail | None:
    value = session.get(Value, value_hash)
    if value is None:
        return None
    file = session.get(File, value_hash)
    return ValueDetail(
        value=_value_info(value),
        format=value.format,
        file_path=file.path if file else None,
        producers=value_producers(session, value_hash, RELATED_LIMIT),
        consumers=value_consumers(session, value_hash, RELATED_LIMIT),
        children=[_value_info(child) for child in value.children[:RELATED_LIMIT]],
        parents=[_value_info(parent) for parent in value.parents[:RELATED_LIMIT]],
    )


@dataclass
class TaskDetail:
    hash: str
    fullname: str
    versions: list[TaskVersion]


def get_task_detail(session: RedunSession, task_hash: str) -> TaskDetail | None:
    """A task version and every other version recorded under the same full name."""
    task = session.get(Task, task_hash)
    if task is None:
        return None
    versions = task_versions(session, task_hash)
    return TaskDetail(task.hash, task_fullname(task.namespace, task.name), versions)
