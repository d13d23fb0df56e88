"""Entry point of redun-aws (group `redun`).

Everything here is a name and a dotted target: boto3 is imported only when an
``s3://`` path, an AWS executor or ``redun aws`` is first used. The console
hooks are specified by redun-console; without it they are never called.
"""

from __future__ import annotations

import os
from typing import Any

from redun.plugins import (
    CommandOptionSpec,
    CommandSpec,
    ExecutorSpec,
    FileSystemSpec,
    ValueTypeSpec,
    hookimpl,
)

# Credentials and region settings a container needs to reach AWS like the host.
AWS_ENV_PREFIXES = ("AWS_",)
FALSE_VALUES = ("false", "0", "no", "off")


@hookimpl
def redun_filesystems() -> list[FileSystemSpec]:
    return [FileSystemSpec(("s3",), "redun_aws.s3:S3FileSystem", "Amazon S3 (boto3)")]


@hookimpl
def redun_executors() -> list[ExecutorSpec]:
    from redun_aws.config_keys import BATCH_KEYS, GLUE_KEYS

    return [
        ExecutorSpec(
            "aws_batch",
            "redun_aws.batch:AWSBatchExecutor",
            "AWS Batch job queues",
            config_keys=BATCH_KEYS,
        ),
        ExecutorSpec(
            "aws_glue",
            "redun_aws.glue_executor:AWSGlueExecutor",
            "AWS Glue Spark job runs",
            config_keys=GLUE_KEYS,
        ),
    ]


@hookimpl
def redun_value_types() -> list[ValueTypeSpec]:
    return [ValueTypeSpec("redun.ShardedS3Dataset", "redun_aws.dataset")]


@hookimpl
def redun_commands() -> list[CommandSpec]:
    return [CommandSpec("aws", "redun_aws.cli:aws", "AWS Batch jobs: list-jobs, kill-jobs, logs")]


@hookimpl
def redun_command_options() -> list[CommandOptionSpec]:
    return [CommandOptionSpec("run", "redun_aws.run_options:exclude_user_option")]


@hookimpl
def redun_execution_started(scheduler: Any, execution: Any) -> None:
    """`redun run` tags the execution with the AWS user, as redun does (no network call)."""
    from redun_aws.run_options import RUN_OPTIONS

    if not RUN_OPTIONS["cli_run"] or "aws" in RUN_OPTIONS["exclude"]:
        return
    from redun_aws.identity import aws_user

    user = aws_user()
    if user:
        from redun.scheduler.provenance import tag_entity

        scheduler.backend.record_tags(tag_entity("Execution"), execution.id, [("user_aws", user)])


@hookimpl
def redun_job_env(job: Any, executor: Any) -> dict[str, str] | None:
    """Forward AWS_* variables unless the executor sets ``include_aws_env = false``.

    AWS's own executors default to false: Batch and Glue jobs get their
    credentials from their IAM role, not from the submitting user.
    """
    config = getattr(executor, "config", None) or {}
    default = "false" if getattr(executor, "runs_on_aws", False) else "true"
    if str(config.get("include_aws_env", default)).strip().lower() in FALSE_VALUES:
        return None
    env = {k: v for k, v in os.environ.items() if k.startswith(AWS_ENV_PREFIXES)}
    return env or None


@hookimpl
def redun_console_screens() -> list[Any]:
    from redun_console.types import ScreenSpec

    return [
        ScreenSpec(
            r"aws-batch/(?P<job_id>[^/]+)",
            "redun_aws.console:BatchJobScreen",
            "AWS Batch id, status and CloudWatch log of a job",
        )
    ]


@hookimpl
def redun_console_job_links(job: Any, tags: dict[str, list]) -> list[Any] | None:
    if "aws_batch_job" not in tags:
        return None
    from redun_console.types import JobLink

    return [JobLink("AWS Batch job and log", f"aws-batch/{job.id}")]
