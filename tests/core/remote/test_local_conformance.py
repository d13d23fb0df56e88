"""The local executor passes the executor conformance suite (what applies to it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from redun.testing.executor_conformance import ExecutorConformance


class TestLocalThreads(ExecutorConformance):
    # Threads cannot be cancelled, outlive their process, be retried or timed out by
    # the executor, and leave no logs of their own.
    supports_cancel = False
    supports_reattach = False
    supports_arrays = False
    supports_retries = False
    supports_timeout = False
    attaches_logs = False

    @pytest.fixture
    def executor_config(self, tmp_path: Path, shared_dir: Path) -> dict[str, str]:
        return {"type": "local", "mode": "thread"}


class TestLocalProcesses(TestLocalThreads):
    @pytest.fixture
    def executor_config(self, tmp_path: Path, shared_dir: Path) -> dict[str, str]:
        return {"type": "local", "mode": "process", "max_workers": "2", "start_method": "fork"}
