"""Text shapes of call-graph records, as `redun log` has always printed them.

Users grep and parse these lines, so each record keeps redun's layout: the
kind, an 8-character id, then the fields in a fixed order, for example
``Job 5e6f7a8b [CACHED] 2026-11-24 10:00:00:  wf.add(3, 1) (env=dev)``.
Every function formats rows of the read model (`redun.backends.db.rows`) and
returns lines; none reads the repository, so `redun log`, `redun explain`,
`redun tag` and tests share them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from redun.backends.db.rows import (
    ArgumentRow,
    CallNodeDetail,
    CallNodeRow,
    ExecutionDetail,
    ExecutionRow,
    Failure,
    FileRow,
    JobDetail,
    JobRow,
    TaskDetail,
    TaskRow,
    ValueDetail,
    ValueRow,
)
from redun.tags import format_tag_key_value
from redun.utils import format_timedelta, format_timestamp

STATUS_WIDTH = 6
ID_WIDTH = 8
RULE = "-" * 80


def short_id(record_id: str, full: bool = False) -> str:
    return record_id if full else record_id[:ID_WIDTH]


def status_cell(status: str) -> str:
    """``[ DONE ]``, ``[FAILED]``, ``[CACHED]``, ``[ RUN  ]``, ``[ STOP ]``: fixed width."""
    shown = {"RUNNING": "RUN ", "STOPPED": "STOP"}.get(status, status)
    return f"[{shown.center(STATUS_WIDTH)}]"


def format_tags(tags: Iterable[tuple[str, Any]]) -> str:
    """``(k=v, k2=v2)`` sorted, or an empty string."""
    items = sorted(format_tag_key_value(key, value) for key, value in tags)
    return f"({', '.join(items)})" if items else ""


def format_arguments(arguments: Iterable[ArgumentRow]) -> str:
    """Positional arguments in order, then keyword arguments by name: ``3, 1, scale=2``."""
    return ", ".join(
        arg.value.preview if arg.key is None else f"{arg.key}={arg.value.preview}"
        for arg in arguments
    )


def exec_argv(execution: ExecutionRow) -> str:
    """The command line without the program name (``run wf.py main --n 3``)."""
    argv = execution.argv
    return " ".join(argv[1:]) if argv is not None else execution.args


# -- one-line shapes ---------------------------------------------------------------


def exec_line(execution: ExecutionRow, full: bool = False) -> str:
    return (
        f"Exec {short_id(execution.id, full)} {status_cell(execution.status)} "
        f"{format_timestamp(execution.start_time)}:  {exec_argv(execution)} "
        f"{format_tags(execution.tags)}"
    )


def job_line(job: JobRow, full: bool = False) -> str:
    return (
        f"Job {short_id(job.id, full)} {status_cell(job.status)} "
        f"{format_timestamp(job.start_time)}:  {job.task}({format_arguments(job.arguments or ())}) "
        f"{format_tags(job.tags)}"
    )


def call_node_line(node: CallNodeRow, full: bool = False) -> str:
    return f"CallNode {short_id(node.call_hash, full)} {node.task_name} {format_tags(node.tags)}"


def task_line(task: TaskRow, full: bool = False) -> str:
    return f"Task {short_id(task.hash, full)} {task.fullname} {format_tags(task.tags)}"


def value_line(value: ValueRow) -> str:
    return f"Value {short_id(value.hash)} {value.type} {value.preview} {format_tags(value.tags)}"


def file_line(file: FileRow) -> str:
    return f"File {short_id(file.value_hash)} {file.path} {format_tags(file.tags)}"


def record_line(record: Any) -> str:
    """The one-line form of any row."""
    for kind, line in (
        (ExecutionRow, exec_line),
        (JobRow, job_line),
        (CallNodeRow, call_node_line),
        (TaskRow, task_line),
        (ValueRow, value_line),
        (FileRow, file_line),
    ):
        if isinstance(record, kind):
            return line(record)
    raise TypeError(f"not a call-graph row: {record!r}")


def indent(lines: Iterable[str], width: int) -> Iterator[str]:
    pad = " " * width
    for line in lines:
        yield pad + line if line else line


# -- detail views ------------------------------------------------------------------


def _doc_lines(tags: Iterable[tuple[str, Any]]) -> Iterator[str]:
    for key, value in tags:
        if key == "doc" and isinstance(value, str):
            yield from value.splitlines()


def execution_duration(detail: ExecutionDetail) -> Any:
    """Root job duration when done, else the span of the jobs recorded so far."""
    execution, jobs = detail.execution, detail.jobs
    if execution.end_time is not None:
        return execution.end_time - execution.start_time
    if not jobs:
        return None
    start = min(job.start_time for job in jobs)
    end = max((job.end_time for job in jobs if job.end_time), default=start)
    return end - start


def job_tree(jobs: Iterable[JobRow], root_id: str) -> Iterator[tuple[JobRow, int]]:
    """(job, depth) of a job and its descendants in start order (iterative: trees are deep)."""
    children: dict[str | None, list[JobRow]] = defaultdict(list)
    by_id = {}
    for job in jobs:
        children[job.parent_id].append(job)
        by_id[job.id] = job
    if root_id not in by_id:
        return
    stack = [(by_id[root_id], 0)]
    while stack:
        current, level = stack.pop()
        yield current, level
        stack.extend((child, level + 1) for child in reversed(children.get(current.id, [])))


def execution_detail(detail: ExecutionDetail) -> Iterator[str]:
    from redun.scheduler.status import format_job_statuses

    execution, jobs = detail.execution, detail.jobs
    yield exec_line(execution, full=True)
    duration = execution_duration(detail)
    yield f"Duration: {format_timedelta(duration) if duration is not None else 'Unknown'}"
    yield from _doc_lines(execution.tags)
    yield ""
    end_time = execution.end_time
    if end_time is None and jobs:
        end_time = max((job.end_time for job in jobs if job.end_time), default=None)
    counts = {
        task: {**per_status, "TOTAL": sum(per_status.values())}
        for task, per_status in detail.status_counts.items()
    }
    yield from format_job_statuses(counts, end_time, table_statuses(detail.status_counts))
    statuses = Counter(job.status for job in jobs)
    yield (
        f"Jobs: {len(jobs)} (DONE: {statuses['DONE']}, CACHED: {statuses['CACHED']}, "
        f"FAILED: {statuses['FAILED']})"
    )
    yield RULE
    for job, depth in job_tree(jobs, execution.job_id):
        yield "  " * depth + job_line(job)


def table_statuses(status_counts: Mapping[str, Mapping[str, int]]) -> list[str]:
    """redun's columns of the job status table, and STOPPED after RUNNING when some job of
    the execution is stopped (redun has no such status: its tables keep their layout)."""
    from redun.scheduler.jobs import JOB_STATUSES

    columns = list(JOB_STATUSES)
    if any(per_status.get("STOPPED") for per_status in status_counts.values()):
        columns.insert(columns.index("RUNNING") + 1, "STOPPED")
    return columns


def job_breadcrumb(detail: JobDetail) -> str:
    """``Exec 1a2b3c4d > (2 Jobs) > Job 5e6f7a8b main > Job 9a8b7c6d add``."""
    job, lineage = detail.job, detail.lineage
    parts = [f"Exec {short_id(job.execution_id)}"]
    if len(lineage) > 1:
        hidden = len(lineage) - 1
        parts.append(f"({hidden} {'Jobs' if hidden > 1 else 'Job'})")
    if lineage:
        parts.append(f"Job {short_id(lineage[0].id)} {_short_name(lineage[0].task)}")
    parts.append(f"Job {short_id(job.id)} {_short_name(job.task)}")
    return "Traceback: " + " > ".join(parts)


def _short_name(task_fullname: str) -> str:
    return task_fullname.rpartition(".")[2]


def result_lines(node: CallNodeRow, failure: Failure | None) -> Iterator[str]:
    yield f"Args:   {format_arguments(node.arguments)}"
    if node.failed:
        yield f"Raised: {failure.error_repr if failure is not None else 'Unknown'}"
    else:
        yield f"Result: {node.result.preview}"


def traceback_lines(detail: JobDetail) -> Iterator[str]:
    failure = detail.failure
    if failure is None or not failure.traceback:
        return
    yield "Traceback:"
    yield from failure.traceback
    if failure.logs:
        yield ""
        yield "Latest logs:"
        for chunk in failure.logs:
            yield from chunk.rstrip("\n").split("\n")


def call_node_detail(detail: CallNodeDetail) -> Iterator[str]:
    node = detail.call
    yield call_node_line(node, full=True)
    yield from indent(result_lines(node, detail.failure), 2)
    if detail.parents:
        yield "  Parent CallNodes:"
        yield from indent((call_node_line(parent) for parent in detail.parents), 4)
    if detail.children:
        yield "  Child CallNodes:"
        yield from indent((call_node_line(child) for child in detail.children), 4)
    if detail.task is not None:
        yield ""
        yield from task_detail(TaskDetail(detail.task, (), None), first_job=False)


def task_detail(detail: TaskDetail, first_job: bool = True) -> Iterator[str]:
    task = detail.task
    yield task_line(task, full=True)
    if first_job and detail.first_job is not None:
        yield f"  First Job {short_id(detail.first_job.id)} {detail.first_job.start_time}"
    yield from indent(_doc_lines(task.tags), 2)
    yield ""
    yield from indent(task.source.rstrip("\n").split("\n"), 2)
    yield ""


def job_detail(detail: JobDetail) -> Iterator[str]:
    job = detail.job
    yield job_line(job, full=True)
    yield job_breadcrumb(detail)
    if job.status == "DONE":
        duration = job.duration
        yield f"Duration: {format_timedelta(duration) if duration is not None else 'Unknown'}"
    yield ""
    if detail.call is not None:
        node = CallNodeDetail(detail.call, detail.task, (), (), detail.failure)
        yield from indent(call_node_detail(node), 2)
    else:
        yield "  CallNode UNKNOWN: Job has not finished or has been killed."
        yield ""
        if detail.task is not None:
            yield from indent(task_detail(TaskDetail(detail.task, (), None), first_job=False), 2)
    if job.status == "FAILED":
        yield from indent(traceback_lines(detail), 2)


def _flow_lines(detail: ValueDetail, produced: str, used: str) -> Iterator[str]:
    if detail.producers:
        yield f"{produced}:"
        yield from indent((job_line(job) for job in detail.producers), 2)
    if detail.consumers:
        yield f"{used}:"
        yield from indent((job_line(job) for job in detail.consumers), 2)
    if not detail.producers and not detail.consumers:
        yield "Not produced or used by any recorded job."


def value_detail(detail: ValueDetail) -> Iterator[str]:
    value = detail.value
    if value.file_path is not None:
        yield file_line(FileRow(value.hash, value.file_path, value.tags))
        yield ""
        yield from _flow_lines(detail, "Produced by", "Consumed by")
        return
    yield f"Value {short_id(value.hash)} {value.type} {format_tags(value.tags)}"
    yield value.preview
    yield ""
    yield from _flow_lines(detail, "Produced by", "Used by")


DETAILS: Mapping[type, Any] = {
    ExecutionDetail: execution_detail,
    JobDetail: job_detail,
    CallNodeDetail: call_node_detail,
    TaskDetail: task_detail,
    ValueDetail: value_detail,
}


def record_detail(detail: Any) -> Iterator[str]:
    """The multi-line view of one record (what `redun log ID` prints)."""
    formatter = DETAILS.get(type(detail))
    if formatter is None:
        raise TypeError(f"not a call-graph detail: {detail!r}")
    yield from formatter(detail)
