"""Fan-out: N independent trivial tasks, then one task that sums them.

Measures the scheduler's fixed cost per job: every call is hashed, looked up
in the cache, run and recorded, with almost no work inside the task.
"""

from redun import task

redun_namespace = "bench.fanout"


@task()
def noop(i: int) -> int:
    return i


@task()
def total(values: list) -> int:
    return sum(values)


@task()
def main(n: int = 1000) -> int:
    return total([noop(i) for i in range(n)])
