"""The k8s executor passes the executor conformance suite on the emulated cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redun.scheduler import Scheduler
from redun.testing.executor_conformance import EXECUTOR, ExecutorConformance

from tests.plugins.k8s.conftest import K8sEmulator

pytestmark = pytest.mark.container


def shared_volume(shared_dir: Path) -> dict[str, str]:
    """Config keys that mount `shared_dir` into every pod at the same path."""
    return {
        "volumes": json.dumps([{"name": "shared", "host_path": {"path": str(shared_dir)}}]),
        "volume_mounts": json.dumps([{"name": "shared", "mount_path": str(shared_dir)}]),
    }


def fast_config(k8s: K8sEmulator, scratch: Path) -> dict[str, str]:
    """A k8s section for tests: small pods, short polling and batching intervals."""
    return {
        "type": "k8s",
        "image": k8s.image,
        "scratch": str(scratch),
        "vcpus": "0.25",
        "memory": "0.5",
        "job_monitor_interval": "0.2",
        "job_stale_time": "0.3",
    }


class TestK8SExecutor(ExecutorConformance):
    job_timeout = 90.0

    @pytest.fixture
    def executor_config(self, tmp_path: Path, shared_dir: Path, k8s: K8sEmulator) -> dict[str, str]:
        self.k8s = k8s
        return {**fast_config(k8s, tmp_path / "scratch"), **shared_volume(shared_dir)}

    def running_jobs(self, scheduler: Scheduler) -> list[str]:
        """Jobs the executor still sees, and any pod or container the cluster still runs."""
        listed = list(scheduler.executors[EXECUTOR].list_jobs())
        self.k8s.wait_until_empty()
        return listed
