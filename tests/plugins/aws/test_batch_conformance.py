"""The core's executor conformance suite on aws_batch (moto's Batch API, real containers)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from redun.scheduler import Scheduler
from redun.testing.executor_conformance import EXECUTOR, ExecutorConformance

from tests.helpers.containers import session_containers
from tests.plugins.aws.batch_env import BatchSetup

pytestmark = pytest.mark.container


class TestBatchConformance(ExecutorConformance):
    job_timeout = 90.0

    @pytest.fixture
    def executor_config(self, batch_setup: BatchSetup, shared_dir: Path) -> dict[str, str]:
        # The suite's jobs write to shared_dir: mount it into every Batch container.
        mount = {
            "containerProperties": {
                "volumes": [{"name": "shared", "host": {"sourcePath": str(shared_dir)}}],
                "mountPoints": [
                    {"sourceVolume": "shared", "containerPath": str(shared_dir), "readOnly": False}
                ],
            }
        }
        return batch_setup.executor_config(
            job_def_extra=json.dumps(mount), min_array_size="0", job_stale_time="0.2"
        )

    def running_jobs(self, scheduler: Scheduler) -> list[str]:
        """In-flight Batch jobs and their containers; terminate_job takes effect in ~1 s."""
        executor = scheduler.executors[EXECUTOR]
        deadline = time.monotonic() + 20
        while True:
            alive = list(executor.list_jobs()) + self.batch_containers(executor)
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.3)

    @staticmethod
    def batch_containers(executor: Any) -> list[str]:
        import subprocess

        names = subprocess.run(
            ["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True
        ).stdout.split()
        return [name for name in names if name.startswith(f"{executor.job_name_prefix}-")]

    def test_array(self, executor_config: dict[str, str], wf: Any, tmp_path: Path) -> None:
        """Five jobs of one task: one array job on Batch (children counted in S3 scratch)."""
        section = {**executor_config, "min_array_size": "3", "job_stale_time": "1.0"}
        config = {
            "backend": {"db_uri": f"sqlite:///{tmp_path / 'redun.db'}"},
            f"executors.{EXECUTOR}": section,
        }
        scheduler = Scheduler(config=config)
        assert scheduler.run([self.on(wf.add)(i, b=i) for i in range(5)]) == [0, 2, 4, 6, 8]
        executor = scheduler.executors[EXECUTOR]
        from redun.file import glob_file

        hashes = glob_file(f"{executor.scratch_root()}/array_jobs/*/eval_hashes")
        sizes = [len(Path_text(path).split()) for path in hashes]
        assert sizes and max(sizes) >= 3 and sum(sizes) <= 5


def Path_text(path: str) -> str:
    from redun.file import File

    return File(path).read()


def test_no_container_of_the_session_is_left(moto_docker: str, tmp_path: Path) -> None:
    assert session_containers(tmp_path) == []
