"""Entry point of redun-aws (group `redun`).

Provides AWS environment forwarding for container jobs today; the S3
filesystem and the AWS Batch/Glue executors register here once built.
"""

from __future__ import annotations

import os
from typing import Any

from redun.plugins import hookimpl

# Credentials and region settings a container needs to reach AWS like the host.
AWS_ENV_PREFIXES = ("AWS_",)
FALSE_VALUES = ("false", "0", "no", "off")


@hookimpl
def redun_job_env(job: Any, executor: Any) -> dict[str, str] | None:
    """Forward AWS_* variables unless the executor sets ``include_aws_env = false``."""
    config = getattr(executor, "config", None) or {}
    if str(config.get("include_aws_env", "true")).strip().lower() in FALSE_VALUES:
        return None
    env = {k: v for k, v in os.environ.items() if k.startswith(AWS_ENV_PREFIXES)}
    return env or None
