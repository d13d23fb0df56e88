"""The workflow the SLURM tests run, written into each test's working directory.

Every task runs on the executor named ``slurm``. It is a string, not a module
of the test package: the jobs import it on the
node from the code package as ``slurm_test_workflow``, and the test process
imports it under that same name, so its tasks are registered once.
"""

MODULE = "slurm_test_workflow"

SOURCE = '''
"""Tasks the redun-slurm tests run (written by tests/plugins/slurm)."""
import os
import sys
import time

from redun import task

redun_namespace = "slurm_test"


@task(executor="slurm")
def double(x: int):
    return 2 * x


@task(executor="slurm")
def fanout(n: int = 4):
    return [double(i) for i in range(n)]


@task(executor="slurm")
def where(i):
    """Which SLURM job (and array index) ran this call."""
    return {
        "i": i,
        "job": os.environ.get("SLURM_JOB_ID"),
        "array_job": os.environ.get("SLURM_ARRAY_JOB_ID"),
        "array_index": os.environ.get("SLURM_ARRAY_TASK_ID"),
    }


@task(executor="slurm")
def environment(names):
    return {name: os.environ.get(name) for name in names}


@task(executor="slurm")
def loud_failure(message: str):
    print("stdout line before the failure", flush=True)
    print("stderr line before the failure", file=sys.stderr, flush=True)
    raise ValueError(message)


@task(executor="slurm")
def sleeper(seconds: float, marker: str = ""):
    if marker:
        with open(marker, "a") as out:
            out.write("started\\n")
    time.sleep(seconds)
    return seconds


@task(executor="slurm")
def read_file(path):
    with open(path) as infile:
        return infile.read()
'''
