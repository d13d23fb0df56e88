"""Tests of redun-docker: skipped as a whole when the distribution is not installed.

Container tests (marked ``container``) share one session: podman configured by
``.ci/setup-podman.sh`` (a ``docker -> podman`` shim first on PATH) and the
image built once from this checkout by ``images/build.sh``. Where podman cannot
run they skip with one loud line; with ``REDUN_REQUIRE_CONTAINERS=1`` (set by
``.ci/run``) they fail instead.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plugins.docker.containers import session_containers

pytest.importorskip("redun_docker", reason="redun-docker is not installed")

ROOT = Path(__file__).resolve().parents[3]
TEST_IMAGE = os.environ.get("REDUN_TEST_IMAGE", "localhost/redun:test")


def _unavailable(reason: str) -> None:
    message = f"CONTAINER TESTS NOT RUN: {reason}"
    if os.environ.get("REDUN_REQUIRE_CONTAINERS") == "1":
        pytest.fail(message, pytrace=False)
    sys.stderr.write(f"\n{'!' * 8} {message} {'!' * 8}\n")
    pytest.skip(message)


def _podman_env() -> dict[str, str]:
    proc = subprocess.run(
        ["bash", str(ROOT / ".ci/setup-podman.sh"), "--env"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        _unavailable(f"podman setup failed: {proc.stderr.strip().splitlines()[-1:]}")
    env = {}
    for line in proc.stdout.splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = shlex.split(value)[0]
    return env


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A working podman behind `docker` on PATH, and the test image built; yields the image."""
    env = _podman_env()
    saved = {key: os.environ.get(key) for key in ("CONTAINERS_CONF", "PATH")}
    os.environ["CONTAINERS_CONF"] = env["CONTAINERS_CONF"]
    os.environ["PATH"] = f"{env['REDUN_PODMAN_SHIM']}{os.pathsep}{saved['PATH']}"
    try:
        build = subprocess.run(
            ["bash", str(ROOT / "images/build.sh"), TEST_IMAGE],
            capture_output=True,
            text=True,
        )
        if build.returncode != 0:
            _unavailable(f"image build failed: {build.stderr.strip()[-500:]}")
        yield TEST_IMAGE
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def containers(podman: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test image, with a check that a test leaves no container of its own running."""
    yield podman
    running = session_containers(tmp_path_factory.getbasetemp())
    if running:
        subprocess.run(["docker", "rm", "--force", *running], capture_output=True)
        pytest.fail(f"containers left running: {running}")
