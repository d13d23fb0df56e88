"""redun: lazy, cached, provenance-recording workflows in Python.

Importing redun is cheap: the scheduler's backend (SQLAlchemy) and the plugin
manager load only when a Scheduler is built; executor classes load on first
attribute access.
"""

from __future__ import annotations

from typing import Any

from redun._version import __version__
from redun.compat import module_getattr
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

_run_schedulers: dict[Any, Scheduler] = {}

# register_executor and redun's executor classes (LocalExecutor, ..., K8SExecutor)
# load on first access; plugin executors come from the plugin kernel.
__getattr__ = module_getattr(__name__)


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

    A `config_dir` without a repository gets one (redun.ini and database), as
    in redun. The Scheduler is built once per config dir, as ``redun run``
    builds it, and reused by later calls.
    """
    from pathlib import Path

    from redun.config import find_config_dir, init_config_dir, load_config
    from redun.scheduler.user_setup import setup_scheduler

    if config_dir is not None and "://" not in str(config_dir):
        init_config_dir(Path(config_dir).expanduser().absolute())
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
