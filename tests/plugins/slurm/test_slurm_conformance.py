"""The slurm executor passes the executor conformance suite on a real SLURM cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from redun.testing.executor_conformance import ExecutorConformance

from tests.plugins.slurm.conftest import Cluster


class TestSlurmExecutor(ExecutorConformance):
    @pytest.fixture
    def executor_config(self, tmp_path: Path, shared_dir: Path, cluster: Cluster) -> dict[str, str]:
        return {
            "type": "slurm",
            "scratch": str(tmp_path / "scratch"),
            "job_monitor_interval": "0.2",
        }
