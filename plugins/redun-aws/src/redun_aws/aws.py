"""boto3 clients and AWS errors, shared by the S3 filesystem, the executors and the CLI.

Clients are made per process and thread (boto3 clients and sessions are not
safe to share across a fork, and sessions not across threads), from boto3's
standard chain: credentials, region and endpoint (``AWS_ENDPOINT_URL``,
``AWS_ENDPOINT_URL_S3``, ...) come from the environment and ~/.aws as for any
AWS tool. Throttling is retried by botocore's standard retry mode.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
from redun.errors import RedunError

# botocore's standard mode retries throttling (TooManyRequestsException, SlowDown, ...)
# and transient errors with exponential backoff and jitter.
RETRY_CONFIG = {"mode": "standard", "max_attempts": 10}
FALLBACK_REGION = "us-west-2"

_local = threading.local()


class AWSError(RedunError):
    """An AWS call failed for a reason the user can act on (message says how)."""


def _clients() -> dict[tuple[str, str | None], Any]:
    # A fork, or a change of the AWS_* settings (endpoint, profile, keys), makes new clients.
    key = (os.getpid(), tuple(sorted(kv for kv in os.environ.items() if kv[0].startswith("AWS_"))))
    if getattr(_local, "key", None) != key:
        _local.key = key
        _local.session = None
        _local.clients = {}
    return _local.clients


def session() -> boto3.session.Session:
    """This thread's boto3 session."""
    _clients()
    if _local.session is None:
        _local.session = boto3.session.Session()
    return _local.session


def region(configured: str | None = None) -> str:
    """The region to use: configured, else boto3's chain, else redun's fallback."""
    return configured or session().region_name or FALLBACK_REGION


def client(service: str, region_name: str | None = None) -> Any:
    """A boto3 client of this process and thread, created once per service and region."""
    clients = _clients()
    key = (service, region_name)
    found = clients.get(key)
    if found is None:
        config = botocore.config.Config(retries=RETRY_CONFIG, max_pool_connections=32)
        found = clients[key] = session().client(service, region_name=region_name, config=config)
    return found


def error_code(error: BaseException) -> str:
    if isinstance(error, botocore.exceptions.ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def error_message(error: BaseException) -> str:
    """The service's message, on one line."""
    message = str(error)
    if isinstance(error, botocore.exceptions.ClientError):
        message = str(error.response.get("Error", {}).get("Message", "")) or message
    return " ".join(message.split())


def describe_failure(error: BaseException, action: str) -> str | None:
    """One line for failures that are not about a particular resource, else None."""
    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return (
            f"No AWS credentials found for {action}: configure them as for any AWS tool "
            "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials)"
        )
    if isinstance(error, botocore.exceptions.NoRegionError):
        return f"No AWS region for {action}: set AWS_DEFAULT_REGION or the executor's aws_region"
    if isinstance(error, botocore.exceptions.EndpointConnectionError):
        return f"Cannot reach AWS for {action}: {error} (check AWS_ENDPOINT_URL and the network)"
    if isinstance(error, botocore.exceptions.ClientError) and error_code(error) in (
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
    ):
        return f"AWS refused the credentials for {action}: {error_message(error)}"
    return None


def is_client_error(error: BaseException) -> bool:
    return isinstance(error, (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError))
