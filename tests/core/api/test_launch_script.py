"""redun.executors.launch.launch_script: one command on an executor, no workflow around it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redun.config import Config
from redun.executors.launch import launch_script
from redun.scheduler import SchedulerError

from tests.core.remote.process_engine import CLASS_PATH

ROOT = Path(__file__).resolve().parents[3]


def wait_for(path: Path, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def test_local_executor_runs_the_command_to_the_end(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    config = Config({"executors": {"default": {"type": "local"}}})
    result = launch_script(config, ["sh", "-c", f"echo launched > {out}"], executor_name="default")
    assert result is None
    assert out.read_text() == "launched\n"  # finished before launch_script returned
    assert not list(tmp_path.glob("*.db")) and not (tmp_path / ".redun").exists()


def test_an_executor_object_and_a_string_command(tmp_path: Path) -> None:
    from redun.executors.local import LocalExecutor

    out = tmp_path / "out.txt"
    executor = LocalExecutor("mine", mode="process")
    launch_script(Config(), f"printf '%s' \"$((6 * 7))\" > {out}", executor=executor)
    assert out.read_text() == "42"


def test_remote_executor_starts_the_command_and_returns_its_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    out = tmp_path / "remote.txt"
    config = Config(
        {"executors": {"engine": {"class": CLASS_PATH, "scratch": str(tmp_path / "scratch")}}}
    )
    remote_id = launch_script(
        config,
        ["sh", "-c", f"sleep 0.2; echo $GREETING > {out}"],
        executor_name="engine",
        task_options={"env": {"GREETING": "hello from afar"}},
    )
    assert isinstance(remote_id, str) and remote_id
    assert not out.exists()  # fire and forget: still running
    assert wait_for(out) == "hello from afar\n"
    assert (tmp_path / "scratch" / "engine" / f"{remote_id}.json").exists()


def test_bad_calls_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match="needs an executor or an executor_name"):
        launch_script(Config(), "true")
    config = Config({"executors": {"default": {"type": "local"}}})
    with pytest.raises(SchedulerError, match=r'Unknown executor "batch" \(configured: default\)'):
        launch_script(config, "true", executor_name="batch")


def test_redun_launch_detached_goes_through_launch_script(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".redun").mkdir(parents=True)
    scratch = tmp_path / "scratch"
    (repo / ".redun" / "redun.ini").write_text(
        f"[executors.engine]\nclass = {CLASS_PATH}\nscratch = {scratch}\n"
    )
    out = tmp_path / "cli.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "redun"), "launch", "--executor", "engine"]
        + ["sh", "-c", f"echo from the cli > {out}"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Launched on engine: ")
    remote_id = proc.stdout.split(": ", 1)[1].strip()
    assert wait_for(out) == "from the cli\n"
    assert (scratch / "engine" / f"{remote_id}.json").exists()
