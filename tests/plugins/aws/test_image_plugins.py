"""`make image IMAGE_PLUGINS=...` picks distributions by plugin name (images/build.sh)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def build_dists(plugins: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "IMAGE_PLUGINS": plugins, "DRY_RUN": "1"}
    return subprocess.run(
        ["bash", str(ROOT / "images/build.sh")], capture_output=True, text=True, env=env
    )


def test_image_plugins_select_core_and_the_named_plugins() -> None:
    proc = build_dists("aws redun-docker")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["core", "plugins/redun-aws", "plugins/redun-docker"]


def test_unknown_image_plugin_is_one_line() -> None:
    proc = build_dists("nope")
    assert proc.returncode == 2
    assert proc.stderr.startswith("image: unknown plugin 'nope' in IMAGE_PLUGINS (known:")
    assert "aws" in proc.stderr and proc.stderr.count("\n") == 1


@pytest.mark.container
def test_aws_image_needs_no_aws_cli(container_image: str) -> None:
    """The session image (every executor plugin) has boto3 and redun's S3, but no `aws` CLI."""
    probe = "import boto3, redun_aws.s3, shutil; print(shutil.which('aws'))"
    proc = subprocess.run(
        ["docker", "run", "--rm", "--network", "host", container_image, "python3", "-c", probe],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "None"
