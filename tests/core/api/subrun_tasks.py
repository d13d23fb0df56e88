"""Tasks the subrun tests run in sub-schedulers (importable by worker processes)."""

from __future__ import annotations

import os

from redun import get_context, task

redun_namespace = "api_subrun"

# Calls of each task in this process (thread-mode sub-schedulers run here).
CALLS: list[str] = []


@task
def leaf(x: int) -> int:
    CALLS.append("leaf")
    return x * 10


@task
def inner(x: int) -> dict:
    CALLS.append("inner")
    return {"pid": os.getpid(), "leaf": leaf(x), "x": x}


@task(cache=False)
def uncached(x: int) -> int:
    CALLS.append("uncached")
    return x + 1


@task
def boom(x: int) -> int:
    raise ValueError(f"BOOM {x}")


@task
def fails(x: int) -> dict:
    return {"value": boom(x)}


@task
def context_value(x: int, value: str = get_context("stage.name", "unset")) -> tuple:
    return (x, value)


@task
def environment(name: str) -> str | None:
    return os.environ.get(name)
