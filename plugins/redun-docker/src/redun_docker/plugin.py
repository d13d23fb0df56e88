"""Entry point of redun-docker (group `redun`).

Run redun tasks in Docker-compatible containers (docker or podman CLI).

The backend is not built yet, so this module implements no hooks: the
distribution is installed and listed by `redun plugins`, and asking for one of
its names explains that this version does not provide it.
"""
