"""The ``docker`` executor: each job is a ``docker run`` of ``redun oneshot``.

Only the docker CLI is used (``docker run/inspect/logs/ps/rm``), so podman
with a ``docker`` shim works as well. Scratch must be a local directory: it is
mounted into every container at the same path, so the worker reads its input
and writes its output where the scheduler looks.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from redun.executors import scratch
from redun.executors.base import ExecutorError
from redun.executors.remote import (
    LABEL_EXECUTOR,
    LOG_TAIL_LINES,
    RemoteExecutor,
    RemoteSpec,
    RemoteState,
    RemoteStatus,
)
from redun.utils import str2bool

if TYPE_CHECKING:
    from redun.scheduler import Scheduler

# Container states (docker and podman) that mean "not finished yet".
PENDING_STATES = {"created", "configured", "initialized"}
RUNNING_STATES = {"running", "paused", "restarting", "removing", "stopping"}
INTERACTIVE_START_TIMEOUT = 30.0


class DockerError(ExecutorError):
    """The docker CLI failed; the message carries its stderr."""


class DockerExecutor(RemoteExecutor):
    """Runs jobs in local containers through the docker (or podman) CLI."""

    DEFAULTS: Mapping[str, str] = {
        **RemoteExecutor.DEFAULTS,
        "job_monitor_interval": "0.2",
        "job_stale_time": "0.5",
        "interactive": "false",
        "shared_memory": "",
        "volumes": "[]",
        "network": "host",
        "docker": "docker",
    }

    def __init__(
        self,
        name: str,
        scheduler: Scheduler | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(name, scheduler=scheduler, config=config)
        if scratch.is_url(self.scratch_prefix):
            raise ExecutorError(
                f"[{self.section}] scratch = {self.scratch_prefix} must be a local directory "
                "(it is mounted into the containers)"
            )
        self.docker = self.settings["docker"]
        self.network = self.settings["network"]
        self.volumes = self._volumes()
        # `docker run -it` clients of interactive jobs, reaped when their job is done.
        self._clients: dict[str, subprocess.Popen] = {}

    def _volumes(self) -> list[tuple[str, str]]:
        pairs = self._parse_json(self.settings["volumes"], "volumes", list)
        volumes = []
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ExecutorError(
                    f"[{self.section}] volumes must be a JSON list of [host, container] pairs"
                )
            host, container = pair
            volumes.append((os.path.join(self.config_dir or os.getcwd(), host), container))
        return volumes

    # -- the docker CLI ------------------------------------------------------------------

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        try:
            proc = subprocess.run(
                [self.docker, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL
            )
        except FileNotFoundError:
            raise DockerError(
                f"[{self.section}] docker CLI {self.docker!r} not found; install docker or "
                "podman, or set `docker =` to its path"
            ) from None
        if check and proc.returncode != 0:
            message = proc.stderr.strip()
            if "Cannot connect to the Docker daemon" in message:
                message += (
                    f"; start the daemon, or use podman: set `docker = podman` in [{self.section}]"
                    " or put a docker -> podman shim first on PATH (source .ci/setup-podman.sh)"
                )
            raise DockerError(f"{self.docker} {args[0]} failed (exit {proc.returncode}): {message}")
        return proc

    def _run_args(self, spec: RemoteSpec) -> list[str]:
        local_scratch = scratch.local_dir(self.scratch_prefix)
        os.makedirs(local_scratch, exist_ok=True)
        args = ["--name", spec.name, "--network", self.network]
        for key, value in spec.labels.items():
            args += ["--label", f"{key}={value}"]
        args += ["--volume", f"{local_scratch}:{local_scratch}"]
        for host, container in self.volumes:
            args += ["--volume", f"{host}:{container}"]
        if spec.vcpus > 0:
            args += ["--cpus", f"{spec.vcpus:g}"]
        if spec.memory > 0:
            args += ["--memory", f"{int(spec.memory * 1024)}m"]
        if spec.gpus > 0:
            args += ["--gpus", "all"]
        shared_memory = spec.options.get("shared_memory", self.settings["shared_memory"])
        if shared_memory:
            args += ["--shm-size", str(shared_memory)]
        for key, value in sorted(spec.env.items()):
            args += ["--env", f"{key}={value}"]
        return args

    def _interactive(self, spec: RemoteSpec) -> bool:
        raw = spec.options.get("interactive", self.settings["interactive"])
        return raw if isinstance(raw, bool) else str2bool(str(raw))

    def submit_command(self, spec: RemoteSpec) -> str:
        args = self._run_args(spec)
        if not self._interactive(spec):
            proc = self._run("run", "--detach", *args, spec.image, *spec.command)
            return proc.stdout.strip().splitlines()[-1]
        # Interactive (debugging): the container owns the terminal; its id comes
        # back through --cidfile so it can be polled like any other.
        cid_dir = tempfile.mkdtemp(prefix="redun-docker-")
        cid_file = os.path.join(cid_dir, "cid")
        client = subprocess.Popen(
            [self.docker, "run", "--interactive", "--tty", "--cidfile", cid_file, *args]
            + [spec.image, *spec.command]
        )
        deadline = time.monotonic() + INTERACTIVE_START_TIMEOUT
        while time.monotonic() < deadline:
            if os.path.exists(cid_file) and os.path.getsize(cid_file):
                with open(cid_file) as infile:
                    container_id = infile.read().strip()
                self._clients[container_id] = client
                return container_id
            if client.poll() is not None:
                break
            time.sleep(0.05)
        client.kill()
        client.wait()
        raise DockerError(f"interactive container {spec.name} did not start")

    def poll(self, remote_ids: list[str]) -> dict[str, RemoteStatus]:
        fmt = "{{.Id}} {{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}"
        proc = self._run("inspect", "--format", fmt, *remote_ids, check=False)
        statuses = {}
        for line in proc.stdout.splitlines():
            parts = line.split()
            if len(parts) != 4:
                continue
            container_id, state, exit_code, oom = parts
            if state in PENDING_STATES:
                status = RemoteStatus(RemoteState.PENDING)
            elif state in RUNNING_STATES:
                status = RemoteStatus(RemoteState.RUNNING)
            elif exit_code == "0":
                status = RemoteStatus(RemoteState.SUCCEEDED)
            else:
                reason = f"container exited with code {exit_code}"
                if oom == "true":
                    reason += " (out of memory: raise `memory`)"
                status = RemoteStatus(RemoteState.FAILED, reason)
            for remote_id in remote_ids:
                if container_id.startswith(remote_id) or remote_id.startswith(container_id):
                    statuses[remote_id] = status
        return statuses

    def cancel(self, remote_ids: list[str]) -> None:
        # SIGKILL at once: a task's Python runs as PID 1 and ignores SIGTERM, so
        # `rm --force` alone would wait out podman's 10 s stop timeout.
        if remote_ids:
            self._run("kill", *remote_ids, check=False)
            self._run("rm", "--force", *remote_ids, check=False)

    def cleanup(self, remote_id: str) -> None:
        self._run("rm", "--force", remote_id, check=False)
        client = self._clients.pop(remote_id, None)
        if client is not None:
            try:
                client.wait(timeout=10)
            except subprocess.TimeoutExpired:
                client.kill()
                client.wait()

    def logs(self, remote_id: str, tail: int = LOG_TAIL_LINES) -> list[str]:
        try:
            proc = subprocess.run(
                [self.docker, "logs", "--tail", str(tail), remote_id],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        except FileNotFoundError:
            return []
        if proc.returncode != 0:
            return []
        return [line + "\n" for line in proc.stdout.splitlines()]

    def list_jobs(self) -> dict[str, dict[str, str]]:
        label = f"label={LABEL_EXECUTOR}={self.name}"
        proc = self._run("ps", "--all", "--quiet", "--no-trunc", "--filter", label)
        ids = proc.stdout.split()
        if not ids:
            return {}
        proc = self._run(
            "inspect", "--format", "{{.Id}}\t{{json .Config.Labels}}", *ids, check=False
        )
        jobs: dict[str, dict[str, Any]] = {}
        for line in proc.stdout.splitlines():
            container_id, _, labels = line.partition("\t")
            try:
                jobs[container_id] = json.loads(labels) or {}
            except json.JSONDecodeError:
                continue
        return jobs
