"""Chain: N nested calls, inc(inc(...inc(0))), built by main and run in order.

Each call depends on the one inside it, so nothing runs in parallel and the
scheduler must walk an expression N levels deep (redun 0.44.1 recurses once
per level and hits RecursionError from about 150).
"""

from redun import task

redun_namespace = "bench.chain"


@task()
def inc(x: int) -> int:
    return x + 1


@task()
def main(n: int = 1000) -> int:
    value = 0
    for _ in range(n):
        value = inc(value)
    return value
