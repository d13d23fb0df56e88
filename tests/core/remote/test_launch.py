"""`redun launch` with the local executor: --wait runs the command, detaching is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REDUN = str(Path(sys.executable).parent / "redun")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run([REDUN, "init"], cwd=tmp_path, check=True, capture_output=True)
    return tmp_path


def launch(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "REDUN_DISABLE_PLUGIN_AUTOLOAD"}
    return subprocess.run(
        [REDUN, "launch", *args], cwd=repo, capture_output=True, text=True, env=env
    )


def test_wait_runs_the_command_and_prints_its_output(repo: Path) -> None:
    proc = launch(repo, "--executor", "default", "--wait", "echo", "hello  world")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello  world\n"


def test_detached_launch_needs_a_remote_executor(repo: Path) -> None:
    proc = launch(repo, "--executor", "default", "echo", "x")
    assert proc.returncode == 1
    assert "use --wait or a remote executor" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unknown_executor_and_bad_option_are_one_line_errors(repo: Path) -> None:
    proc = launch(repo, "--executor", "nope", "echo")
    assert proc.returncode == 1
    assert "Unknown executor 'nope' (configured: default, process)" in proc.stderr
    proc = launch(repo, "--executor", "default", "-o", "novalue", "echo")
    assert proc.returncode == 2
    assert "expected KEY=VALUE" in proc.stderr
