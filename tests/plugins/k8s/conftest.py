"""Tests of redun-k8s against the emulated Kubernetes API (`tests.plugins.k8s.emulator`).

The emulator runs as its own process for the whole session, on 127.0.0.1,
with pods as real podman containers of the session's test image; each test
starts from an empty cluster (``/emulator/reset``) and a kubeconfig pointing
at it. Skipped as a whole when redun-k8s is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.containers import ROOT, TEST_IMAGE, containers_unavailable, podman_env

pytest.importorskip("redun_k8s", reason="redun-k8s is not installed")

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: emulator
  cluster:
    server: http://127.0.0.1:{port}
contexts:
- name: emulator
  context:
    cluster: emulator
    user: anonymous
current-context: emulator
users:
- name: anonymous
  user: {{}}
"""


@dataclass
class K8sEmulator:
    """The running emulator: its port, a kubeconfig for it, and test helpers."""

    port: int
    kubeconfig: str
    image: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode()

    def items(self, path: str) -> list[dict[str, Any]]:
        return self.request("GET", path)["items"]

    def jobs(self, namespace: str = "default") -> list[dict[str, Any]]:
        return self.items(f"/apis/batch/v1/namespaces/{namespace}/jobs")

    def pods(self, namespace: str = "default") -> list[dict[str, Any]]:
        return self.items(f"/api/v1/namespaces/{namespace}/pods")

    def history(self) -> list[dict[str, Any]]:
        """Every Job created since the last reset, as stored (deleted ones too)."""
        return self.request("GET", "/emulator/history")["jobs"]

    def containers(self) -> list[str]:
        return self.request("GET", "/emulator/containers")["containers"]

    def stats(self) -> dict[str, Any]:
        return self.request("GET", "/emulator/stats")

    def configure(self, **settings: Any) -> None:
        self.request("POST", "/emulator/config", settings)

    def wait_until_empty(self, namespace: str = "default", timeout: float = 15.0) -> None:
        """Jobs, pods and containers all gone (garbage collection takes a tick or two)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.jobs(namespace) and not self.pods(namespace) and not self.containers():
                return
            time.sleep(0.1)
        pytest.fail(
            f"left behind: jobs {[j['metadata']['name'] for j in self.jobs(namespace)]}, "
            f"pods {[p['metadata']['name'] for p in self.pods(namespace)]}, "
            f"containers {self.containers()}"
        )


def start_emulator(tmp_dir: Path, image: str) -> tuple[subprocess.Popen, K8sEmulator]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.plugins.k8s.emulator"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        containers_unavailable(f"the Kubernetes emulator did not start: {line!r}")
    port = int(line.split()[1])
    kubeconfig = tmp_dir / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG.format(port=port))
    return proc, K8sEmulator(port, str(kubeconfig), image)


@pytest.fixture(scope="session")
def pod_image(request: pytest.FixtureRequest) -> Iterator[str]:
    """The image pods run: the session's, or with REDUN_K8S_REUSE_IMAGE=1 the one built before.

    `make test-k8s-other` runs these tests a second time, with the other kubernetes
    client, on the image `make test` built in this checkout: it need not be rebuilt.
    """
    if os.environ.get("REDUN_K8S_REUSE_IMAGE") != "1":
        yield request.getfixturevalue("container_image")
        return
    env = podman_env()
    saved = {key: os.environ.get(key) for key in ("CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF")}
    os.environ["CONTAINERS_CONF"] = env["CONTAINERS_CONF"]
    os.environ["CONTAINERS_STORAGE_CONF"] = env["CONTAINERS_STORAGE_CONF"]
    try:
        found = subprocess.run(["podman", "image", "exists", TEST_IMAGE]).returncode == 0
        if not found:
            containers_unavailable(
                f"REDUN_K8S_REUSE_IMAGE=1 but {TEST_IMAGE} is not built: make test"
            )
        yield TEST_IMAGE
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def k8s_emulator(pod_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[K8sEmulator]:
    proc, emulator = start_emulator(tmp_path_factory.mktemp("k8s-emulator"), pod_image)
    try:
        yield emulator
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def k8s(k8s_emulator: K8sEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[K8sEmulator]:
    """An empty emulated cluster, with KUBECONFIG pointing at it."""
    k8s_emulator.request("POST", "/emulator/reset")
    monkeypatch.setenv("KUBECONFIG", k8s_emulator.kubeconfig)
    yield k8s_emulator
    # Deleted Jobs' pods and containers go at the garbage collector's next rounds.
    deadline = time.monotonic() + 10
    while k8s_emulator.containers() and time.monotonic() < deadline:
        time.sleep(0.1)
    leftovers = k8s_emulator.containers()
    k8s_emulator.request("POST", "/emulator/reset")
    if leftovers:
        pytest.fail(f"containers left running: {leftovers}")
