"""Recursion: each task returns a call to the next, N levels deep.

Every level is a child job of the one above, so this measures how the
scheduler handles a deep job tree rather than a deep expression.
"""

from redun import task

redun_namespace = "bench.recursion"


@task()
def step(i: int) -> int:
    if i <= 0:
        return 0
    return step(i - 1)


@task()
def main(n: int = 1000) -> int:
    return step(n)
