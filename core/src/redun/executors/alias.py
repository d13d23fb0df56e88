"""An executor that is another name for a configured executor (shares its pools)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from redun.executors.base import Executor, ExecutorError

if TYPE_CHECKING:
    from redun.scheduler import Job, Scheduler


class AliasExecutor(Executor):
    """``[executors.NAME] type = alias, target = OTHER`` forwards every job to OTHER."""

    def __init__(
        self,
        name: str,
        scheduler: Scheduler | None = None,
        config: Mapping[str, str] | None = None,
        target: str | Executor | None = None,
    ) -> None:
        config = config if config is not None else {}
        super().__init__(name, scheduler=scheduler, config=config)
        target = target if target is not None else config.get("target")
        if not target:
            # redun's wording first; then where to put it.
            raise ExecutorError(
                "Alias executors must provide the `target` config: "
                f"[executors.{name}] type = alias needs `target = EXECUTOR_NAME`"
            )
        self._target = target

    @property
    def target(self) -> Executor:
        if isinstance(self._target, Executor):
            return self._target
        executors = self._scheduler.executors if self._scheduler else {}
        executor = executors.get(self._target)
        if executor is None or executor is self:
            options = [name for name in executors if name != self.name]
            raise ExecutorError(
                f"Could not find executor `{self._target}` from options: "
                f"{', '.join(sorted(options)) or 'none'} (the target of alias executor "
                f"{self.name!r})"
            )
        return executor

    def supports_async(self) -> bool:
        return self.target.supports_async()

    def submit(self, job: Job) -> None:
        self.target.submit(job)

    def submit_script(self, job: Job) -> None:
        self.target.submit_script(job)

    def scratch_root(self) -> str:
        return self.target.scratch_root()
