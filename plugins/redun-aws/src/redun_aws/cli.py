"""``redun aws``: list, kill and read the logs of the AWS Batch jobs of this repo's executors.

Every ``type = aws_batch`` executor of redun.ini that is not in debug mode
is asked; jobs are found by the executor's job name prefix in its queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state

STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
INFLIGHT = STATUSES[:5]


def parse_statuses(raw: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if not raw:
        return default
    statuses = tuple(part.strip().upper() for part in raw.split(",") if part.strip())
    unknown = [status for status in statuses if status not in STATUSES]
    if unknown:
        raise CliError(f"unknown Batch job status {', '.join(unknown)}; use {','.join(STATUSES)}")
    return statuses


@contextmanager
def _aws_errors() -> Iterator[None]:
    from redun.executors.base import ExecutorError

    from redun_aws.aws import AWSError

    try:
        yield
    except (ExecutorError, AWSError) as error:
        raise CliError(str(error)) from None


def batch_executors(state: CliState) -> list[Any]:
    """The repo's aws_batch executors, debug ones left out."""
    from redun.utils import str2bool

    from redun_aws.batch import AWSBatchExecutor

    executors = []
    for name, section in (state.config.get("executors") or {}).items():
        if section.get("type") != "aws_batch":
            continue
        if str2bool(str(section.get("debug", "false"))):
            continue
        with _aws_errors():
            executors.append(AWSBatchExecutor(name, config=dict(section)))
    if not executors:
        raise CliError(
            f"no [executors.NAME] section with type = aws_batch in {state.config_dir}/redun.ini"
        )
    return executors


def _jobs(state: CliState, statuses: tuple[str, ...]) -> Iterator[tuple[Any, dict]]:
    for executor in batch_executors(state):
        with _aws_errors():
            jobs = executor.list_batch_jobs(statuses)
        for job in sorted(jobs, key=lambda j: j.get("createdAt", 0)):
            yield executor, job


def _describe_line(executor: Any, job: dict) -> str:
    tags = job.get("tags") or {}
    redun_job = tags.get("redun_job_id") or tags.get("redun.job_id") or "-"
    task = tags.get("redun_task_name") or tags.get("redun.task") or "-"
    size = (job.get("arrayProperties") or {}).get("size")
    array = f" array[{size}]" if size else ""
    return (
        f"{job['jobId']}  {job['status']:<9}  {executor.name}  {job['jobName']}{array}  "
        f"redun job {redun_job[:8]}  {task}"
    )


@click.group("aws")
def aws() -> None:
    """AWS Batch jobs of this repo's aws_batch executors."""


@aws.command("list-jobs")
@click.option("-s", "--status", "statuses", help="Comma-separated statuses (default: in flight).")
@pass_state
def list_jobs(state: CliState, statuses: str | None) -> None:
    """List Batch jobs submitted by redun."""
    wanted = parse_statuses(statuses, INFLIGHT)
    for executor, job in _jobs(state, wanted):
        click.echo(_describe_line(executor, job))


@aws.command("kill-jobs")
@click.option("-s", "--status", "statuses", help="Comma-separated statuses (default: in flight).")
@pass_state
def kill_jobs(state: CliState, statuses: str | None) -> None:
    """Terminate Batch jobs submitted by redun."""
    wanted = parse_statuses(statuses, INFLIGHT)
    for executor, job in _jobs(state, wanted):
        with _aws_errors():
            executor._api(
                "terminate_job", jobId=job["jobId"], reason="Killed by redun aws kill-jobs"
            )
        click.echo(f"Killed {_describe_line(executor, job)}")


def _log_stream_of_redun_job(state: CliState, prefix: str) -> tuple[str | None, str | None]:
    """(Batch job id, log stream) recorded on a redun job (id or prefix)."""
    reader = state.get_reader()
    matches = reader.ids_with_prefix("Job", prefix)
    if not matches:
        raise CliError(f"no redun job with id {prefix}")
    if len(matches) > 1 and prefix not in matches:
        raise CliError(f"redun job id {prefix} is ambiguous: type more characters")
    job_id = prefix if prefix in matches else matches[0]
    tags = dict(reader.current_tags([job_id]).get(job_id, ()))
    if "aws_batch_job" not in tags:
        raise CliError(f"redun job {job_id[:8]} did not run on AWS Batch (no aws_batch_job tag)")
    return tags.get("aws_batch_job"), tags.get("aws_log_stream")


@aws.command("logs")
@click.option("-j", "--job", "redun_job", help="A redun job id (or prefix).")
@click.option("-b", "--batch-job", "batch_job", help="An AWS Batch job id.")
@click.option("-l", "--log-stream", "log_stream", help="A CloudWatch log stream name.")
@click.option("-a", "--all", "all_jobs", is_flag=True, help="Logs of every job (see -s).")
@click.option("-s", "--status", "statuses", help="With --all: comma-separated statuses.")
@pass_state
def logs(
    state: CliState,
    redun_job: str | None,
    batch_job: str | None,
    log_stream: str | None,
    all_jobs: bool,
    statuses: str | None,
) -> None:
    """Print the CloudWatch log of a Batch job."""
    executor = batch_executors(state)[0]
    with _aws_errors():
        if all_jobs:
            for job_executor, job in _jobs(state, parse_statuses(statuses, STATUSES)):
                stream = (job.get("container") or {}).get("logStreamName")
                click.echo(f"# {_describe_line(job_executor, job)}")
                for line in job_executor.log_lines(stream, None) if stream else []:
                    click.echo(line)
            return
        if redun_job:
            batch_job, log_stream = _log_stream_of_redun_job(state, redun_job)
        if batch_job and not log_stream:
            described = executor.describe([batch_job]).get(batch_job)
            if described is None:
                raise CliError(f"no AWS Batch job {batch_job}")
            log_stream = (described.get("container") or {}).get("logStreamName")
            if not log_stream:
                raise CliError(f"AWS Batch job {batch_job} has no log stream yet")
        if not log_stream:
            raise CliError("give a job: -j REDUN_JOB, -b BATCH_JOB, -l LOG_STREAM or --all")
        for line in executor.log_lines(log_stream, None):
            click.echo(line)
