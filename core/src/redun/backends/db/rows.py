"""The records the read model returns: small frozen rows, never ORM objects.

A UI (``redun log``, ``redun explain``, the console, a plugin's screen) holds
these across refreshes and only formats them. Every fact in them (a status, a
value's preview, a failure's traceback) was computed once, in the read model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redun.backends.db.status import ERROR_VALUE_TYPE

Tags = tuple[tuple[str, Any], ...]


def task_fullname(namespace: str | None, name: str) -> str:
    return f"{namespace}.{name}" if namespace else name


@dataclass(frozen=True)
class RecordRef:
    """What an id names: a record type (Execution, Job, CallNode, Task, Value, File) and its id.

    For a File, `id` is the File value's hash and `job_id` the job that made
    (``kind == "result"``) or used (``kind == "arg"``) it most recently.
    """

    type: str
    id: str
    name: str = ""  # a task's full name, or a File's path
    job_id: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class ValueRow:
    """A recorded value: its type, a short preview that never fails, and a File's path."""

    hash: str
    type: str
    format: str
    preview: str
    file_path: str | None = None
    tags: Tags = ()


@dataclass(frozen=True)
class ArgumentRow:
    """One argument of a call: its position (or keyword) and value."""

    position: int | None
    key: str | None
    value: ValueRow

    @property
    def name(self) -> str:
        return self.key if self.key is not None else str(self.position)


def positional_then_keyword(arguments: tuple[ArgumentRow, ...]) -> tuple[ArgumentRow, ...]:
    """Positional arguments in order, then keyword arguments by name (how calls are shown)."""
    positional = sorted((a for a in arguments if a.position is not None), key=lambda a: a.position)
    keyword = sorted(
        (a for a in arguments if a.position is None and a.key is not None), key=lambda a: a.key
    )
    return (*positional, *keyword)


@dataclass(frozen=True)
class ExecutionRow:
    """An execution with the status and times of its root job."""

    id: str
    status: str
    start_time: datetime
    end_time: datetime | None
    updated_time: datetime | None
    args: str  # the recorded command line, a JSON list
    task: str  # full name of the root job's task
    job_id: str
    tags: Tags = ()

    @property
    def argv(self) -> list[str] | None:
        """The recorded command line, or None when it is not a JSON list."""
        try:
            argv = json.loads(self.args)
        except (TypeError, ValueError):
            return None
        return [str(arg) for arg in argv] if isinstance(argv, list) else None


@dataclass(frozen=True)
class JobRow:
    """A job with its task's full name, its status and how many child jobs it has.

    `tags` and `arguments` are filled by the readers that print job lines
    (search, execution and job details, producers and consumers); pages for
    browsing leave them empty and None.
    """

    id: str
    task: str
    task_hash: str
    status: str
    start_time: datetime
    end_time: datetime | None
    cached: bool
    call_hash: str | None
    parent_id: str | None
    execution_id: str
    children: int = 0
    tags: Tags = ()
    arguments: tuple[ArgumentRow, ...] | None = None

    @property
    def duration(self) -> timedelta | None:
        return self.end_time - self.start_time if self.end_time else None


@dataclass(frozen=True)
class TaskRow:
    """A recorded task version: its name and source."""

    hash: str
    name: str
    namespace: str
    source: str
    tags: Tags = ()

    @property
    def fullname(self) -> str:
        return task_fullname(self.namespace, self.name)


@dataclass(frozen=True)
class CallNodeRow:
    """A call of a task on arguments, and its result."""

    call_hash: str
    task_name: str
    task_hash: str
    args_hash: str
    timestamp: datetime
    arguments: tuple[ArgumentRow, ...]
    result: ValueRow
    tags: Tags = ()

    @property
    def failed(self) -> bool:
        return self.result.type == ERROR_VALUE_TYPE


@dataclass(frozen=True)
class FileRow:
    """A recorded File: its value hash and path (tags are its value's)."""

    value_hash: str
    path: str
    tags: Tags = ()


@dataclass(frozen=True)
class Failure:
    """What a failed job raised, decoded once for every UI.

    `traceback` is the task-level traceback ending with the error line; `logs`
    are the job's last log lines, kept apart.
    """

    error: str  # "ValueError: bad 1"
    error_repr: str  # "ValueError('bad 1')", shortened
    traceback: tuple[str, ...]
    logs: tuple[str, ...]


@dataclass(frozen=True)
class TaskVersion:
    """One hash recorded under a task's full name, and when its jobs ran."""

    hash: str
    jobs: int
    first_seen: datetime | None
    last_seen: datetime | None
    source: str


@dataclass(frozen=True)
class JobDetail:
    """One job with everything its screens show.

    `lineage` runs from the root job down to the parent; `children` is the
    first page of child jobs (``job.children`` says how many there are).
    """

    job: JobRow
    task: TaskRow | None
    call: CallNodeRow | None
    failure: Failure | None
    lineage: tuple[JobRow, ...]
    children: tuple[JobRow, ...]
    execution_tags: Tags

    @property
    def parent(self) -> JobRow | None:
        return self.lineage[-1] if self.lineage else None


@dataclass(frozen=True)
class CallNodeDetail:
    call: CallNodeRow
    task: TaskRow | None
    parents: tuple[CallNodeRow, ...]
    children: tuple[CallNodeRow, ...]
    failure: Failure | None = None


@dataclass(frozen=True)
class ValueDetail:
    """A value, the jobs that produced and consumed it, and the values around it."""

    value: ValueRow
    producers: tuple[JobRow, ...]
    consumers: tuple[JobRow, ...]
    children: tuple[ValueRow, ...]
    parents: tuple[ValueRow, ...]


@dataclass(frozen=True)
class TaskDetail:
    task: TaskRow
    versions: tuple[TaskVersion, ...]
    first_job: JobRow | None


@dataclass(frozen=True)
class ExecutionDetail:
    """An execution, every one of its jobs in start order, and the jobs per task and status."""

    execution: ExecutionRow
    jobs: tuple[JobRow, ...]
    status_counts: dict[str, dict[str, int]]


@dataclass(frozen=True)
class TagHistoryRow:
    """One tag ever set on a record, and what became of it."""

    tag_hash: str
    key: str
    value: Any
    is_current: bool
    replaced_by: tuple[str, ...] = ()
    deleted: bool = False
