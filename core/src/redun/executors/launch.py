"""Submit one shell command to an executor without a workflow around it (``redun launch``).

A remote executor starts the command and returns at once (fire and forget);
a local one runs it to the end before returning, as in redun. Nothing is
recorded in the call graph: the launched command (usually ``redun run ...``)
records its own execution.
"""

from __future__ import annotations

import logging
import shlex
import uuid
from typing import Any

from redun.config import Config

logger = logging.getLogger("redun")

# A throwaway state store: launching records nothing.
_LAUNCH_CONFIG = {"backend": {"db_uri": "sqlite:///:memory:"}}


def launch_script(
    config: Config,
    script_command: list[str] | str,
    executor: Any = None,
    executor_name: str | None = None,
    task_options: dict | None = None,
    execution_id: str | None = None,
) -> str | None:
    """Run `script_command` on `executor` (or the ``[executors.<executor_name>]`` one).

    Returns the engine's id of the launched job for remote executors, None for
    local ones (which have finished the command by then).
    """
    from redun.executors.remote import RemoteExecutor
    from redun.scheduler import Execution, Job, Scheduler
    from redun.scheduler.setup import get_executor_from_config
    from redun.scripting import script_task

    if executor is None:
        if executor_name is None:
            raise ValueError("launch_script() needs an executor or an executor_name")
        executor = get_executor_from_config(config.get("executors") or {}, executor_name)
    command = script_command if isinstance(script_command, str) else shlex.join(script_command)
    options = {**(task_options or {}), "executor": executor.name}
    task = script_task.options(**options)
    Scheduler(config=Config(_LAUNCH_CONFIG), executor=executor)
    job = Job(task, task(command), execution=Execution(execution_id))
    job.args = ((command,), {})
    # A fresh scratch directory per launch: launching is never cached.
    job.eval_hash = uuid.uuid4().hex
    logger.info("Run within Executor %s: %s", executor.name, command)
    if isinstance(executor, RemoteExecutor):
        return executor.submit_detached(job)
    try:
        executor.submit_script(job)
    finally:
        executor.stop()
    return None
