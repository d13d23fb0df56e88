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


class Abort(BaseException):
    """A BaseException that is neither SystemExit nor KeyboardInterrupt."""


RAISED = {"exit": SystemExit(3), "interrupt": KeyboardInterrupt(), "abort": Abort("abort")}


@task
def raise_base(kind: str) -> None:
    raise RAISED[kind]


@task
def slow_ok(i: int) -> int:
    import time

    time.sleep(0.2)
    return i


@task
def fan_with_base(kind: str, n: int) -> list:
    return [raise_base(kind)] + [slow_ok(i) for i in range(n)]


class Picky(Exception):
    """An error whose constructor needs two arguments: unpickling it from args fails."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


@task
def raise_picky() -> None:
    raise Picky("picky", "cannot be rebuilt from its args")


@task
def die_abruptly() -> None:
    import time

    time.sleep(0.1)  # the jobs beside it have started
    os._exit(7)


@task
def die_beside(n: int) -> list:
    """A worker dies while n other jobs run or wait in its pool."""
    return [die_abruptly()] + [slow_ok(i) for i in range(n)]


@task(mode="thread")
def pause(i: int) -> int:
    import time

    time.sleep(1.0)
    return i


@task
def fan_with(failing: str, n: int) -> list:
    """A failing process job beside n process jobs that start a second later."""
    tasks = {"raise_picky": raise_picky, "die_abruptly": die_abruptly}
    return [tasks[failing]()] + [slow_ok(pause(i)) for i in range(n)]


@task(cache=False)
def open_file(path: str):
    return open(path)
