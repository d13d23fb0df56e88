"""A project directory with a workflow, and `redun run` started as a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

from tests.helpers.signals import default_signals

# The console script installed next to this interpreter, as users run it.
REDUN = [str(Path(sys.executable).with_name("redun"))]


class Project:
    """A workflow file and a repository (`.redun/redun.ini`) in a temporary directory."""

    def __init__(self, root: Path, workflow: str, db_uri: str = "", **sections: dict) -> None:
        self.root = root
        self.ns = f"rel_{uuid.uuid4().hex[:10]}"
        self.config_dir = root / ".redun"
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.db_uri = db_uri or f"sqlite:///{root / 'redun.db'}"
        backend = {"db_uri": self.db_uri, "automigrate": "true"}
        backend.update(sections.pop("backend", {}))
        scheduler = {"job_status_interval": "0"}
        scheduler.update(sections.pop("scheduler", {}))
        lines = []
        for name, section in {"backend": backend, "scheduler": scheduler, **sections}.items():
            lines.append(f"[{name}]")
            lines += [f"{key} = {value}" for key, value in section.items()]
        (self.config_dir / "redun.ini").write_text("\n".join(lines) + "\n")
        self.script = root / f"{self.ns}.py"
        self.script.write_text(
            f"redun_namespace = {self.ns!r}\n" + textwrap.dedent(workflow).lstrip()
        )

    def command(self, task: str, *args: str) -> list[str]:
        return [*REDUN, "-c", str(self.config_dir), "run", str(self.script), task, *args]

    def start(self, task: str, *args: str) -> subprocess.Popen:
        """`redun run` in its own session, so signals reach only what it started.

        Its output goes to files (`stdout`, `stderr`): a pipe nobody reads would
        fill up and stall the run.
        """
        with open(self.root / "stdout", "w") as out, open(self.root / "stderr", "w") as err:
            return subprocess.Popen(
                self.command(task, *args),
                cwd=self.root,
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=default_signals,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    @property
    def stdout(self) -> str:
        return (self.root / "stdout").read_text()

    @property
    def stderr(self) -> str:
        return (self.root / "stderr").read_text()

    def run(self, task: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(task, *args),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def read_log(path: Path) -> list[tuple[int, float]]:
    """Lines "i time" written by task bodies as they finish."""
    if not path.exists():
        return []
    entries = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            entries.append((int(parts[0]), float(parts[1])))
    return entries


def wait_for_lines(
    path: Path, count: int, process: subprocess.Popen | None = None, timeout: float = 60
) -> None:
    """Wait until `count` task bodies finished (failing at once if `process` ended)."""
    deadline = time.monotonic() + timeout
    while len(read_log(path)) < count:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the run ended (exit code {process.returncode}) too early")
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {count} task bodies ran in {timeout} s")
        time.sleep(0.02)


def session_pids(session: int) -> list[int]:
    """Processes still alive in the session `session` (the run and all it started)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state, ppid, pgrp, session.
        if fields[0] != "Z" and int(fields[3]) == session:
            alive.append(int(entry.name))
    return alive


def kill_session(session: int) -> None:
    """Clean-up after a test: whatever of this run's session is left gets SIGKILL."""
    for pid in session_pids(session):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
