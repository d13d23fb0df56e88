"""Process-executor fan-out: N trivial tasks run in worker processes.

Adds the cost of shipping each call to a process pool and its result back.
The runner's redun.ini defines the `process` executor (local, mode=process).
"""

from redun import task

redun_namespace = "bench.process"


@task(executor="process")
def noop(i: int) -> int:
    return i


@task()
def total(values: list) -> int:
    return sum(values)


@task()
def main(n: int = 100) -> int:
    return total([noop(i) for i in range(n)])
