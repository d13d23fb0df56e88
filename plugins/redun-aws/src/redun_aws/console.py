"""A console screen for a job that ran on AWS Batch: its Batch id, status and CloudWatch log.

Reached from the job's screen (the link comes from ``redun_console_job_links``
in redun_aws.plugin) at route ``aws-batch/JOB_ID``. The status and the log
are read live from AWS (the region is boto3's default); the ids come from
the job's ``aws_batch_job`` and ``aws_log_stream`` tags.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from redun_console.resolve import match_prefix
from redun_console.screens.base import RouteScreen
from textual.widget import Widget
from textual.widgets import Log, Static

LOG_LINES = 1000


def batch_details(batch_job: str | None, log_stream: str | None) -> tuple[str, list[str]]:
    """(status line, log lines) of a Batch job, saying what went wrong instead of raising."""
    from redun_aws import aws
    from redun_aws.batch import LOG_GROUP

    if not batch_job:
        return "not an AWS Batch job (no aws_batch_job tag)", []
    try:
        described = aws.client("batch", aws.region()).describe_jobs(jobs=[batch_job])["jobs"]
    except Exception as error:
        return f"status unavailable: {aws.describe_failure(error, 'AWS Batch') or error}", []
    if not described:
        return "no longer known to AWS Batch", []
    job = described[0]
    status = job["status"]
    if job.get("statusReason"):
        status += f" ({job['statusReason']})"
    log_stream = log_stream or (job.get("container") or {}).get("logStreamName")
    if not log_stream:
        return status, []
    try:
        events = aws.client("logs", aws.region()).get_log_events(
            logGroupName=LOG_GROUP, logStreamName=log_stream, limit=LOG_LINES, startFromHead=False
        )["events"]
    except Exception as error:
        return status, [f"(CloudWatch log unavailable: {error})"]
    return status, [event["message"] for event in events]


class BatchJobScreen(RouteScreen):
    """AWS Batch view of one redun job."""

    def __init__(self, route: str, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(route, job_id=job_id)

    @classmethod
    def resolve(cls, reader: Any, job_id: str) -> dict[str, Any]:
        return {"job_id": match_prefix(reader, "Job", job_id)}

    @classmethod
    def route_for(cls, job_id: str, **_: Any) -> str:
        return f"aws-batch/{job_id}"

    def compose_body(self) -> Iterable[Widget]:
        yield Static(id="aws-batch-summary")
        yield Log(id="aws-batch-log", highlight=False)

    def load(self) -> None:
        tags = dict(self.reader.current_tags([self.job_id]).get(self.job_id, ()))
        batch_job = tags.get("aws_batch_job")
        log_stream = tags.get("aws_log_stream")
        status, lines = batch_details(batch_job, log_stream)
        self.query_one("#aws-batch-summary", Static).update(
            f"redun job {self.job_id}\nAWS Batch job {batch_job or '-'}\n"
            f"status {status}\nlog stream {log_stream or '-'}"
        )
        log = self.query_one("#aws-batch-log", Log)
        log.clear()
        log.write_lines(lines)
