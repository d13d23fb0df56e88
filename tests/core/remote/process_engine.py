"""A remote engine made of local processes, to test RemoteExecutor without containers.

Each unit is a detached process group running the command in its own work
directory; its labels, pid and (once finished) exit code live in files under
the engine directory, so a scheduler in another process can find it again,
as it would find a container or a cloud job.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from redun.executors.remote import RemoteExecutor, RemoteSpec, RemoteState, RemoteStatus

CLASS_PATH = "tests.core.remote.process_engine.ProcessEngineExecutor"


class ProcessEngineExecutor(RemoteExecutor):
    DEFAULTS = {**RemoteExecutor.DEFAULTS, "job_monitor_interval": "0.05", "image": "local"}

    def __init__(self, name, scheduler=None, config=None):  # type: ignore[no-untyped-def]
        super().__init__(name, scheduler=scheduler, config=config)
        self.engine_dir = Path(self.scratch_prefix) / "engine"
        self.engine_dir.mkdir(parents=True, exist_ok=True)

    def _file(self, unit_id: str, suffix: str) -> Path:
        return self.engine_dir / f"{unit_id}.{suffix}"

    def submit_command(self, spec: RemoteSpec) -> str:
        unit_id = uuid.uuid4().hex[:12]
        workdir = self.engine_dir / f"{unit_id}.work"
        workdir.mkdir()
        exit_file = self._file(unit_id, "exit")
        wrapper = f'"$@"; echo $? > {exit_file}.tmp && mv {exit_file}.tmp {exit_file}'
        bin_dir = os.path.dirname(sys.executable)
        env = {**os.environ, **spec.env, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
        with open(self._file(unit_id, "log"), "wb") as log:
            proc = subprocess.Popen(
                ["sh", "-c", wrapper, "sh", *spec.command],
                cwd=workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._file(unit_id, "json").write_text(json.dumps({"pid": proc.pid, **spec.labels}))
        return unit_id

    def _pid_alive(self, unit_id: str) -> bool:
        pid = json.loads(self._file(unit_id, "json").read_text())["pid"]
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().split()[2] != "Z"
        except FileNotFoundError:
            return False

    def poll(self, remote_ids: list[str]) -> dict[str, RemoteStatus]:
        statuses = {}
        for unit_id in remote_ids:
            if not self._file(unit_id, "json").exists():
                continue
            exit_file = self._file(unit_id, "exit")
            if exit_file.exists():
                code = exit_file.read_text().strip()
                statuses[unit_id] = (
                    RemoteStatus(RemoteState.SUCCEEDED)
                    if code == "0"
                    else RemoteStatus(RemoteState.FAILED, f"exit code {code}")
                )
            elif self._pid_alive(unit_id):
                statuses[unit_id] = RemoteStatus(RemoteState.RUNNING)
        return statuses

    def cancel(self, remote_ids: list[str]) -> None:
        for unit_id in remote_ids:
            meta = self._file(unit_id, "json")
            if meta.exists():
                try:
                    os.killpg(json.loads(meta.read_text())["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def logs(self, remote_id: str, tail: int = 100) -> list[str]:
        log = self._file(remote_id, "log")
        if not log.exists():
            return []
        return [line + "\n" for line in log.read_text(errors="replace").splitlines()[-tail:]]

    def list_jobs(self) -> dict[str, dict[str, str]]:
        return {
            meta.name.removesuffix(".json"): json.loads(meta.read_text())
            for meta in self.engine_dir.glob("*.json")
        }

    def cleanup(self, remote_id: str) -> None:
        self.cancel([remote_id])
        for suffix in ("json", "exit", "log"):
            self._file(remote_id, suffix).unlink(missing_ok=True)
