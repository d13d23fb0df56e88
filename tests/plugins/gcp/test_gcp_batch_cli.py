"""`redun run` of a workflow on gcp_batch configured in redun.ini, as a user runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.signals import default_signals
from tests.plugins.gcp.batch_emulator import BatchEmulator
from tests.plugins.gcp.conftest import gcp_config

pytestmark = pytest.mark.container

REDUN = str(Path(sys.executable).parent / "redun")

WORKFLOW = """
import os
import time
from redun import task

redun_namespace = "gcpcli"


@task(executor="gcp")
def square(x: int) -> int:
    return x * x


@task(executor="gcp")
def nap(seconds: int) -> int:
    time.sleep(seconds)
    return seconds


@task(executor="gcp")
def explode(message: str) -> None:
    print("log line from inside the batch task", flush=True)
    raise RuntimeError(message)


@task
def main(n: int = 3) -> list:
    return [square(i) for i in range(n)]
"""


@pytest.fixture
def project(tmp_path: Path, batch: BatchEmulator, gcs_bucket: str, container_image: str) -> Path:
    subprocess.run([REDUN, "init"], cwd=tmp_path, check=True, capture_output=True)
    section = gcp_config(batch, gcs_bucket, container_image)
    with open(tmp_path / ".redun/redun.ini", "a") as ini:
        ini.write("\n[executors.gcp]\n")
        ini.writelines(f"{key} = {value}\n" for key, value in section.items())
    (tmp_path / "workflow.py").write_text(WORKFLOW)
    return tmp_path


def redun(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [REDUN, *args], cwd=project, capture_output=True, text=True, env=os.environ.copy()
    )


def test_first_run_then_fully_cached(project: Path, batch: BatchEmulator) -> None:
    proc = redun(project, "run", "workflow.py", "main", "--n", "3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[0, 1, 4]"
    assert "Submit array of 3 gcpcli.square jobs" in proc.stderr
    with batch.lock:
        assert len(batch.jobs) == 1
    proc = redun(project, "run", "workflow.py", "main", "--n", "3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[0, 1, 4]"
    with batch.lock:
        assert len(batch.jobs) == 1, "a cached run submitted a job"


def test_failing_task_shows_its_cloud_logging_lines(project: Path) -> None:
    proc = redun(project, "run", "workflow.py", "explode", "--message", "kaboom")
    assert proc.returncode != 0
    assert "RuntimeError: kaboom" in proc.stderr
    logs = proc.stderr.split("Latest logs:", 1)[1]
    assert "log line from inside the batch task" in logs


@pytest.mark.parametrize(
    ("signum", "exit_code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
    ids=["ctrl-c", "sigterm"],
)
def test_a_signal_deletes_the_job_and_its_container(
    project: Path, batch: BatchEmulator, signum: signal.Signals, exit_code: int
) -> None:
    run = subprocess.Popen(
        [REDUN, "run", "workflow.py", "nap", "--seconds", "120"],
        cwd=project,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )
    try:
        deadline = time.monotonic() + 90
        while not batch.containers():
            assert time.monotonic() < deadline, "the task never started"
            assert run.poll() is None, run.communicate()[1]
            time.sleep(0.2)
        run.send_signal(signum)
        _, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == exit_code, stderr[-2000:]
    assert "Cancelling 1 job(s) still running" in stderr
    assert batch.containers() == []
    deadline = time.monotonic() + 30
    while True:
        with batch.lock:
            left = [job.state for job in batch.jobs.values()]
        if not left:
            break
        assert time.monotonic() < deadline, f"jobs left: {left}"
        time.sleep(0.2)
