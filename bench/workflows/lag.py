"""Recording lag: N independent trivial tasks, each noting when its body finished.

bench/recording_lag.py watches the database while this runs and reports how long after
a task's body returned its call node became visible to other processes (what a
SIGKILL at that moment would keep).
"""

import os
import time

from redun import task

redun_namespace = "bench.lag"


@task()
def stamp(i: int, log: str) -> int:
    with open(log, "a") as out:
        out.write(f"{i} {time.time()}\n")
    return i


@task()
def total(values: list) -> int:
    return sum(values)


@task()
def main(n: int = 1000, log: str = "") -> int:
    log = log or os.path.abspath("finished.log")
    return total([stamp(i, log) for i in range(n)])
