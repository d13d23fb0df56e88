"""Federated tasks: call an entry point another team's redun.ini names, without its code.

A ``[federated_tasks.NAME]`` section says which task (``namespace``,
``task_name``, ``load_module``), where to run it (``executor``) and with which
repository (``config_dir``); other keys are task options of the subrun that
runs it. ``[scheduler] federated_configs`` imports such sections (and their
executors) from other config directories.

- `federated_task` runs the entry point in a sub-scheduler (a `subrun`).
- `rest_federated_task` and `lambda_federated_task` only package the
  arguments into scratch and hand a small request to a proxy (an HTTP server,
  an AWS Lambda function), fire and forget; the proxy typically calls
  `launch_federated_task`, which starts ``redun run`` on the entry point's
  executor.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from redun.cache import CacheScope
from redun.config import ConfigError
from redun.errors import RedunError
from redun.expression import SchedulerExpression, TaskExpression
from redun.promise import Promise
from redun.scheduler import Execution, Job, subrun
from redun.task import scheduler_task
from redun.utils import pickle_dumps, str2bool, trim_string

REQUIRED_KEYS = ("namespace", "task_name", "load_module", "executor", "config_dir")
# Region of the Lambda client when $AWS_REGION is unset (redun's default).
DEFAULT_AWS_REGION = "us-west-2"
REST_TIMEOUT = 60.0

logger = logging.getLogger("redun")


class FederatedTaskConfigError(ConfigError, AssertionError):
    """A missing or incomplete ``[federated_tasks.NAME]`` (an AssertionError, as in redun)."""


class InvocationException(RedunError):
    """The proxy (Lambda function, REST server) did not accept the request."""


def get_entrypoint_config(federated_tasks: Mapping[str, Any] | None, entrypoint: str) -> dict:
    """The ``[federated_tasks.<entrypoint>]`` keys, checked, without ``description``."""
    sections = federated_tasks or {}
    if entrypoint not in sections:
        raise FederatedTaskConfigError(
            f"Could not find the entrypoint `{entrypoint}` in the provided federated tasks. "
            f"Found `{sorted(sections)}`: add [federated_tasks.{entrypoint}] to redun.ini "
            "or import it with [scheduler] federated_configs"
        )
    config = dict(sections[entrypoint])
    missing = [key for key in REQUIRED_KEYS if key not in config]
    if missing:
        raise FederatedTaskConfigError(
            f"Federated task entry `{entrypoint}` does not have the required keys, missing "
            f"`{set(missing)}`: [federated_tasks.{entrypoint}] needs {', '.join(REQUIRED_KEYS)}"
        )
    # Documentation only: kept out of the subrun's options (and so its hash).
    config.pop("description", None)
    return config


@scheduler_task(namespace="redun")
def federated_task(
    scheduler: Any,
    parent_job: Job,
    sexpr: SchedulerExpression,
    entrypoint: str,
    *task_args: Any,
    **task_kwargs: Any,
) -> Promise:
    """Run entry point `entrypoint` of ``[federated_tasks]`` on its executor (a subrun).

    The task's code is not visible here, so only results of this execution
    are reused (``cache_scope=CSE``); the sub-scheduler caches as it likes.
    """
    config = get_entrypoint_config(scheduler.config.get("federated_tasks"), entrypoint)
    if "new_execution" in config:
        config["new_execution"] = str2bool(config["new_execution"])
    expr = TaskExpression(
        f"{config.pop('namespace')}.{config.pop('task_name')}", task_args, task_kwargs
    )
    subrun_expr = subrun(
        expr,
        executor=config.pop("executor"),
        load_modules=[config.pop("load_module")],
        cache_scope=CacheScope.CSE,
        **config,
    )
    return scheduler.evaluate(subrun_expr, parent_job=parent_job)


def _package_request(
    config_name: str,
    entrypoint: str,
    scratch_prefix: str,
    task_args: tuple,
    task_kwargs: dict,
    cache: bool,
) -> tuple[str, dict]:
    """Pickle the arguments into scratch; the new execution id and the proxy's request."""
    from redun.executors import scratch

    execution = Execution()
    input_path = scratch.get_execution_scratch_file(
        scratch_prefix, execution.id, scratch.SCRATCH_INPUT
    )
    scratch.write_bytes(input_path, pickle_dumps([task_args, task_kwargs]))
    return execution.id, {
        "config_name": config_name,
        "entrypoint": entrypoint,
        "input_path": input_path,
        "execution_id": execution.id,
        "cache": cache,
    }


@scheduler_task(namespace="redun")
def lambda_federated_task(
    scheduler: Any,
    parent_job: Job,
    sexpr: SchedulerExpression,
    config_name: str,
    entrypoint: str,
    lambda_function_name: str,
    scratch_prefix: str,
    dryrun: bool,
    *task_args: Any,
    cache: bool = True,
    **task_kwargs: Any,
) -> Promise:
    """Hand entry point `entrypoint` to AWS Lambda function `lambda_function_name`.

    Fire and forget: evaluates to ``(execution_id, request)``, the id the
    launched execution will have and the JSON payload the function received.
    With `dryrun` the arguments are packaged but the function is not called.
    Needs boto3 (``pip install redun-aws``); region from ``$AWS_REGION``.
    """
    execution_id, request = _package_request(
        config_name, entrypoint, scratch_prefix, task_args, task_kwargs, cache
    )
    if not dryrun:
        _invoke_lambda(lambda_function_name, request)
    return Promise(lambda resolve, reject: resolve((execution_id, request)))


