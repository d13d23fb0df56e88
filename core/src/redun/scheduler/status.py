"""The job status table the scheduler prints periodically and at the end."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence

from redun.scheduler.jobs import JOB_STATUSES
from redun.utils import format_table


def format_job_statuses(
    job_status_counts: Mapping[str, Mapping[str, int]],
    timestamp: datetime.datetime | None = None,
    statuses: Sequence[str] = JOB_STATUSES,
) -> Iterator[str]:
    """Lines of the table: one row per task name plus an ALL row, redun's layout
    (`statuses`: the columns, redun's by default)."""
    task_names = sorted(job_status_counts)
    table: list[list[str]] = [["TASK", *statuses]]
    table.append(
        ["ALL"]
        + [
            str(sum(job_status_counts[name].get(status, 0) for name in task_names))
            for status in statuses
        ]
    )
    for name in task_names:
        table.append([name] + [str(job_status_counts[name].get(status, 0)) for status in statuses])
    timestamp = timestamp or datetime.datetime.now()
    yield f"| JOB STATUS {timestamp.strftime('%Y/%m/%d %H:%M:%S')}"
    for line in format_table(table, "l" + "r" * len(statuses), min_width=7):
        yield f"| {line}"
    yield ""
