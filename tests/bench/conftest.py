"""Shared by the bench tests: bench/run.py loaded by path, and a stand-in `redun`."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
RUNNER = BENCH / "run.py"


@pytest.fixture(scope="session")
def runner() -> Iterator[ModuleType]:
    """bench/run.py is a script, not a package: load it by path."""
    spec = importlib.util.spec_from_file_location("bench_run", RUNNER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


FAKE_REDUN = """\
#!{python}
\"\"\"Stand-in for the redun CLI: writes one row per task into the configured SQLite file.\"\"\"
import configparser, sys
import sqlalchemy as sa

args = sys.argv[1:]
if args == ["--help"]:
    sys.exit(0)
if "--stamp" in args:
    # The startup workflow: a known delay before the "task body" notes when it started.
    import time

    time.sleep(STARTUP_DELAY_S)
    with open(args[args.index("--stamp") + 1], "w") as out:
        out.write(repr(time.time()))
    print(1)
    sys.exit(0)
ini = configparser.ConfigParser()
ini.read(args[args.index("-c") + 1] + "/redun.ini")
n = int(args[args.index("--n") + 1])
engine = sa.create_engine(ini["backend"]["db_uri"])
with engine.begin() as conn:
    conn.execute(sa.text("create table if not exists call (i integer primary key)"))
    for i in range(n):
        conn.execute(sa.text("insert or ignore into call values (:i)"), {{"i": i}})
if "--log" in args:
    # The lag workflow: each "task" notes when it finished, then is recorded as redun would.
    import pickle, time

    log = args[args.index("--log") + 1]
    with engine.begin() as conn:
        conn.execute(sa.text("create table call_node (task_name text, value_hash text)"))
        conn.execute(sa.text("create table value (value_hash text, value blob)"))
    for i in range(n):
        with open(log, "a") as out:
            out.write(f"{{i}} {{time.time()}}\\n")
        row = {{"h": str(i), "v": pickle.dumps(i)}}
        with engine.begin() as conn:
            conn.execute(sa.text("insert into value values (:h, :v)"), row)
            conn.execute(sa.text("insert into call_node values ('bench.lag.stamp', :h)"), row)
        time.sleep(0.01)
print("[redun] done", file=sys.stderr)
print(n * (n - 1) // 2)
"""


STARTUP_DELAY_S = 0.3


def stand_in_redun(tmp_path: Path) -> Path:
    """The stand-in `redun`, with the `python` beside it that the runner looks for."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    redun = bin_dir / "redun"
    text = FAKE_REDUN.format(python=sys.executable)
    redun.write_text(text.replace("STARTUP_DELAY_S", repr(STARTUP_DELAY_S)))
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    for exe in bin_dir.iterdir():
        exe.chmod(0o755)
    return redun


@pytest.fixture
def stand_in(tmp_path: Path) -> Path:
    """A stand-in `redun` executable in tmp_path/bin."""
    return stand_in_redun(tmp_path)


@pytest.fixture
def stand_in_delay_s() -> float:
    """How long the stand-in takes from launch to its startup "task"."""
    return STARTUP_DELAY_S