def _invoke_lambda(function_name: str, request: dict) -> None:
    try:
        import boto3
    except ImportError:
        raise InvocationException(
            "lambda_federated_task needs boto3, which redun-aws brings: pip install redun-aws"
        ) from None
    region = os.environ.get("AWS_REGION", DEFAULT_AWS_REGION)
    client = boto3.client("lambda", region_name=region)
    try:
        response = client.invoke(FunctionName=function_name, Payload=json.dumps(request))
    except Exception as error:  # botocore's errors, without importing botocore here
        raise InvocationException(
            f"Failed to invoke lambda '{function_name}' in {region}: {error}"
        ) from None
    payload = response.get("Payload")
    body = payload.read().decode("utf8", "replace") if payload is not None else ""
    logger.debug("Lambda %s answered %s", function_name, trim_string(body, max_length=2000))
    if response.get("StatusCode") != 200 or response.get("FunctionError"):
        raise InvocationException(
            f"Failed to invoke lambda '{function_name}'. Encountered error "
            f"{response.get('FunctionError', response.get('StatusCode'))}: {body}"
        )


@scheduler_task(namespace="redun")
def rest_federated_task(
    scheduler: Any,
    parent_job: Job,
    sexpr: SchedulerExpression,
    config_name: str,
    entrypoint: str,
    url: str,
    scratch_prefix: str,
    dryrun: bool,
    *task_args: Any,
    cache: bool = True,
    **task_kwargs: Any,
) -> Promise:
    """POST entry point `entrypoint` to the REST proxy at `url` (fire and forget).

    The request is form-encoded (as redun sends it): ``config_name``,
    ``entrypoint``, ``input_path``, ``execution_id`` and ``cache``. Evaluates
    to ``(execution_id, request)``; with `dryrun` nothing is sent.
    """
    execution_id, request = _package_request(
        config_name, entrypoint, scratch_prefix, task_args, task_kwargs, cache
    )
    if not dryrun:
        _post(url, request)
    return Promise(lambda resolve, reject: resolve((execution_id, request)))


def _post(url: str, request: dict) -> None:
    body = urllib.parse.urlencode(request).encode()
    http_request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    try:
        with urllib.request.urlopen(http_request, timeout=REST_TIMEOUT):
            pass
    except urllib.error.HTTPError as error:
        raise InvocationException(
            f"POST {url} was refused: HTTP {error.code} {error.reason}"
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise InvocationException(f"POST {url} failed: {reason}") from None


def launch_federated_task(
    federated_config_path: str,
    entrypoint: str,
    task_args: tuple | None = None,
    task_kwargs: dict | None = None,
    input_path: str | None = None,
    execution_id: str | None = None,
    cache: bool | str = True,
) -> str:
    """Start ``redun run`` on entry point `entrypoint` of the config dir at `federated_config_path`.

    The server side of `rest_federated_task` and `lambda_federated_task`: a
    proxy passes their request fields straight through (``config_name`` as
    `federated_config_path`). Arguments come as `task_args` and `task_kwargs`,
    or already pickled at `input_path`. Returns the execution id the run gets.
    """
    from redun.config import load_config
    from redun.executors import scratch
    from redun.executors.launch import launch_script
    from redun.scheduler.setup import get_executor_from_config

    config = load_config(federated_config_path)
    entry = get_entrypoint_config(config.get("federated_tasks"), entrypoint)
    executor = get_executor_from_config(config.get("executors") or {}, entry["executor"])
    execution = Execution(execution_id)
    if not input_path:
        if not isinstance(task_args, tuple) or not isinstance(task_kwargs, dict):
            raise ValueError(
                "launch_federated_task() needs input_path, or task_args as a tuple and "
                "task_kwargs as a dict (give () and {} for no arguments)"
            )
        input_path = scratch.get_execution_scratch_file(
            executor.scratch_root(), execution.id, scratch.SCRATCH_INPUT
        )
        scratch.write_bytes(input_path, pickle_dumps([task_args, task_kwargs]))
    use_cache = cache if isinstance(cache, bool) else str2bool(cache)
    command = ["redun", "-c", entry["config_dir"], "run", "--input", input_path]
    command += ["--execution-id", execution.id] + ([] if use_cache else ["--no-cache"])
    command += [entry["load_module"], f"{entry['namespace']}.{entry['task_name']}"]
    launch_script(config, command, executor=executor, execution_id=execution.id)
    return execution.id


__all__ = [
    "FederatedTaskConfigError",
    "InvocationException",
    "federated_task",
    "get_entrypoint_config",
    "lambda_federated_task",
    "launch_federated_task",
    "rest_federated_task",
]
