"""Two-stage map: N tasks, then N more over their results, then one sum.

The second stage can only be submitted once the first has finished, so at
large N this measures whether the scheduler streams both maps through (flat
cost per task, bookkeeping released as jobs finish) rather than holding every
job of the run at once. 2N + 3 tasks; prints n * (n + 1).
"""

from redun import task

redun_namespace = "bench.map2"


@task()
def inc(i: int) -> int:
    return i + 1


@task()
def double(x: int) -> int:
    return 2 * x


@task()
def stage2(values: list) -> list:
    return [double(x) for x in values]


@task()
def total(values: list) -> int:
    return sum(values)


@task()
def main(n: int = 1000) -> int:
    return total(stage2([inc(i) for i in range(n)]))
