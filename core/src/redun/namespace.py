"""The default task namespace while a module is being imported."""

from __future__ import annotations

import sys
from typing import Any

_current_namespace = ""


def namespace(_namespace: str | None = None) -> None:
    """Set the namespace for tasks defined from now on (None or "" unsets it)."""
    global _current_namespace
    _current_namespace = _namespace or ""


def get_current_namespace() -> str:
    return _current_namespace


def compute_namespace(obj: Any, namespace: str | None = None) -> str:
    """Explicit namespace ("" counts) > module's `redun_namespace` > current `namespace()`."""
    if namespace is None:
        module = sys.modules.get(getattr(obj, "__module__", "") or "")
        namespace = getattr(module, "redun_namespace", None)
    if namespace is not None:
        return namespace
    return _current_namespace
