"""A real AWS API server for the tests: moto's server mode on 127.0.0.1.

Fixtures (registered in tests/conftest.py):

- ``moto_server`` (session): one ``moto`` server (pinned ``moto[server]==5.2.5``)
  on a free loopback port, with the Batch extension of `tests.helpers.moto_batch`
  and the call counter of `tests.helpers.moto_main`. Its Batch jobs run in
  real containers once ``moto_docker`` has started.
- ``moto`` (function): the same server reset to empty, with
  ``AWS_ENDPOINT_URL`` pointing at it for this test, so every boto3 client
  (and every ``s3://`` File) talks to it.
- ``moto_docker`` (session): podman's Docker-compatible API service on the
  socket moto was told about, with the session's test image built; yields
  the image name.

Any SDK honouring ``AWS_ENDPOINT_URL`` works against it (S3 scratch for the
Kubernetes executor, for instance). The loopback-only AWS environment of
tests/conftest.py is passed to the server process as well.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.containers import containers_unavailable

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


class MotoServer:
    """Handle on the running server: its endpoint, reset, call counts, throttling."""

    def __init__(self, process: subprocess.Popen, port: int, docker_socket: Path, log: Path):
        self.process = process
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.docker_socket = docker_socket
        self.log = log

    def _request(self, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        method = "GET" if payload is None else "POST"
        request = urllib.request.Request(self.endpoint + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body.strip().startswith((b"{", b"[")) else body

    def reset(self) -> None:
        """Forget every bucket, job, log and counter (POST /moto-api/reset)."""
        self._request("/moto-api/reset", {})

    def reset_counts(self) -> None:
        """Start counting API calls afresh (the server's state stays)."""
        self._request("/redun-test/calls/reset", {})

    def calls(self) -> dict[str, int]:
        """API calls served since the last reset, as ``{"batch:submitjob": n, ...}``."""
        return {key.lower(): count for key, count in self._request("/redun-test/calls").items()}

    def throttle(self, service: str, action: str, count: int) -> None:
        """Answer the next `count` calls of `action` with TooManyRequestsException."""
        self._request(
            "/redun-test/throttle", {"service": service, "action": action, "count": count}
        )

    def batch_settings(self, **settings: Any) -> None:
        """Change the Batch extension's settings until the next reset (min_timeout=...)."""
        self._request("/redun-test/batch", settings)

    def glue_settings(self, **settings: Any) -> None:
        """Change the Glue emulator's settings until the next reset (minute_seconds=...)."""
        self._request("/redun-test/glue", settings)

    def configure_batch(self, use_docker: bool) -> None:
        """Let Batch jobs run in containers (True) or succeed at once without running."""
        self._request("/moto-api/config", {"batch": {"use_docker": use_docker}})

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1")

    def log_tail(self, lines: int = 20) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _wait_for_port(process: subprocess.Popen, port_file: Path, log: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if port_file.exists():
            return int(port_file.read_text())
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    pytest.fail(f"moto server did not start (is moto[server] installed?):\n{tail}", pytrace=False)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    from tests.conftest import NETWORK_SAFE_ENV

    workdir = tmp_path_factory.mktemp("moto")
    port_file = workdir / "port"
    log = workdir / "moto.log"
    docker_socket = workdir / "docker.sock"
    env = {
        **os.environ,
        **NETWORK_SAFE_ENV,
        "DOCKER_HOST": f"unix://{docker_socket}",
        "MOTO_DOCKER_NETWORK_MODE": "host",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("AWS_ENDPOINT_URL", None)
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.moto_main", str(port_file)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    port = _wait_for_port(process, port_file, log)
    server = MotoServer(process, port, docker_socket, log)
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def moto(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    yield moto_server


def socket_pids(path: Path) -> list[int]:
    """PIDs of processes holding the listening unix socket at `path`."""
    inodes = set()
    with open("/proc/net/unix") as table:
        for line in table.read().splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 8 and fields[7] == str(path):
                inodes.add(fields[6])
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            pids.append(int(entry.name))
    return pids


def _docker_api_ready(path: Path) -> bool:
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        try:
            sock.connect(str(path))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b"200" in sock.recv(64)
        except OSError:
            return False


@pytest.fixture(scope="session")
def moto_docker(moto_server: MotoServer, container_image: str) -> Iterator[str]:
    """podman's Docker API on moto's socket, so Batch jobs run in real containers."""
    socket_path = moto_server.docker_socket
    log = socket_path.with_name("podman-service.log")
    with open(log, "w") as out:
        process = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{socket_path}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while not _docker_api_ready(socket_path):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            containers_unavailable(f"podman system service failed: {log.read_text()[-500:]}")
        time.sleep(0.1)
    holders = socket_pids(socket_path)
    try:
        yield container_image
    finally:
        # The service re-execs itself: stop whichever process holds the socket.
        for pid in {process.pid, *holders}:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
