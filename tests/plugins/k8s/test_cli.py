"""The k8s executor from the command line: `redun run` with redun.ini, and `redun k8s`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.plugins.k8s.conftest import K8sEmulator
from tests.plugins.k8s.workflow import MODULE, SOURCE

pytestmark = pytest.mark.container

REDUN = str(Path(sys.executable).parent / "redun")


@pytest.fixture
def project(tmp_path: Path, k8s: K8sEmulator) -> Path:
    """A workflow directory whose redun.ini has a k8s executor on the emulator."""
    (tmp_path / f"{MODULE}.py").write_text(SOURCE)
    subprocess.run([REDUN, "init"], cwd=tmp_path, check=True, capture_output=True)
    shared = tmp_path / "shared"
    shared.mkdir()
    mounts = {
        "volumes": json.dumps([{"name": "shared", "hostPath": {"path": str(shared)}}]),
        "volume_mounts": json.dumps([{"name": "shared", "mountPath": str(shared)}]),
    }
    with open(tmp_path / ".redun/redun.ini", "a") as ini:
        ini.write(
            f"\n[executors.k8s]\ntype = k8s\nimage = {k8s.image}\nscratch = scratch\n"
            "vcpus = 0.25\nmemory = 0.5\njob_monitor_interval = 0.2\njob_stale_time = 0.3\n"
            + "".join(f"{key} = {value}\n" for key, value in mounts.items())
        )
    return tmp_path


def redun(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [REDUN, *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=180,
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_first_run_and_fully_cached_rerun(project: Path, k8s: K8sEmulator) -> None:
    first = redun(project, "run", f"{MODULE}.py", "fanout", "--n", "3")
    assert first.stdout.strip().splitlines()[-1] == "[0, 1, 4]"
    assert len(k8s.history()) == 3
    second = redun(project, "run", f"{MODULE}.py", "fanout", "--n", "3")
    assert second.stdout.strip().splitlines()[-1] == "[0, 1, 4]"
    assert len(k8s.history()) == 3, "a cached rerun must submit nothing"
    assert "Cached" in second.stderr or "cached" in second.stderr.lower()
    k8s.wait_until_empty()


@pytest.mark.slow
def test_list_logs_and_kill_jobs(project: Path, k8s: K8sEmulator) -> None:
    marker = project / "shared" / "marker"
    run = subprocess.Popen(
        [REDUN, "run", f"{MODULE}.py", "napping", "--seconds", "120", "--marker", str(marker)],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            assert run.poll() is None, run.stdout.read() if run.stdout else ""
            assert time.monotonic() < deadline, "the job did not start"
            time.sleep(0.1)
        (job,) = k8s.jobs()
        execution = job["metadata"]["labels"]["redun.insitro.com/execution_id"]
        listing = redun(project, "k8s", "list-jobs", "--execution", execution).stdout
        (row,) = [line for line in listing.splitlines() if "k8stest.nap" in line]
        job_name, state = row.split()[:2]
        assert state == "Running" and job_name == job["metadata"]["name"]
        other = redun(project, "k8s", "list-jobs", "--execution", "0" * 36).stdout
        assert other.startswith("No jobs of executor 'k8s'")
        assert "napping now" in redun(project, "k8s", "logs", job_name).stdout
        assert redun(project, "k8s", "kill-jobs", "--all").stdout.strip() == f"Deleted {job_name}"
        output, _ = run.communicate(timeout=90)
        assert run.returncode != 0
        assert "disappeared" in output
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    k8s.wait_until_empty()
    assert "No jobs of executor 'k8s'" in redun(project, "k8s", "list-jobs").stdout


def test_k8s_commands_say_what_is_wrong(project: Path) -> None:
    proc = redun(project, "k8s", "kill-jobs", check=False)
    assert proc.returncode != 0 and "Name the jobs to delete" in proc.stderr
    proc = redun(project, "k8s", "list-jobs", "--executor", "nope", check=False)
    assert proc.returncode != 0 and "No [executors.nope] with type = k8s" in proc.stderr
