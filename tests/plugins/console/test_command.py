"""The real `redun console` command: in a terminal (tmux), and its errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plugins.console.builders import Repo

REDUN = str(Path(sys.executable).parent / "redun")


@pytest.fixture
def config_dir(repo: Repo, tmp_path: Path) -> Path:
    config = tmp_path / ".redun"
    config.mkdir()
    (config / "redun.ini").write_text(f"[backend]\ndb_uri = {repo.db_uri}\n")
    return config


def test_unknown_route_is_a_one_line_error(config_dir: Path) -> None:
    result = subprocess.run(
        [REDUN, "-c", str(config_dir), "console", "jobs/zzzz"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: no job with id zzzz"


class Tmux:
    """A private tmux server running one command in a 160x45 window."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        # COLUMNS/LINES (set under pytest) would override the window's real size.
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30, env=env
        ).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "console")

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared; the screen shows:\n{self.screen()}")

    def wait_gone(self, text: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while text in self.screen():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} stays on screen:\n{self.screen()}")
            time.sleep(0.05)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "console", *keys)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.skip("TMUX IS NOT INSTALLED: the real `redun console` command was NOT tested")
    server = Tmux(f"redun-console-test-{os.getpid()}")
    yield server
    server.run("kill-server")


def test_redun_console_in_a_terminal(repo: Repo, config_dir: Path, tmux: Tmux) -> None:
    failed = repo.executions["failed"]
    command = f"{REDUN} -c {config_dir} console executions/{failed[:8]}; echo EXITED-$?; sleep 30"
    tmux.run("new-session", "-d", "-s", "console", "-x", "160", "-y", "45", command)

    screen = tmux.wait_for(f"Execution {failed}  FAILED")
    assert f"executions/{failed}" in screen  # the header shows the route to reopen it
    assert "console_test.failing  (2 jobs)" in screen
    assert "console_test.fail_on" in screen

    tmux.keys("End", "Enter")
    screen = tmux.wait_for("Why: Never run before: no earlier call of task 'console_test.fail_on'.")
    assert "ValueError: cannot handle 2" in screen

    tmux.keys("?")
    screen = tmux.wait_for("escape or ? closes this help")
    assert "Parent job" in screen
    # One key at a time: a terminal reads ESC followed at once by a key as alt+key.
    tmux.keys("Escape")
    tmux.wait_gone("escape or ? closes this help")
    time.sleep(0.2)
    tmux.keys("Escape")
    tmux.wait_for("Status table")
    time.sleep(0.2)
    tmux.keys("g")
    tmux.wait_for("route or id")
    tmux.keys("-", "Enter")
    tmux.wait_for(f"Execution {repo.executions['running']}  RUNNING")

    tmux.keys("q")
    tmux.wait_for("EXITED-0")
