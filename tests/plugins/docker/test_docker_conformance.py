"""The docker executor passes the executor conformance suite, with real containers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redun.scheduler import Scheduler
from redun.testing.executor_conformance import EXECUTOR, ExecutorConformance

from tests.helpers.containers import session_containers

pytestmark = pytest.mark.container


class TestDockerExecutor(ExecutorConformance):
    @pytest.fixture
    def executor_config(self, tmp_path: Path, shared_dir: Path, containers: str) -> dict[str, str]:
        return {
            "type": "docker",
            "image": containers,
            "scratch": str(tmp_path / "scratch"),
            "volumes": json.dumps([[str(shared_dir), str(shared_dir)]]),
            "job_monitor_interval": "0.1",
        }

    def running_jobs(self, scheduler: Scheduler) -> list[str]:
        """Containers of this executor's scratch the engine still has, running or not."""
        scratch = scheduler.executors[EXECUTOR].scratch_root()
        return session_containers(Path(scratch), running_only=False)
