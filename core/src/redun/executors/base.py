"""The Executor API that executor plugins subclass.

An executor receives jobs from the scheduler thread through ``submit`` (or
``submit_script`` for ``script=True`` tasks) and must eventually report each
one, from any thread, with ``scheduler.done_job(job, result)`` or
``scheduler.reject_job(job, error, error_traceback=None)``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from redun.compat import module_getattr
from redun.errors import RedunError

if TYPE_CHECKING:
    from redun.scheduler import Job, Scheduler


class ExecutorError(RedunError):
    """An executor is misconfigured or cannot run a job."""


def config_int(config: Mapping[str, str], key: str, default: int, section: str) -> int:
    """An integer key of an executor section, with a one-line error naming it."""
    raw = config.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ExecutorError(f"[{section}] {key} = {raw!r} is not an integer") from None


def load_task_module(module_name: str, task_fullname: str) -> None:
    """Import the module defining a task, in a process that has not imported it yet."""
    from redun.task import get_task_registry

    if get_task_registry().get(task_fullname) is not None:
        return
    try:
        importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise ExecutorError(
            f"Cannot import module {module_name!r} defining task {task_fullname!r}: {error}"
        ) from error


class Executor:
    """Base class of executors; subclasses implement `submit` (and usually `submit_script`)."""

    def __init__(
        self,
        name: str,
        scheduler: Scheduler | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self._scheduler: Scheduler | None = None
        self.config: Mapping[str, str] = config if config is not None else {}
        self.logger = logging.getLogger("redun")
        if scheduler is not None:
            self.set_scheduler(scheduler)

    @property
    def scheduler(self) -> Scheduler | None:
        return self._scheduler

    def set_scheduler(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler

    @property
    def config_dir(self) -> str | None:
        """The repository's config directory, as the scheduler hands it over.

        Relative paths in an ``[executors.X]`` section are resolved against it
        (None: no repository, use the working directory).
        """
        return getattr(self._scheduler, "config_dir", None)

    def log(self, *messages: Any, **kwargs: Any) -> None:
        text = " ".join(map(str, messages))
        if self._scheduler is not None:
            self._scheduler.log(f"Executor[{self.name}]: {text}", **kwargs)
        else:
            self.logger.info("Executor[%s]: %s", self.name, text)

    def start(self) -> None:
        """Called before an execution starts (acquire pools, connections)."""

    def stop(self) -> None:
        """Called after an execution ends (release everything `start` acquired).

        Jobs still running at that point belong to a run that was stopped
        (Ctrl-C, SIGTERM, a fatal error): end them rather than wait for them.
        """

    def cancel_queued(self) -> list[Job]:
        """The run is stopping: drop the jobs submitted but not started, and return them.

        Running jobs may still finish (and are recorded); `stop` ends the rest.
        """
        return []

    def submit(self, job: Job) -> None:
        """Run `job.task.func(*job.args[0], **job.args[1])` and report the outcome."""
        raise ExecutorError(f"Executor {self.name!r} ({type(self).__name__}) cannot run tasks")

    def submit_script(self, job: Job) -> None:
        """Run the shell script a ``script=True`` task returns and report its output."""
        raise ExecutorError(
            f"Executor {self.name!r} ({type(self).__name__}) cannot run script tasks"
        )

    def supports_async(self) -> bool:
        """Whether ``async def`` tasks may run here."""
        return False

    def scratch_root(self) -> str:
        raise ExecutorError(f"Executor {self.name!r} ({type(self).__name__}) has no scratch space")


# Names redun's module carried (redun.compat.REEXPORTS), imported on first access.
__getattr__ = module_getattr(__name__)
