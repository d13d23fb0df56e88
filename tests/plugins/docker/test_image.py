"""The image `make image` builds runs this checkout's redun, through the docker shim."""

from __future__ import annotations

import subprocess

import pytest
from redun import __version__

pytestmark = pytest.mark.container


def test_image_runs_this_checkouts_redun(podman: str) -> None:
    proc = subprocess.run(
        ["docker", "run", "--rm", "--network", "host", podman, "redun", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == __version__


def test_image_has_the_docker_plugin(podman: str) -> None:
    proc = subprocess.run(
        ["docker", "run", "--rm", "--network", "host", podman, "redun", "plugins", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "redun-docker" in proc.stdout
