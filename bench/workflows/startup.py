"""Startup: one task that notes the moment its body starts.

bench/run.py notes the time just before it launches `redun run`; the gap to
the stamp this task writes is the fixed cost of getting to the first task
(interpreter, imports, config, opening or creating the database, scheduling).
"""

import time

from redun import task

redun_namespace = "bench.startup"


@task()
def main(stamp: str = "started.txt") -> int:
    started = time.time()
    with open(stamp, "w") as out:
        out.write(repr(started))
    return 1
