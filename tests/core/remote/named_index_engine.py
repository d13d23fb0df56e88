"""An engine naming its own array index variable and tagging jobs with unit ids, and tasks."""

from __future__ import annotations

from redun.executors.remote import ARRAY_INDEX_ENV, RemoteSpec
from redun.task import task

from tests.core.remote.process_engine import ProcessEngineExecutor

redun_namespace = "remote_engine_tags_test"


class NamedIndexEngine(ProcessEngineExecutor):
    """Tells array workers their index in its own variable, and tags jobs with unit ids."""

    array_index_env = "ENGINE_TASK_INDEX"

    def submit_array_command(self, spec: RemoteSpec, size: int) -> list[str]:
        ids = []
        for index in range(size):
            env = {**spec.env, "ENGINE_TASK_INDEX": str(index)}
            env.pop(ARRAY_INDEX_ENV, None)
            labels = {**spec.labels, **spec.array_labels[index]}
            ids.append(
                self.submit_command(RemoteSpec(**{**vars(spec), "env": env, "labels": labels}))
            )
        return ids

    def job_tags(self, remote_id: str) -> list[tuple[str, str]]:
        return [("engine_unit", remote_id)]


@task
def double(x: int) -> int:
    return 2 * x


@task
def broken() -> None:
    raise ValueError("broken on the engine")
