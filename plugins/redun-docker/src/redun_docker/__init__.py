"""Run redun tasks in Docker-compatible containers (docker or podman CLI)."""

__version__ = "0.1.0"
