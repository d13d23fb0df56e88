"""redun: lazy, cached, provenance-recording workflows in Python.

Importing redun is cheap: the scheduler's backend (SQLAlchemy) and the plugin
manager load only when a Scheduler is built; executor classes load on first
attribute access.
"""

from __future__ import annotations

from typing import Any

from redun._version import __version__
from redun.context import get_context
from redun.file import Dir, File
from redun.handle import Handle
from redun.namespace import get_current_namespace, namespace
from redun.scheduler import (
    Scheduler,
    apply_tags,
    catch,
    catch_all,
    cond,
    get_current_scheduler,
    merge_handles,
    set_current_scheduler,
    throw,
)
from redun.scripting import script
from redun.task import PartialTask, Task, get_task_registry, task

version = __version__

# Executor classes redun exported, by executor type (loaded on first access).
_LAZY_EXECUTORS = {
    "LocalExecutor": "local",
    "AliasExecutor": "alias",
    "DockerExecutor": "docker",
    "AWSBatchExecutor": "aws_batch",
    "AWSGlueExecutor": "aws_glue",
    "GCPBatchExecutor": "gcp_batch",
    "K8SExecutor": "k8s",
}

_run_schedulers: dict[Any, Scheduler] = {}


def __getattr__(name: str) -> Any:
    if name == "register_executor":
        from redun.executors.base import register_executor

        return register_executor
    executor_type = _LAZY_EXECUTORS.get(name)
    if executor_type is None:
        raise AttributeError(f"module 'redun' has no attribute {name!r}")
    from redun.executors.base import get_executor_class

    return get_executor_class(executor_type)


def run(
    expr: Any,
    config_dir: str | None = None,
    exec_argv: list[str] | None = None,
    dryrun: bool = False,
    cache: bool = True,
    tags: Any = (),
    context: dict | None = None,
    execution_id: str | None = None,
) -> Any:
    """Evaluate `expr` with the repository at `config_dir` (found like the CLI when None).

    The Scheduler is built once per config dir, as ``redun run`` builds it, and
    reused by later calls.
    """
    from redun.config import find_config_dir, load_config
    from redun.scheduler.user_setup import setup_scheduler

    directory = find_config_dir(config_dir, create=config_dir is None)
    key = str(directory)
    scheduler = _run_schedulers.get(key)
    if scheduler is None:
        # Built like `redun run` builds it (honours [scheduler] setup_scheduler).
        scheduler = setup_scheduler(load_config(directory), {})
        _run_schedulers[key] = scheduler
    return scheduler.run(
        expr,
        exec_argv=exec_argv,
        dryrun=dryrun,
        cache=cache,
        tags=tags,
        context=context or {},
        execution_id=execution_id,
    )


__all__ = [
    "Dir",
    "File",
    "Handle",
    "PartialTask",
    "Scheduler",
    "Task",
    "__version__",
    "apply_tags",
    "catch",
    "catch_all",
    "cond",
    "get_context",
    "get_current_namespace",
    "get_current_scheduler",
    "get_task_registry",
    "merge_handles",
    "namespace",
    "run",
    "script",
    "set_current_scheduler",
    "task",
    "throw",
    "version",
]
