"""Finding this test session's containers among everything podman runs on the machine."""

from __future__ import annotations

import subprocess
from pathlib import Path


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
