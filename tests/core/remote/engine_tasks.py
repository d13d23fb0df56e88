"""An engine that retries and times out jobs itself, and tasks to run on it."""

from __future__ import annotations

import time
from typing import Any

from redun.executors.remote import RemoteSpec, RemoteState, RemoteStatus
from redun.task import task

from tests.core.remote.process_engine import ProcessEngineExecutor

redun_namespace = "remote_engine_test"

# The wrapper's exit code when the engine's deadline (coreutils `timeout`) ended the command.
DEADLINE_EXIT = "124"


class EngineExecutor(ProcessEngineExecutor):
    """Retries a failing command `spec.retries` times and enforces `spec.timeout` itself."""

    engine_retries = True
    timeout_grace = 30.0

    def submit_command(self, spec: RemoteSpec) -> str:
        limit = ["timeout", f"{spec.timeout:g}"] if spec.timeout else []
        loop = (
            f'for i in $(seq {spec.retries + 1}); do "$@" && exit 0; c=$?; '
            f"[ $c = {DEADLINE_EXIT} ] && exit $c; done; exit $c"
        )
        spec.command = ["sh", "-c", loop, "sh", *limit, *spec.command]
        return super().submit_command(spec)

    def poll(self, remote_ids: list[str]) -> dict[str, RemoteStatus]:
        statuses = super().poll(remote_ids)
        for unit_id, status in statuses.items():
            if status.state == RemoteState.FAILED and status.reason.endswith(DEADLINE_EXIT):
                statuses[unit_id] = RemoteStatus(RemoteState.FAILED, "deadline", timed_out=True)
        return statuses


@task
def engine_flaky(path: str) -> str:
    with open(path, "a") as out:
        out.write("attempt\n")
    with open(path) as infile:
        count = len(infile.read().split())
    if count < 3:
        raise RuntimeError(f"attempt {count} fails")
    return "third time"


@task
def engine_sleeper(seconds: float) -> Any:
    time.sleep(seconds)
    return "woke"
