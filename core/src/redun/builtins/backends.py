"""The builtin state store: redun's call-graph database on SQLite or PostgreSQL."""

from __future__ import annotations

from redun.plugins import BackendSpec, hookimpl


@hookimpl
def redun_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            ("sqlite", "postgresql"),
            "redun.backends.db:RedunBackendDb",
            "Call graph in SQLite or PostgreSQL",
        )
    ]
