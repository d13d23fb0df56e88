"""Entry point of redun-aws (group `redun`).

Everything here is a name and a dotted target: boto3 is imported only when an
``s3://`` path, an AWS executor or ``redun aws`` is first used.
"""

from __future__ import annotations

import os
from typing import Any

from redun.plugins import FileSystemSpec, hookimpl

# Credentials and region settings a container needs to reach AWS like the host.
AWS_ENV_PREFIXES = ("AWS_",)
FALSE_VALUES = ("false", "0", "no", "off")


@hookimpl
def redun_filesystems() -> list[FileSystemSpec]:
    return [FileSystemSpec(("s3",), "redun_aws.s3:S3FileSystem", "Amazon S3 (boto3)")]


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
