"""`redun run` of a workflow whose tasks run in containers, configured in redun.ini."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.containers import session_containers
from tests.helpers.signals import default_signals

pytestmark = pytest.mark.container

REDUN = str(Path(sys.executable).parent / "redun")

WORKFLOW = """
import time
from redun import script, task

redun_namespace = "clitest"
SHARED = {shared!r}


@task(executor="box")
def square(x: int) -> int:
    with open(SHARED + "/calls", "a") as calls:
        calls.write("square\\n")
    return x * x


@task(executor="box")
def nap(seconds: int) -> int:
    time.sleep(seconds)
    return seconds


@task(executor="box")
def explode(message: str) -> None:
    print("log line from inside the container", flush=True)
    raise RuntimeError(message)


@task
def shout(text: str):
    return script(f"echo {{text}} | tr a-z A-Z", executor="box")


@task
def main(n: int = 3) -> list:
    return [square(i) for i in range(n)]
"""


@pytest.fixture
def project(tmp_path: Path, containers: str) -> Path:
    shared = tmp_path / "shared"
    shared.mkdir()
    subprocess.run([REDUN, "init"], cwd=tmp_path, check=True, capture_output=True)
    with open(tmp_path / ".redun/redun.ini", "a") as ini:
        ini.write(
            f"\n[executors.box]\ntype = docker\nimage = {containers}\nscratch = scratch\n"
            f"volumes = {json.dumps([[str(shared), str(shared)]])}\n"
            "job_monitor_interval = 0.1\nmin_array_size = 3\njob_stale_time = 1.0\n"
        )
    (tmp_path / "workflow.py").write_text(WORKFLOW.format(shared=str(shared)))
    return tmp_path


def redun(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [REDUN, *args], cwd=project, capture_output=True, text=True, env=os.environ.copy()
    )


def containers_of(project: Path) -> list[str]:
    """Containers (running or not) of the project's executor, found by its scratch."""
    return session_containers(project / ".redun/scratch", running_only=False)


def test_run_in_containers_then_from_cache(project: Path) -> None:
    proc = redun(project, "run", "workflow.py", "main", "--n", "4")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[0, 1, 4, 9]"
    assert "Submit array of 4 clitest.square jobs" in proc.stderr
    assert len(list((project / ".redun/scratch/array_jobs").iterdir())) == 1

    proc = redun(project, "run", "workflow.py", "main", "--n", "4")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[0, 1, 4, 9]"
    assert len((project / "shared/calls").read_text().split()) == 4
    assert containers_of(project) == []


def test_error_carries_the_container_logs(project: Path) -> None:
    proc = redun(project, "run", "workflow.py", "explode", "--message", "kaboom")
    assert proc.returncode != 0
    assert "RuntimeError: kaboom" in proc.stderr
    logs = proc.stderr.split("Latest logs:", 1)[1]
    assert "log line from inside the container" in logs


def test_script_task_in_a_container(project: Path) -> None:
    proc = redun(project, "run", "workflow.py", "shout", "--text", "quiet")
    assert proc.returncode == 0, proc.stderr
    assert "QUIET" in proc.stdout


@pytest.mark.parametrize(
    "signum, exit_code",
    [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
    ids=["ctrl-c", "sigterm"],
)
def test_a_signal_cancels_the_running_container(
    project: Path, signum: signal.Signals, exit_code: int
) -> None:
    """Ctrl-C, or the SIGTERM of kill, systemd and Kubernetes: no container is left behind."""
    run = subprocess.Popen(
        [REDUN, "run", "workflow.py", "nap", "--seconds", "120"],
        cwd=project,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )
    try:
        deadline = time.monotonic() + 60
        while not containers_of(project):
            assert time.monotonic() < deadline, "the container never started"
            assert run.poll() is None, run.communicate()[1]
            time.sleep(0.1)
        run.send_signal(signum)
        _, stderr = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == exit_code, stderr[-2000:]
    assert "Cancelling 1 job(s) still running" in stderr
    assert containers_of(project) == []
