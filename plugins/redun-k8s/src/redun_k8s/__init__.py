"""Kubernetes executor for redun."""

__version__ = "0.1.0"
