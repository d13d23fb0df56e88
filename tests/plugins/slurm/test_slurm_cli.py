"""`redun run` with a slurm executor from redun.ini, and `redun slurm list-jobs|logs|cancel`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from redun.cli.main import cli

from tests.plugins.slurm.conftest import Cluster

REDUN = str(Path(sys.executable).parent / "redun")


@pytest.fixture
def repo(cluster: Cluster, workdir: Path, tmp_path: Path) -> Path:
    """A redun repository (.redun/redun.ini) whose `slurm` executor is the test cluster."""
    config_dir = workdir / ".redun"
    config_dir.mkdir()
    (config_dir / "redun.ini").write_text(
        "[backend]\n"
        "db_uri = sqlite:///redun.db\n"
        "[executors.slurm]\n"
        "type = slurm\n"
        "scratch = ../scratch\n"
        "job_monitor_interval = 0.2\n"
    )
    return config_dir


def redun_run(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [REDUN, "run", "slurm_test_workflow.py", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )


def slurm_cmd(repo: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-c", str(repo), "slurm", *args], catch_exceptions=False)


def test_list_jobs_and_logs_of_an_execution(repo: Path, workdir: Path) -> None:
    assert redun_run(workdir, "fanout", "--n", "5").returncode == 0  # five doubles: an array
    failed = redun_run(workdir, "loud_failure", "--message", "cli failure")
    assert failed.returncode != 0
    assert "stdout line before the failure" in failed.stdout + failed.stderr  # Latest logs

    listed = slurm_cmd(repo, "list-jobs", "-x", "~2")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == ["SLURM_ID", "STATE", "TASK", "JOB", "EXECUTION", "EXECUTOR"]
    tasks = sorted((line.split()[2], line.split()[1]) for line in lines[1:])
    assert tasks == [("slurm_test.double", "COMPLETED")] * 5 + [("slurm_test.fanout", "COMPLETED")]
    # Each index of the array names its own redun job.
    assert len({line.split()[3] for line in lines[1:] if "double" in line}) == 5
    array_id = next(line.split()[0] for line in lines[1:] if "_" in line.split()[0]).split("_")[0]
    array_logs = slurm_cmd(repo, "logs", array_id)
    assert array_logs.output.count(f"==> SLURM job {array_id}_") == 5
    everything = slurm_cmd(repo, "list-jobs", "--states", "failed")
    assert [line.split()[2] for line in everything.output.splitlines()[1:]] == [
        "slurm_test.loud_failure"
    ]

    logs = slurm_cmd(repo, "logs", "-x", "-")
    assert "==> SLURM job" in logs.output and "(slurm_test.loud_failure, job" in logs.output
    assert "stderr line before the failure" in logs.output
    slurm_id = logs.output.split("==> SLURM job ", 1)[1].split()[0]
    by_id = slurm_cmd(repo, "logs", slurm_id, "--tail", "1")
    assert by_id.output.splitlines()[-1] == "ValueError: cli failure"

    job_id = lines[1].split()[3]
    by_job = slurm_cmd(repo, "logs", "-j", job_id)
    assert by_job.exit_code == 0 and f"job {job_id}" in by_job.output


def test_list_jobs_falls_back_to_the_database_when_slurm_forgot(
    repo: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs past SLURM's MinJobAge are found through their slurm_job tags."""
    from redun_slurm.slurm import SlurmCommands

    assert redun_run(workdir, "double", "--x", "4").returncode == 0
    monkeypatch.setattr(SlurmCommands, "squeue", lambda self, job_ids=None, mine=True: [])
    listed = slurm_cmd(repo, "list-jobs", "-x", "-")
    rows = [line.split() for line in listed.output.splitlines()[1:]]
    assert [(row[1], row[2]) for row in rows] == [("COMPLETED", "slurm_test.double")]


def test_cancel_an_execution(repo: Path, workdir: Path, cluster: Cluster, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    run = subprocess.Popen(
        [REDUN, "run", "slurm_test_workflow.py", "sleeper", "--seconds", "300"]
        + ["--marker", str(marker)],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert run.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        cancelled = slurm_cmd(repo, "cancel", "-x", "-")
        assert cancelled.exit_code == 0, cancelled.output
        assert cancelled.output.startswith("Cancelled 1 SLURM job(s):")
        output, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode != 0
    assert "was cancelled (scancel, or an administrator)" in output
    assert (
        slurm_cmd(repo, "cancel", "--all").output == "No queued or running SLURM jobs to cancel.\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["logs"], "Say whose logs: SLURM job ids, --job JOB_ID or --execution EXEC_ID"),
        (["cancel"], "Say which jobs: --execution EXEC_ID, or --all"),
        (["list-jobs", "-x", "nosuchexecution"], "No execution matches 'nosuchexecution'"),
        (["list-jobs", "--executor", "other"], "No [executors.other] with type = slurm in"),
        (["logs", "999999"], "No output file of SLURM job 999999"),
    ],
)
def test_bad_arguments_are_one_line_errors(repo: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["-c", str(repo), "slurm", *args])
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_repository_without_slurm_executors_says_so(tmp_path: Path) -> None:
    config_dir = tmp_path / ".redun"
    config_dir.mkdir()
    (config_dir / "redun.ini").write_text("[backend]\ndb_uri = sqlite:///redun.db\n")
    result = CliRunner().invoke(cli, ["-c", str(config_dir), "slurm", "list-jobs"])
    assert result.exit_code != 0
    assert "No executor with type = slurm in" in result.output
