"""Fault-injection tests: real `redun run` processes killed, interrupted and starved."""

from __future__ import annotations

from redun.testing.postgres import postgres_server  # noqa: F401
