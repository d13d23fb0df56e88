"""Tests of redun-docker: skipped as a whole when the distribution is not installed.

Container tests (marked ``container``) use the session's podman and test image
(`tests.helpers.containers`); where podman cannot run they skip with one loud
line, and with ``REDUN_REQUIRE_CONTAINERS=1`` (set by ``.ci/run``) they fail.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.helpers.containers import session_containers

pytest.importorskip("redun_docker", reason="redun-docker is not installed")


@pytest.fixture
def podman(container_image: str) -> str:
    """The session's test image, with podman behind `docker` on PATH."""
    return container_image


@pytest.fixture
def containers(podman: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test image, with a check that a test leaves no container of its own running."""
    yield podman
    running = session_containers(tmp_path_factory.getbasetemp())
    if running:
        subprocess.run(["docker", "rm", "--force", *running], capture_output=True)
        pytest.fail(f"containers left running: {running}")
