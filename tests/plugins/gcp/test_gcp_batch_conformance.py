"""gcp_batch passes the executor conformance suite: the real client, the emulated control
plane, real containers, and the GCS emulator holding scratch and the code package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from redun.file import File, glob_file
from redun.scheduler import Scheduler
from redun.testing.executor_conformance import EXECUTOR, ExecutorConformance

from tests.plugins.gcp.batch_emulator import BatchEmulator
from tests.plugins.gcp.conftest import gcp_config

pytestmark = pytest.mark.container


class TestGCPBatchExecutor(ExecutorConformance):
    @pytest.fixture(autouse=True)
    def emulator(self, batch: BatchEmulator) -> BatchEmulator:
        self.batch = batch
        return batch

    @pytest.fixture
    def executor_config(
        self, batch: BatchEmulator, gcs_bucket: str, container_image: str
    ) -> dict[str, str]:
        return gcp_config(batch, gcs_bucket, container_image, retries="0")

    def running_jobs(self, scheduler: Scheduler) -> list[str]:
        """Jobs the engine still runs, and any container the emulator still has."""
        return list(scheduler.executors[EXECUTOR].list_jobs()) + self.batch.containers()

    def test_array(self, executor_config: dict[str, str], wf: Any, tmp_path: Path) -> None:
        """The suite's test_array, reading the array files from gs:// scratch."""
        section = {**executor_config, "min_array_size": "3", "job_stale_time": "1.0"}
        config = {
            "backend": {"db_uri": f"sqlite:///{tmp_path / 'redun.db'}"},
            f"executors.{EXECUTOR}": section,
        }
        scheduler = Scheduler(config=config)
        assert scheduler.run([self.on(wf.add)(i, b=i) for i in range(5)]) == [0, 2, 4, 6, 8]
        scratch = scheduler.executors[EXECUTOR].scratch_root()
        hash_files = glob_file(f"{scratch}/array_jobs/*/eval_hashes")
        sizes = [len(File(path).read().split()) for path in hash_files]
        assert sizes and max(sizes) >= 3 and sum(sizes) <= 5
