"""Tasks imported by worker processes of the local executor's process mode."""

import os

from redun import task

redun_namespace = "process_test"


@task
def where(x: int) -> tuple:
    return os.getpid(), x


@task
def fail_in_process() -> None:
    raise ValueError("raised in a worker process")


@task(script=True)
def shout(word: str) -> str:
    return f"echo {word} | tr a-z A-Z"


@task
def spawn_children(n: int) -> list:
    return [where(i) for i in range(n)]
