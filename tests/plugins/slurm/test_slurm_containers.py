"""With `image` set, the job body runs `redun oneshot` in a podman container on the node."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import ModuleType

import pytest
from redun.executors.remote import RemoteJobTimeoutError
from redun.scheduler import Scheduler

from tests.helpers.containers import session_containers
from tests.plugins.slurm.conftest import Cluster, on_slurm, slurm_config

# The first container test of a session builds the shared test image (debootstrap and
# wheels: minutes on a loaded 2-core machine), inside this test's time limit.
pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]


def test_task_runs_in_a_podman_container_inside_the_slurm_job(
    cluster: Cluster,
    container_image: str,
    wf: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDUN_SLURM_PROBE", "host only")
    data = tmp_path / "data"
    data.mkdir()
    (data / "input.txt").write_text("mounted into the container\n")
    config = slurm_config(
        tmp_path,
        image=container_image,
        container_runtime="podman",
        volumes=json.dumps([[str(data), "/data"]]),
        env=json.dumps({"FROM_CONFIG": "yes"}),
    )
    scheduler = Scheduler(config=config)
    names = ["container", "SLURM_JOB_ID", "FROM_CONFIG", "REDUN_SLURM_PROBE"]
    env = scheduler.run(on_slurm(wf.environment)(names))
    assert env["container"] == "podman"  # podman sets it in every container
    assert env["SLURM_JOB_ID"] and env["FROM_CONFIG"] == "yes"
    # The host's own environment stays outside: only what the job is given goes in.
    assert env["REDUN_SLURM_PROBE"] is None
    assert (
        scheduler.run(on_slurm(wf.read_file)("/data/input.txt")) == "mounted into the container\n"
    )
    # An array in containers: every index its own container, none left behind.
    results = scheduler.run([on_slurm(wf.where)(i) for i in range(5)])
    assert sorted(int(result["array_index"]) for result in results) == list(range(5))
    assert session_containers(tmp_path, running_only=False) == []


def test_cancelled_container_job_leaves_no_container(
    cluster: Cluster,
    container_image: str,
    wf: ModuleType,
    tmp_path: Path,
) -> None:
    """scancel ends the job script; its trap stops the container podman would keep running."""
    marker = tmp_path / "shared" / "marker"
    marker.parent.mkdir()
    config = slurm_config(
        tmp_path,
        image=container_image,
        volumes=json.dumps([[str(marker.parent), str(marker.parent)]]),
    )
    scheduler = Scheduler(config=config)
    with pytest.raises(RemoteJobTimeoutError, match="timeout of 10 s"):
        scheduler.run(on_slurm(wf.sleeper, timeout=10)(300, str(marker)))
    assert marker.exists()
    deadline = time.monotonic() + 20
    while session_containers(tmp_path, running_only=False):
        assert time.monotonic() < deadline, "the cancelled job's container is still there"
        time.sleep(0.2)
