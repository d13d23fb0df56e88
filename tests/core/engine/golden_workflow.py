"""A workflow whose hashes were recorded with redun 0.44.1 (see data/redun044.db).

Its source text is part of every task hash: do not edit it.
"""

from redun import task

redun_namespace = "golden"


@task
def add(a: int, b: int) -> int:
    return a + b


@task(version="2")
def double(x: int) -> int:
    return 2 * x


@task
def summarize(values: list, label: str = "sum") -> dict:
    return {label: sum(values)}


@task
def main(n: int = 3) -> dict:
    values = [double(add(i, 1)) for i in range(n)]
    return summarize(values)
