"""The disk holding the repository fills up mid-run: the run stops at once with one line.

Needs root (it mounts a small tmpfs); elsewhere it is skipped with a loud reason.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.reliability.helpers import Project, read_log

N = 2000

WORKFLOW = """
import time

from redun import task


@task()
def big(i: int, log: str) -> str:
    time.sleep(0.002)
    with open(log, "a") as out:
        out.write(f"{i} {time.time()}\\n")
    return str(i) * 10_000


@task()
def main(n: int, log: str) -> int:
    return count([big(i, log) for i in range(n)])


@task()
def count(values: list) -> int:
    return len(values)
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, mounted for this test only."""
    if os.geteuid() != 0:
        pytest.skip("SKIPPED LOUDLY: the disk-full test mounts a tmpfs and needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"SKIPPED LOUDLY: cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.slow
def test_disk_full_stops_the_run_with_one_line(small_disk: Path, tmp_path: Path) -> None:
    project = Project(tmp_path, WORKFLOW, f"sqlite:///{small_disk / 'redun.db'}")
    log = tmp_path / "ran.log"
    done = project.run("main", "--n", str(N), "--log", str(log), timeout=300)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [errors[0]] and "database or disk is full" in errors[0], done.stderr[-3000:]
    assert "free space" in errors[0]
    for noise in ("Traceback", "INSERT", "<memory at", "sqlalchemy"):
        assert noise not in done.stderr, noise
    ran = len(read_log(log))
    assert ran < N // 2, f"{ran} of {N} jobs still ran after the disk was full"

    connection = sqlite3.connect(small_disk / "redun.db")
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    recorded = connection.execute("SELECT count(*) FROM call_node").fetchone()[0]
    connection.close()

    # With room again, the next run reuses what was recorded and finishes.
    subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
    log.unlink()
    rerun = project.run("main", "--n", str(N), "--log", str(log), timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert rerun.stdout.strip().splitlines()[-1] == str(N)
    assert len(read_log(log)) <= N - (recorded - 2)
