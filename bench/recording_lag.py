"""Recording lag: how long after a task finishes is its record durable?

bench/run.py runs bench/workflows/lag.py through a `redun` CLI on a fresh
SQLite file and this module polls that file (read-only, from the runner's
process) every POLL_S seconds. Each task body appends "i time" to a log as it
returns; a job counts as durable at the first poll that sees its call node.
lag = durable time - finish time: what a SIGKILL at that moment would lose.
Stdlib only, like bench/run.py; works for any engine writing redun's schema.
"""

from __future__ import annotations

import pickle
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

POLL_S = 0.02
TASK_NAME = "bench.lag.stamp"
QUERY = (
    "SELECT c.rowid, v.value FROM call_node c JOIN value v ON v.value_hash = c.value_hash "
    "WHERE c.task_name = ? AND c.rowid > ? ORDER BY c.rowid"
)


@dataclass(frozen=True)
class LagResult:
    """Lag statistics in seconds over every task of one run (None: no task was seen)."""

    seen: int
    p50_s: float | None
    p99_s: float | None
    max_s: float | None
    wall_s: float
    returncode: int | None
    pid: int


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure_lag(
    argv: list[str], cwd: Path, env: dict[str, str], db_path: Path, log: Path, timeout_s: float
) -> LagResult:
    """Run argv (``redun run lag.py main --n N --log LOG``), watching db_path as it goes."""
    durable: dict[int, float] = {}
    last_rowid = 0
    connection: sqlite3.Connection | None = None
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while True:
            done = proc.poll() is not None
            if connection is None and db_path.exists():
                connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
            if connection is not None:
                try:
                    rows = connection.execute(QUERY, (TASK_NAME, last_rowid)).fetchall()
                except sqlite3.OperationalError:
                    rows = []  # the schema is not created yet
                now = time.time()
                for rowid, value in rows:
                    last_rowid = max(last_rowid, rowid)
                    durable.setdefault(pickle.loads(value), now)
            if done:
                break
            if time.perf_counter() - start > timeout_s:
                proc.kill()
                proc.wait()
                break
            time.sleep(POLL_S)
    finally:
        if connection is not None:
            connection.close()
    wall = time.perf_counter() - start
    finished = {}
    for line in log.read_text().splitlines() if log.exists() else []:
        i, stamp = line.split()
        finished[int(i)] = float(stamp)
    lags = sorted(max(0.0, durable[i] - t) for i, t in finished.items() if i in durable)
    return LagResult(
        seen=len(durable),
        p50_s=_percentile(lags, 0.5) if lags else None,
        p99_s=_percentile(lags, 0.99) if lags else None,
        max_s=lags[-1] if lags else None,
        wall_s=wall,
        returncode=proc.returncode if wall <= timeout_s else None,
        pid=proc.pid,
    )
