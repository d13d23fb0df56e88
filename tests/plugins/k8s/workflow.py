"""A workflow for the k8s executor tests, written into each test's work directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

MODULE = "k8s_test_workflow"

SOURCE = '''
"""Tasks the k8s executor tests run in pods (written by tests/plugins/k8s/workflow.py)."""
import hashlib
import os
import sys
import time

from redun import task

redun_namespace = "k8stest"


@task
def square(x):
    return x * x


@task
def square_or_fail(x, bad):
    if x == bad:
        print(f"index of {x} fails on purpose", flush=True)
        raise ValueError(f"bad input {x}")
    return x * x


@task
def fallback(error):
    return -1


@task
def getenv(names):
    return {name: os.environ.get(name) for name in names}


@task
def secret_digest(name):
    """A digest of a secret variable: the secret itself never reaches the database."""
    value = os.environ.get(name)
    return None if value is None else hashlib.sha256(value.encode()).hexdigest()


@task
def nap(seconds, marker):
    print("napping now", flush=True)
    with open(marker, "a") as out:
        out.write("started\\n")
    time.sleep(seconds)
    return "rested"


@task
def memory_limit():
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        if os.path.exists(path):
            with open(path) as infile:
                return int(infile.read())
    return None


@task
def fanout(n: int = 3):
    return [square.options(executor="k8s")(i) for i in range(n)]


@task
def napping(seconds: int, marker: str):
    return nap.options(executor="k8s")(seconds, marker)
'''


def write_workflow(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Write the workflow into `workdir`, make it the current directory and import it."""
    import importlib
    import sys

    (workdir / f"{MODULE}.py").write_text(SOURCE)
    monkeypatch.chdir(workdir)
    monkeypatch.syspath_prepend(str(workdir))
    module = sys.modules.get(MODULE)
    return module if module is not None else importlib.import_module(MODULE)
