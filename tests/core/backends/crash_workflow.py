"""A workflow run by the SIGKILL test: one slow step at a time, each logged when it runs.

Usage: python -m tests.core.backends.crash_workflow DB_URI LOG N
"""

from __future__ import annotations

import sys
import time

from redun import Scheduler, task
from redun.config import Config

redun_namespace = "crash_test"


@task()
def step(i: int, log: str) -> int:
    with open(log, "a") as out:
        out.write(f"{i}\n")
    time.sleep(0.05)
    return i * i


@task()
def main(n: int, log: str) -> list:
    return [step(i, log) for i in range(n)]


def run(db_uri: str, log: str, n: int) -> list:
    config = Config(
        {
            "backend": {"db_uri": db_uri, "automigrate": "true"},
            "executors.default": {"type": "local", "max_workers": "1"},
            "scheduler": {"job_status_interval": "0"},
        }
    )
    scheduler = Scheduler(config=config)
    scheduler.load()
    return scheduler.run(main(n, log))


if __name__ == "__main__":
    print(run(sys.argv[1], sys.argv[2], int(sys.argv[3])))
