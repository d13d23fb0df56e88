"""The task a federated entry point names (imported by name where the entry point runs)."""

from __future__ import annotations

from redun import task

redun_namespace = "api_fed"


@task
def add(x: int, y: int = 3, result_path: str | None = None) -> int:
    result = x + y
    if result_path is not None:
        # Fire-and-forget launches are observed through this file.
        with open(result_path, "a") as out:
            out.write(f"{result}\n")
    return result
