"""Small workflows that the console tests really run, so the repos hold real records."""

from __future__ import annotations

import os
import sys
import threading
import time

from redun import File, task

redun_namespace = "console_test"

# Gates that let a test hold a job open (live mode) and then let it finish.
GATES: dict[str, threading.Event] = {}


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def main(n: int = 3) -> list:
    return [add(i, 1) for i in range(n)]


@task
def fail_on(x: int) -> int:
    raise ValueError(f"cannot handle {x}")


@task
def failing(n: int = 2) -> list:
    return [add(1, 1), fail_on(n)]


@task
def write_file(path: str, text: str) -> File:
    file = File(path)
    file.write(text)
    return file


@task
def count_words(file: File) -> int:
    return len(file.read().split())


@task
def files(path: str) -> int:
    return count_words(write_file(path, "alpha beta gamma"))


@task
def wide() -> dict:
    return {"wide": "W" * 400 + "END", "rows": list(range(60))}


@task
def wait_gate(name: str) -> str:
    if not GATES[name].wait(30):
        raise TimeoutError(name)
    return f"released {name}"


@task
def live(name: str) -> list:
    return [add(2, 2), wait_gate(name)]


@task
def crash_later(seconds: float) -> int:
    time.sleep(seconds)
    os._exit(3)


@task
def crashing() -> list:
    return [add(5, 5), crash_later(0.5)]


if __name__ == "__main__":
    # `python workflows.py DB_URI`: a scheduler process that dies mid-job, leaving
    # its execution RUNNING in the repo (as after a crash, or while it still runs).
    from redun import Scheduler
    from redun.config import Config

    scheduler = Scheduler(config=Config({"backend": {"db_uri": sys.argv[1]}}))
    scheduler.run(crashing(), exec_argv=["redun", "run", "workflows.py", "crashing"])
