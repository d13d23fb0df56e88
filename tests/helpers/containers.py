"""Real containers for the test session: podman behind `docker`, one image for every plugin.

Every plugin whose jobs run in containers (docker, AWS Batch through moto,
the Kubernetes and GCP Batch emulators, SLURM with an image) uses the same
session fixture, `container_image`: podman configured by
``.ci/setup-podman.sh`` (a ``docker -> podman`` shim first on PATH, a
per-checkout image store) and one image built from this checkout by
``images/build.sh`` with the core and every executor plugin's distribution.
Where podman cannot run, tests using it skip with one loud line; with
``REDUN_REQUIRE_CONTAINERS=1`` (set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_IMAGE = os.environ.get("REDUN_TEST_IMAGE", "localhost/redun:test")
# Distributions installed in the test image: the core and every plugin whose
# code runs inside a job (the console never does).
IMAGE_DISTS = ["core"] + sorted(
    f"plugins/{path.name}"
    for path in (ROOT / "plugins").iterdir()
    if (path / "pyproject.toml").exists() and path.name != "redun-console"
)


def containers_unavailable(reason: str) -> None:
    """Skip (or, when containers are required, fail) with one line saying why."""
    message = f"CONTAINER TESTS NOT RUN: {reason}"
    if os.environ.get("REDUN_REQUIRE_CONTAINERS") == "1":
        pytest.fail(message, pytrace=False)
    sys.stderr.write(f"\n{'!' * 8} {message} {'!' * 8}\n")
    pytest.skip(message)


def podman_env() -> dict[str, str]:
    """The variables `.ci/setup-podman.sh --env` exports (after configuring podman)."""
    proc = subprocess.run(
        ["bash", str(ROOT / ".ci/setup-podman.sh"), "--env"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        containers_unavailable(f"podman setup failed: {proc.stderr.strip().splitlines()[-1:]}")
    return _parse_env(proc.stdout)


def _build_image(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ROOT / "images/build.sh"), TEST_IMAGE],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "DISTS": " ".join(IMAGE_DISTS)},
    )


# The build done by `prebuild_image`, which the fixture then reuses.
_prebuilt: subprocess.CompletedProcess | None = None


def prebuild_image() -> None:
    """Build the image before the first test runs, so no test's timeout pays for it.

    A fresh checkout builds a base rootfs and downloads every plugin's wheels:
    minutes on a loaded machine, more than pytest-timeout gives one test.
    Failures are left for the fixture to report (skip, or fail in CI).
    """
    global _prebuilt
    setup = subprocess.run(
        ["bash", str(ROOT / ".ci/setup-podman.sh"), "--env"], capture_output=True, text=True
    )
    if setup.returncode == 0:
        _prebuilt = _build_image(_parse_env(setup.stdout))


def _parse_env(exports: str) -> dict[str, str]:
    env = {}
    for line in exports.splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = shlex.split(value)[0]
    return env


@pytest.fixture(scope="session")
def container_image() -> Iterator[str]:
    """A working podman behind `docker` on PATH, and the test image built; yields the image."""
    env = podman_env()
    keys = ("CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF", "PATH")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ["CONTAINERS_CONF"] = env["CONTAINERS_CONF"]
    os.environ["CONTAINERS_STORAGE_CONF"] = env["CONTAINERS_STORAGE_CONF"]
    os.environ["PATH"] = f"{env['REDUN_PODMAN_SHIM']}{os.pathsep}{saved['PATH']}"
    try:
        build = _prebuilt if _prebuilt is not None else _build_image({})
        if build.returncode != 0:
            containers_unavailable(f"image build failed: {build.stderr.strip()[-500:]}")
        yield TEST_IMAGE
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def session_containers(base: Path, running_only: bool = True) -> list[str]:
    """Containers of redun executors whose scratch lies under `base` (this test session's).

    Other test sessions on the machine run their own containers; they are not ours
    to count or remove.
    """
    listing = ["docker", "ps", "--quiet", "--no-trunc", "--filter", "label=redun.scratch"]
    if not running_only:
        listing.insert(2, "--all")
    ids = subprocess.run(listing, capture_output=True, text=True, check=True).stdout.split()
    if not ids:
        return []
    fmt = '{{.Id}} {{index .Config.Labels "redun.scratch"}}'
    inspected = subprocess.run(
        ["docker", "inspect", "--format", fmt, *ids], capture_output=True, text=True
    ).stdout.split("\n")
    prefix = str(base)
    return [
        line.split(" ", 1)[0]
        for line in inspected
        if " " in line and line.split(" ", 1)[1].startswith(prefix)
    ]
