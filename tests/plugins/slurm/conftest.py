"""Tests of redun-slurm, on a real one-node SLURM cluster started for the session.

`slurm_cluster` runs ``.ci/setup-slurm.sh start DIR``: munged, slurmctld and
slurmd with their config, state and munge socket under DIR, on loopback and
free ports, and stops exactly those daemons at the end. ``SLURM_CONF`` points
every SLURM command of the session (and of the jobs) at it. Where the cluster
cannot start the tests skip with one loud line; with ``REDUN_REQUIRE_SLURM=1``
(set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("redun_slurm", reason="redun-slurm is not installed")

from redun_slurm.slurm import SlurmCommands, SlurmJob

from tests.plugins.slurm.workflow import MODULE, SOURCE

ROOT = Path(__file__).resolve().parents[3]
SETUP = ROOT / ".ci" / "setup-slurm.sh"


def slurm_unavailable(reason: str) -> None:
    message = f"SLURM TESTS NOT RUN: {reason}"
    if os.environ.get("REDUN_REQUIRE_SLURM") == "1":
        pytest.fail(message, pytrace=False)
    sys.stderr.write(f"\n{'!' * 8} {message} {'!' * 8}\n")
    pytest.skip(message)


# The node claims more CPUs than this 2-core machine has: the tests' jobs are
# short Python processes, and waves of two would make arrays slow to test.
NODE_CPUS = 8


@dataclass
class Cluster:
    """The session's cluster: its directory and a way to ask it about jobs."""

    directory: Path
    conf: str
    cpus: int = NODE_CPUS

    def jobs(self) -> list[SlurmJob]:
        return SlurmCommands("test").squeue(mine=False)

    def active(self) -> list[SlurmJob]:
        return [job for job in self.jobs() if job.active]


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[Cluster]:
    if os.geteuid() != 0:
        slurm_unavailable("starting munged/slurmctld/slurmd here needs root")
    # Outside pytest's 0700 temp dir: munged runs as user munge and must reach its files.
    directory = Path(tempfile.mkdtemp(prefix="redun-slurm-cluster-"))
    directory.chmod(0o755)
    for _ in range(2):  # a free port may be taken by someone else before slurmctld binds it
        proc = subprocess.run(
            ["bash", str(SETUP), "start", str(directory)],
            capture_output=True,
            text=True,
            env={**os.environ, "REDUN_SLURM_CPUS": str(NODE_CPUS)},
        )
        if proc.returncode == 0:
            break
    try:
        if proc.returncode != 0:
            slurm_unavailable(f"cluster did not start: {proc.stderr.strip()[-800:]}")
        conf = proc.stdout.strip().splitlines()[-1].removeprefix("export SLURM_CONF=")
        saved = os.environ.get("SLURM_CONF")
        os.environ["SLURM_CONF"] = conf
        try:
            yield Cluster(directory, conf)
        finally:
            if saved is None:
                os.environ.pop("SLURM_CONF", None)
            else:
                os.environ["SLURM_CONF"] = saved
    finally:
        subprocess.run(["bash", str(SETUP), "stop", str(directory)], capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def cluster(slurm_cluster: Cluster) -> Iterator[Cluster]:
    """The cluster, and a check that the test left no job queued or running on it."""
    yield slurm_cluster
    deadline = time.monotonic() + 10
    while (left := slurm_cluster.active()) and time.monotonic() < deadline:
        time.sleep(0.2)
    if left:
        SlurmCommands("test").scancel([job.id for job in left])
        pytest.fail(f"SLURM jobs left queued or running: {[(j.id, j.state) for j in left]}")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current directory for the test, holding the workflow (shipped as code)."""
    workdir = tmp_path / "workflow"
    workdir.mkdir()
    (workdir / f"{MODULE}.py").write_text(SOURCE)
    monkeypatch.chdir(workdir)
    monkeypatch.syspath_prepend(str(workdir))
    return workdir


@pytest.fixture
def wf(workdir: Path) -> ModuleType:
    """The workflow module, imported once per process (its tasks register once)."""
    return sys.modules.get(MODULE) or importlib.import_module(MODULE)


def slurm_config(tmp_path: Path, **keys: Any) -> dict[str, Any]:
    """A scheduler config with one ``slurm`` executor (named slurm) and a SQLite file."""
    section = {
        "type": "slurm",
        "scratch": str(tmp_path / "scratch"),
        "job_monitor_interval": "0.2",
        **{key: str(value) for key, value in keys.items()},
    }
    return {
        "backend": {"db_uri": f"sqlite:///{tmp_path / 'redun.db'}"},
        "executors.slurm": section,
    }


def on_slurm(task: Any, **options: Any) -> Any:
    return task.options(executor="slurm", **options)
