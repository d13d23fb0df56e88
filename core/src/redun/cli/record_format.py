"""Text shapes of call-graph records, as `redun log` has always printed them.

Users grep and parse these lines, so each record keeps redun's layout: the
kind, an 8-character id, then the fields in a fixed order, for example
``Job 5e6f7a8b [CACHED] 2026-11-24 10:00:00:  wf.add(3, 1) (env=dev)``.
Each function returns lines (no printing) so that `redun log`, `redun explain`
and tests share them.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from redun.backends.db.models import (
    Argument,
    CallNode,
    Execution,
    File,
    Job,
    Tag,
    Task,
    Value,
)
from redun.backends.db.status import ERROR_VALUE_TYPE
from redun.tags import format_tag_key_value
from redun.utils import format_timedelta, format_timestamp, trim_string

STATUS_WIDTH = 6
ID_WIDTH = 8
RULE = "-" * 80


def short_id(record_id: str, full: bool = False) -> str:
    return record_id if full else record_id[:ID_WIDTH]


def status_cell(status: str) -> str:
    """``[ DONE ]``, ``[FAILED]``, ``[CACHED]``, ``[ RUN  ]``, ``[ STOP ]``: fixed width."""
    shown = {"RUNNING": "RUN ", "STOPPED": "STOP"}.get(status, status)
    return f"[{shown.center(STATUS_WIDTH)}]"


def format_tags(tags: Iterable[Tag]) -> str:
    """``(k=v, k2=v2)`` sorted, or an empty string."""
    items = sorted(format_tag_key_value(tag.key, tag.value) for tag in tags)
    return f"({', '.join(items)})" if items else ""


def preview_repr(value: Value) -> str:
    """A short repr of a recorded value that never fails (undecodable values show their type)."""
    try:
        text = repr(value.preview)
    except Exception as error:  # a corrupt or foreign pickle must not break a listing
        text = f"<{value.type}: cannot decode ({type(error).__name__})>"
    return trim_string(text or value.type)


def format_arguments(arguments: Iterable[Argument]) -> str:
    """Positional arguments in order, then keyword arguments by name: ``3, 1, scale=2``."""
    arguments = list(arguments)
    positional = sorted(
        (arg for arg in arguments if arg.arg_position is not None),
        key=lambda arg: arg.arg_position or 0,
    )
    keyword = sorted(
        (arg for arg in arguments if arg.arg_position is None and arg.arg_key is not None),
        key=lambda arg: arg.arg_key or "",
    )
    parts = [preview_repr(arg.value) for arg in positional]
    parts += [f"{arg.arg_key}={preview_repr(arg.value)}" for arg in keyword]
    return ", ".join(parts)


def exec_argv(execution: Execution) -> str:
    """The command line without the program name (``run wf.py main --n 3``)."""
    try:
        argv = json.loads(execution.args)
    except ValueError:
        return execution.args
    return " ".join(str(arg) for arg in argv[1:]) if isinstance(argv, list) else str(argv)


def task_fullname(job: Job) -> str:
    return job.task.fullname if job.task else job.task_hash[:ID_WIDTH]


def job_load_options() -> list[Any]:
    """Eager loads for printing many job lines (one query per relation, not per job)."""
    from sqlalchemy.orm import joinedload, selectinload

    return [
        joinedload(Job.task),
        selectinload(Job.tags),
        joinedload(Job.call_node).joinedload(CallNode.value),
        joinedload(Job.call_node).selectinload(CallNode.arguments).joinedload(Argument.value),
    ]


def execution_load_options() -> list[Any]:
    from sqlalchemy.orm import joinedload, selectinload

    return [joinedload(Execution.job), selectinload(Execution.tags)]


# -- one-line shapes ---------------------------------------------------------------


def exec_line(execution: Execution, full: bool = False) -> str:
    start = format_timestamp(execution.job.start_time) if execution.job else "?"
    return (
        f"Exec {short_id(execution.id, full)} {status_cell(execution.status)} {start}:  "
        f"{exec_argv(execution)} {format_tags(execution.tags)}"
    )


def job_line(job: Job, full: bool = False) -> str:
    args = format_arguments(job.call_node.arguments) if job.call_node else ""
    return (
        f"Job {short_id(job.id, full)} {status_cell(job.status)} "
        f"{format_timestamp(job.start_time)}:  {task_fullname(job)}({args}) "
        f"{format_tags(job.tags)}"
    )


def call_node_line(node: CallNode, full: bool = False) -> str:
    name = node.task.fullname if node.task else node.task_name
    return f"CallNode {short_id(node.call_hash, full)} {name} {format_tags(node.tags)}"


def task_line(task: Task, full: bool = False) -> str:
    return f"Task {short_id(task.hash, full)} {task.fullname} {format_tags(task.tags)}"


def value_line(value: Value) -> str:
    return (
        f"Value {short_id(value.value_hash)} {value.type} {preview_repr(value)} "
        f"{format_tags(value.tags)}"
    )


def file_line(file: File) -> str:
    return f"File {short_id(file.value_hash)} {file.path} {format_tags(file.value.tags)}"


def record_line(record: Any) -> str:
    """The one-line form of any record kind."""
    if isinstance(record, Execution):
        return exec_line(record)
    if isinstance(record, Job):
        return job_line(record)
    if isinstance(record, CallNode):
        return call_node_line(record)
    if isinstance(record, Task):
        return task_line(record)
    if isinstance(record, Value):
        return value_line(record)
    raise TypeError(f"not a call-graph record: {record!r}")


def indent(lines: Iterable[str], width: int) -> Iterator[str]:
    pad = " " * width
    for line in lines:
        yield pad + line if line else line


# -- detail views ------------------------------------------------------------------


def _doc_lines(tags: Iterable[Tag]) -> Iterator[str]:
    for tag in tags:
        if tag.key == "doc" and isinstance(tag.value, str):
            yield from tag.value.splitlines()


def execution_duration(execution: Execution, jobs: list[Job]) -> Any:
    """Root job duration when done, else the span of the jobs recorded so far."""
    root = execution.job
    if root is not None and root.end_time is not None:
        return root.end_time - root.start_time
    if not jobs:
        return None
    start = min(job.start_time for job in jobs)
    end = max((job.end_time for job in jobs if job.end_time), default=start)
    return end - start


def job_status_counts(jobs: Iterable[Job]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for job in jobs:
        name = task_fullname(job)
        counts[name][job.status] += 1
        counts[name]["TOTAL"] += 1
    return counts


def job_tree(root: Job, children: Mapping[str | None, list[Job]]) -> Iterator[str]:
    """A job and its descendants, two spaces per level (iterative: trees can be deep)."""
    stack = [(root, 0)]
    while stack:
        current, level = stack.pop()
        yield "  " * level + job_line(current)
        stack.extend((child, level + 1) for child in reversed(children.get(current.id, [])))


def execution_jobs(execution: Execution) -> list[Job]:
    """Every job of an execution, ready to print, in start order."""
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    stmt = (
        select(Job)
        .where(Job.execution_id == execution.id)
        .options(*job_load_options())
        .order_by(Job.start_time, Job.id)
    )
    return list(object_session(execution).execute(stmt).scalars())


def execution_detail(execution: Execution) -> Iterator[str]:
    from redun.scheduler.status import format_job_statuses

    jobs = execution_jobs(execution)
    yield exec_line(execution, full=True)
    duration = execution_duration(execution, jobs)
    yield f"Duration: {format_timedelta(duration) if duration is not None else 'Unknown'}"
    yield from _doc_lines(execution.tags)
    yield ""
    root = execution.job
    end_time = root.end_time if root is not None and root.end_time else None
    if end_time is None and jobs:
        end_time = max((job.end_time for job in jobs if job.end_time), default=None)
    yield from format_job_statuses(job_status_counts(jobs), end_time)
    statuses = Counter(job.status for job in jobs)
    yield (
        f"Jobs: {len(jobs)} (DONE: {statuses['DONE']}, CACHED: {statuses['CACHED']}, "
        f"FAILED: {statuses['FAILED']})"
    )
    yield RULE
    children: dict[str | None, list[Job]] = defaultdict(list)
    for job in jobs:
        children[job.parent_id].append(job)
    if root is not None:
        yield from job_tree(root, children)


def job_breadcrumb(job: Job) -> str:
    """``Exec 1a2b3c4d > (2 Jobs) > Job 5e6f7a8b main > Job 9a8b7c6d add``."""
    stack = []
    current: Job | None = job
    while current is not None:
        stack.append(current)
        current = current.parent_job
    parts = [f"Exec {short_id(job.execution_id)}"]
    if len(stack) > 2:
        hidden = len(stack) - 2
        parts.append(f"({hidden} {'Jobs' if hidden > 1 else 'Job'})")
    if len(stack) > 1:
        parts.append(f"Job {short_id(stack[-1].id)} {stack[-1].task.name}")
    parts.append(f"Job {short_id(job.id)} {job.task.name}")
    return "Traceback: " + " > ".join(parts)


def result_lines(node: CallNode) -> Iterator[str]:
    yield f"Args:   {format_arguments(node.arguments)}"
    if node.value.type == ERROR_VALUE_TYPE:
        error = getattr(_parsed(node.value), "error", "Unknown")
        yield f"Raised: {trim_string(repr(error))}"
    else:
        yield f"Result: {preview_repr(node.value)}"


def _parsed(value: Value) -> Any:
    try:
        return value.value_parsed
    except Exception:  # a value that cannot be unpickled here shows as unknown
        return None


def traceback_lines(job: Job) -> Iterator[str]:
    parsed = _parsed(job.call_node.value) if job.call_node else None
    trace = getattr(parsed, "traceback", None)
    if trace is None:
        return
    yield "Traceback:"
    for chunk in trace.format():
        yield from chunk.rstrip("\n").split("\n")


def call_node_detail(node: CallNode, relatives: bool = True) -> Iterator[str]:
    yield call_node_line(node, full=True)
    yield from indent(result_lines(node), 2)
    if relatives and node.parents:
        yield "  Parent CallNodes:"
        yield from indent((call_node_line(parent) for parent in node.parents), 4)
    if relatives and node.children:
        yield "  Child CallNodes:"
        yield from indent((call_node_line(child) for child in node.children), 4)
    if node.task is not None:
        yield ""
        yield from task_detail(node.task, first_job=False)


def task_detail(task: Task, first_job: bool = True) -> Iterator[str]:
    yield task_line(task, full=True)
    if first_job:
        jobs = sorted(task.jobs, key=lambda job: job.start_time)
        if jobs:
            yield f"  First Job {short_id(jobs[0].id)} {jobs[0].start_time}"
    yield from indent(_doc_lines(task.tags), 2)
    yield ""
    yield from indent(task.source.rstrip("\n").split("\n"), 2)
    yield ""


def job_detail(job: Job) -> Iterator[str]:
    yield job_line(job, full=True)
    yield job_breadcrumb(job)
    if job.status == "DONE":
        duration = job.duration
        yield f"Duration: {format_timedelta(duration) if duration is not None else 'Unknown'}"
    yield ""
    if job.call_node is not None:
        yield from indent(call_node_detail(job.call_node, relatives=False), 2)
    else:
        yield "  CallNode UNKNOWN: Job has not finished or has been killed."
        yield ""
        if job.task is not None:
            yield from indent(task_detail(job.task, first_job=False), 2)
    if job.status == "FAILED":
        yield from indent(traceback_lines(job), 2)


def producers(session: Any, value_hash: str) -> list[Job]:
    """Jobs whose result is this value or holds it (newest first)."""
    from sqlalchemy import or_, select

    from redun.backends.db.models import Subvalue

    stmt = (
        select(Job)
        .join(CallNode, CallNode.call_hash == Job.call_hash)
        .where(
            or_(
                CallNode.value_hash == value_hash,
                CallNode.value_hash.in_(
                    select(Subvalue.parent_value_hash).where(Subvalue.value_hash == value_hash)
                ),
            )
        )
        .order_by(Job.start_time.desc(), Job.id)
    )
    return list(session.execute(stmt).scalars())


def consumers(session: Any, value_hash: str) -> list[Job]:
    """Jobs that took this value (or a container holding it) as an argument, newest first."""
    from sqlalchemy import or_, select

    from redun.backends.db.models import Subvalue

    calls = select(Argument.call_hash).where(
        or_(
            Argument.value_hash == value_hash,
            Argument.value_hash.in_(
                select(Subvalue.parent_value_hash).where(Subvalue.value_hash == value_hash)
            ),
        )
    )
    stmt = select(Job).where(Job.call_hash.in_(calls)).order_by(Job.start_time.desc(), Job.id)
    return list(session.execute(stmt).scalars())


def _flow_lines(session: Any, value_hash: str, produced: str, used: str) -> Iterator[str]:
    made = producers(session, value_hash)
    taken = consumers(session, value_hash)
    if made:
        yield f"{produced}:"
        yield from indent((job_line(job) for job in made), 2)
    if taken:
        yield f"{used}:"
        yield from indent((job_line(job) for job in taken), 2)
    if not made and not taken:
        yield "Not produced or used by any recorded job."


def value_detail(session: Any, value: Value) -> Iterator[str]:
    if value.file is not None:
        yield from file_detail(session, value.file)
        return
    yield f"Value {short_id(value.value_hash)} {value.type} {format_tags(value.tags)}"
    yield preview_repr(value)
    yield ""
    yield from _flow_lines(session, value.value_hash, "Produced by", "Used by")


def file_detail(session: Any, file: File) -> Iterator[str]:
    yield file_line(file)
    yield ""
    yield from _flow_lines(session, file.value_hash, "Produced by", "Consumed by")


def record_detail(session: Any, record: Any) -> Iterator[str]:
    """The multi-line view of one record (what `redun log ID` prints)."""
    if isinstance(record, Execution):
        yield from execution_detail(record)
    elif isinstance(record, Job):
        yield from job_detail(record)
    elif isinstance(record, CallNode):
        yield from call_node_detail(record)
    elif isinstance(record, Task):
        yield from task_detail(record)
    elif isinstance(record, Value):
        yield from value_detail(session, record)
    elif isinstance(record, File):
        yield from file_detail(session, record)
    else:
        raise TypeError(f"not a call-graph record: {record!r}")
