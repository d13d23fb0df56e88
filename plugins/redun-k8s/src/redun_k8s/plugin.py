"""Entry point of redun-k8s (group `redun`).

Kubernetes executor for redun.

The backend is not built yet, so this module implements no hooks: the
distribution is installed and listed by `redun plugins`, and asking for one of
its names explains that this version does not provide it.
"""
