#!/usr/bin/env python3
"""Benchmark runner: drives bench/workflows through a `redun` CLI and measures each run.

Stdlib only and never imports redun itself, so one runner measures any
installation (ours, redun 0.44.1) the way users run it:
`redun -c CONFIG_DIR run WORKFLOW main --n N` on a fresh SQLite file, then the
same command again for the fully cached re-run. See bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
LAUNCHER = BENCH_DIR / "rusage_launch.py"
WORKFLOWS = BENCH_DIR / "workflows"
SQLCOUNT_DIR = BENCH_DIR / "sqlcount"
SQL_DIR_ENV = "REDUN_BENCH_SQL_DIR"
RUNS = ("first", "cached")
DB_NAME = "redun.db"


@dataclass(frozen=True)
class Benchmark:
    """One workflow in bench/workflows and the sizes it runs at."""

    name: str
    sizes: tuple[int, ...]
    compare_sizes: tuple[int, ...]
    reference_max: int
    tasks: Callable[[int], int]
    expected: Callable[[int], int]
    unit: str = "tasks"

    @property
    def workflow(self) -> Path:
        return WORKFLOWS / f"{self.name}.py"


# reference_max: the largest size the reference engine (redun 0.44.1) runs in a
# compare run. Its per-task cost grows with N (fan-out: 11 ms per task at 100,
# 46 ms at 2,000), so 10,000 would take over half an hour and no target needs it.
BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "fanout",
        sizes=(1_000, 10_000),
        compare_sizes=(1_000, 2_000, 10_000, 100_000),
        reference_max=2_000,
        tasks=lambda n: n + 2,
        expected=lambda n: n * (n - 1) // 2,
    ),
    Benchmark(
        "chain",
        sizes=(1_000, 10_000),
        compare_sizes=(1_000, 10_000),
        reference_max=10_000,
        tasks=lambda n: n + 1,
        expected=lambda n: n,
    ),
    Benchmark(
        "recursion",
        sizes=(1_000, 10_000),
        compare_sizes=(1_000, 10_000),
        reference_max=1_000,
        tasks=lambda n: n + 2,
        expected=lambda n: 0,
    ),
    Benchmark(
        "values",
        sizes=(1, 100),
        compare_sizes=(1, 100),
        reference_max=100,
        tasks=lambda n: 3,
        expected=lambda n: n * 1024 * 1024,
        unit="MiB",
    ),
    Benchmark(
        "files",
        sizes=(1_000,),
        compare_sizes=(1_000,),
        reference_max=1_000,
        tasks=lambda n: n + 2,
        expected=lambda n: n,
    ),
    Benchmark(
        "map2",
        sizes=(1_000, 10_000),
        compare_sizes=(1_000, 10_000, 100_000),
        reference_max=1_000,
        tasks=lambda n: 2 * n + 3,
        expected=lambda n: n * (n + 1),
    ),
    Benchmark(
        "process",
        sizes=(200,),
        compare_sizes=(200,),
        reference_max=200,
        tasks=lambda n: n + 2,
        expected=lambda n: n * (n - 1) // 2,
    ),
)
BY_NAME = {bench.name: bench for bench in BENCHMARKS}

# The recording-lag benchmark (bench/recording_lag.py): one run per size, watched
# from outside; `--only lag`, `--sizes lag:N` select it like the others.
LAG = "lag"
LAG_SIZES = (10_000,)
LAG_COMPARE_SIZES = (2_000, 10_000)
LAG_REFERENCE_MAX = 2_000
LAG_TARGET_S = 1.0
# Startup to the first task (bench/workflows/startup.py) and `-X importtime`: always
# measured for every engine; `--only startup` measures nothing else.
STARTUP = "startup"
STARTUP_WORKFLOW = WORKFLOWS / "startup.py"
KNOWN = (*BY_NAME, LAG, STARTUP)

# The durable floor (bench/floor.py), run with our engine's interpreter beside
# every fan-out size: best of --floor-repeat, fewer above FLOOR_TASK_BUDGET tasks.
FLOOR = BENCH_DIR / "floor.py"
FLOOR_TASK_BUDGET = 300_000
FLOOR_LIMITS = {"first": 2.0, "cached": 1.5}

# Issue 19's scale targets: per-task cost at these sizes against the 1,000-task run.
SCALE_BASE_N = 1_000
SCALE_SIZES = (100_000, 1_000_000)
SCALE_FLAT_LIMIT = 1.5
MILLION = 1_000_000
MILLION_RSS_MB = 2000
MILLION_DB_BYTES_PER_TASK = 2000
# --timeout is per run, but never less than this per task: a million-task run may take long.
TIMEOUT_PER_TASK_S = 0.005

REDUN_INI = """\
[backend]
db_uri = sqlite:///{db}

[executors.process]
type = local
mode = process
"""


@dataclass
class Measurement:
    """What one child process cost: exit status, wall time, peak RSS, SQL statements."""

    returncode: int | None
    wall_s: float
    peak_rss_mb: float
    statements: int | None = None
    executemany: int | None = None
    stdout_tail: str = ""
    stderr_tail: str = ""

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


@dataclass
class Record:
    """One row of the results: one engine, benchmark, size and run (first or cached)."""

    engine: str
    benchmark: str
    n: int
    run: str
    status: str
    tasks: int = 0
    wall_s: float | None = None
    per_task_ms: float | None = None
    peak_rss_mb: float | None = None
    statements: int | None = None
    sql_per_task: float | None = None
    load1: float | None = None
    error: str = ""
    db_bytes: int | None = None
    db_bytes_per_task: float | None = None
    wal_bytes: int | None = None


@dataclass
class FloorRecord:
    """The durable floor at one fan-out size and run kind (bench/floor.py)."""

    n: int
    run: str
    status: str
    tasks: int = 0
    seconds: float | None = None
    per_task_ms: float | None = None
    db_bytes: int | None = None
    db_bytes_per_task: float | None = None
    repeats: int = 0
    error: str = ""


@dataclass
class LagRecord:
    """How long after its task finished a job's record was visible, over one run."""

    engine: str
    n: int
    status: str
    p50_s: float | None = None
    p99_s: float | None = None
    max_s: float | None = None
    wall_s: float | None = None
    load1: float | None = None
    error: str = ""


@dataclass
class Engine:
    """A redun installation: its label in the tables and its `redun` executable."""

    label: str
    redun: Path
    version: str = ""
    import_s: float | None = None
    help_s: float | None = None
    baseline: dict[str, dict[str, float]] = field(default_factory=dict)
    # Launch of `redun run` to the first task body, on a new and on an existing database.
    first_task_s: float | None = None
    first_task_existing_s: float | None = None
    importtime: dict[str, Any] | None = None
    run_importtime: dict[str, Any] | None = None

    @property
    def python(self) -> Path:
        return self.redun.parent / "python"


def _tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.strip().splitlines()[-lines:])


def read_sql_counts(sql_dir: Path) -> tuple[int, int] | None:
    """Sum the per-process counts sitecustomize wrote; None when no process used SQLAlchemy."""
    files = list(sql_dir.glob("*.sql"))
    if not files:
        return None
    statements = executemany = 0
    for path in files:
        first, second = path.read_text().split()
        statements += int(first)
        executemany += int(second)
    return statements, executemany


def child_env(sql_dir: Path | None) -> dict[str, str]:
    """The environment of a measured child: no inherited REDUN_CONFIG, optional SQL counting."""
    env = dict(os.environ)
    env.pop("REDUN_CONFIG", None)
    env.pop(SQL_DIR_ENV, None)
    if sql_dir is not None:
        env[SQL_DIR_ENV] = str(sql_dir)
        paths = [str(SQLCOUNT_DIR), *filter(None, [env.get("PYTHONPATH")])]
        env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def measure(
    argv: Sequence[str],
    cwd: Path,
    timeout_s: float,
    count_sql: bool = True,
) -> Measurement:
    """Run argv to completion and measure it.

    Peak RSS is the largest resident set of the command or any descendant it
    waited for (process pool workers included); it is a maximum, not a sum over
    processes. The command runs under rusage_launch.py, so neither the figure
    nor the wall time includes this runner's own size or the launcher's startup.
    """
    cwd.mkdir(parents=True, exist_ok=True)
    sql_dir = Path(tempfile.mkdtemp(prefix="sql-", dir=cwd)) if count_sql else None
    stdout_path, stderr_path = cwd / "stdout.txt", cwd / "stderr.txt"
    report = cwd / "rusage.json"
    report.unlink(missing_ok=True)
    launched = [sys.executable, "-I", "-S", str(LAUNCHER), str(report), *argv]
    killed = threading.Event()

    def kill_group(pid: int) -> None:
        killed.set()
        kill_group_quietly(pid)

    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            launched,
            cwd=cwd,
            env=child_env(sql_dir),
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        timer = threading.Timer(timeout_s, kill_group, (proc.pid,))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    # Workers the child leaked would otherwise keep running (and loading the machine).
    kill_group_quietly(proc.pid)
    counts = read_sql_counts(sql_dir) if sql_dir is not None else None
    launched_usage = json.loads(report.read_text()) if report.exists() else {}
    return Measurement(
        returncode=None if killed.is_set() else proc.returncode,
        wall_s=launched_usage.get("wall_s", wall),
        peak_rss_mb=launched_usage.get("maxrss_kb", usage.ru_maxrss) * 1024 / 1e6,
        statements=counts[0] if counts else None,
        executemany=counts[1] if counts else None,
        stdout_tail=_tail(stdout_path),
        stderr_tail=_tail(stderr_path),
    )


def kill_group_quietly(pgid: int) -> None:
    """SIGKILL a process group that may already be gone."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def best_wall(argv: Sequence[str], repeat: int) -> float | None:
    """Best-of-N wall time of a short command (import, --help); None if it fails."""
    best: float | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            argv, env=child_env(None), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wall = time.perf_counter() - start
        if done.returncode != 0:
            return None
        best = wall if best is None else min(best, wall)
    return best


VERSION_SNIPPET = (
    "import redun, redun._version as v; print(getattr(v, 'VERSION_BANNER', redun.__version__))"
)


def engine_version(engine: Engine) -> str:
    done = subprocess.run(
        # Ours reports the redun version it is a drop-in for plus its distribution's.
        [str(engine.python), "-c", VERSION_SNIPPET],
        env=child_env(None),
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() or "unknown"


def write_config(workdir: Path) -> Path:
    """A fresh config dir whose redun.ini points at a fresh SQLite file in workdir."""
    config_dir = workdir / "config"
    config_dir.mkdir(parents=True)
    (config_dir / "redun.ini").write_text(REDUN_INI.format(db=workdir / DB_NAME))
    return config_dir


def db_bytes(db: Path) -> int | None:
    """The SQLite file plus its write-ahead log and index; None when there is no file."""
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    sizes = [path.stat().st_size for path in files if path.exists()]
    return sum(sizes) if sizes else None


def status_of(measurement: Measurement, expected: int) -> tuple[str, str]:
    """(status, error): ok only if the run exited 0 and printed the expected result."""
    if measurement.timed_out:
        return "timeout", ""
    if measurement.returncode != 0:
        lines = measurement.stderr_tail.splitlines()
        return "failed", lines[-1] if lines else f"exit code {measurement.returncode}"
    lines = measurement.stdout_tail.splitlines()
    printed = lines[-1].strip() if lines else ""
    if printed != str(expected):
        return "wrong result", f"printed {printed!r}, expected {expected}"
    return "ok", ""


def run_pair(
    engine: Engine, bench: Benchmark, n: int, tmp_root: Path, timeout_s: float
) -> list[Record]:
    """First run on a fresh SQLite file, then the cached re-run on the same file."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{engine.label}-{bench.name}-{n}-", dir=tmp_root))
    try:
        config_dir = write_config(workdir)
        argv = [str(engine.redun), "-c", str(config_dir), "run", str(bench.workflow), "main"]
        argv += ["--n", str(n)]
        records: list[Record] = []
        # The database before each run: the empty run's file, then the first run's.
        before = engine.baseline.get("first", {}).get("db_bytes")
        for run in RUNS:
            if records and records[-1].status != "ok":
                records.append(Record(engine.label, bench.name, n, run, "skipped"))
                continue
            load1 = os.getloadavg()[0]
            measurement = measure(argv, workdir / run, timeout_s)
            size = db_bytes(workdir / DB_NAME)
            record = make_record(engine, bench, n, run, measurement, load1, size, before)
            wal = workdir / f"{DB_NAME}-wal"
            record.wal_bytes = wal.stat().st_size if wal.exists() else 0
            records.append(record)
            before = size
        return records
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def make_record(
    engine: Engine,
    bench: Benchmark,
    n: int,
    run: str,
    m: Measurement,
    load1: float,
    size: int | None = None,
    size_before: float | None = None,
) -> Record:
    """Turn a measurement into a row, with per-task figures net of the engine's startup.

    `size` is the database after the run and `size_before` what it was before
    (the empty run's file for a first run), so bytes per task count only what
    this run's tasks added.
    """
    status, error = status_of(m, bench.expected(n))
    tasks = bench.tasks(n)
    base = engine.baseline.get(run, {})
    per_task = sql_per_task = bytes_per_task = None
    if status == "ok" and size is not None and size_before is not None and tasks:
        bytes_per_task = (size - size_before) / tasks
    # Values runs only three tasks: their wall time is the figure, not a per-task share.
    if status == "ok" and "wall_s" in base and bench.unit == "tasks":
        per_task = (m.wall_s - base["wall_s"]) / tasks * 1000
    if status == "ok" and m.statements is not None and "statements" in base:
        sql_per_task = (m.statements - base["statements"]) / tasks
    return Record(
        engine=engine.label,
        benchmark=bench.name,
        n=n,
        run=run,
        status=status,
        tasks=tasks,
        wall_s=m.wall_s,
        per_task_ms=per_task,
        peak_rss_mb=m.peak_rss_mb,
        statements=m.statements,
        sql_per_task=sql_per_task,
        load1=load1,
        error=error,
        db_bytes=size,
        db_bytes_per_task=bytes_per_task,
    )


def measure_baseline(engine: Engine, tmp_root: Path, timeout_s: float, repeat: int) -> None:
    """Startup cost per run kind: best of `repeat` fan-outs of zero tasks (main and total)."""
    fanout = BY_NAME["fanout"]
    for _ in range(repeat):
        for record in run_pair(engine, fanout, 0, tmp_root, timeout_s):
            if record.status != "ok" or record.wall_s is None:
                continue
            best = engine.baseline.setdefault(record.run, {})
            if record.wall_s < best.get("wall_s", float("inf")):
                best["wall_s"] = record.wall_s
                best["peak_rss_mb"] = record.peak_rss_mb or 0.0
                if record.db_bytes is not None:
                    best["db_bytes"] = record.db_bytes
                if record.statements is not None:
                    best["statements"] = record.statements


def parse_sizes(spec: str, benches: Iterable[Benchmark]) -> dict[str, tuple[int, ...]]:
    """Parse BENCH_SIZES: "2000,10000" for every task-count benchmark, or "fanout:2000 values:1"."""
    sizes: dict[str, tuple[int, ...]] = {}
    for part in spec.replace(";", " ").split():
        name, sep, numbers = part.rpartition(":")
        values = tuple(int(x.replace("_", "")) for x in numbers.split(",") if x)
        if sep:
            if name not in KNOWN:
                raise SystemExit(f"unknown benchmark {name!r} in sizes; known: {', '.join(KNOWN)}")
            sizes[name] = values
        else:
            sizes.update({b.name: values for b in benches if b.unit == "tasks"})
            sizes[LAG] = values
    return sizes


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A pipe table that reads aligned in a terminal and renders as Markdown."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    separator = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), separator, *(line(r) for r in cells)])


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def runs_table(
    records: Sequence[Record],
    lag_records: Sequence[LagRecord] = (),
    context: Sequence[Record] | None = None,
) -> str:
    """One row per run; `context` (all records so far) gives the 1,000-task rows to compare."""
    context = records if context is None else context
    lag_p99 = {(r.engine, r.n): r.p99_s for r in lag_records if r.status == "ok"}
    headers = [
        "engine",
        "benchmark",
        "n",
        "run",
        "status",
        "wall s",
        "per-task ms",
        "peak RSS MB",
        "SQL/task",
        f"vs {SCALE_BASE_N:,}",
        "DB B/task",
        "WAL MB",
        "lag p99 s",
        "load",
    ]
    rows = [
        [
            r.engine,
            r.benchmark,
            r.n,
            r.run,
            f"{r.status}: {r.error}" if r.error else r.status,
            r.wall_s,
            r.per_task_ms,
            r.peak_rss_mb,
            r.sql_per_task,
            _times(ratio_to_base(context, r)),
            r.db_bytes_per_task,
            None if r.wal_bytes is None else r.wal_bytes / 1e6,
            lag_p99.get((r.engine, r.n)) if r.benchmark == "fanout" and r.run == "first" else None,
            r.load1,
        ]
        for r in records
    ]
    return format_table(headers, rows)


def startup_table(engines: Sequence[Engine]) -> str:
    rows = []
    for e in engines:
        first, cached = e.baseline.get("first", {}), e.baseline.get("cached", {})
        rows.append(
            [
                e.label,
                e.version,
                _ms(e.import_s),
                _ms(e.help_s),
                first.get("wall_s"),
                cached.get("wall_s"),
                first.get("peak_rss_mb"),
            ]
        )
    headers = [
        "engine",
        "version",
        "import redun ms",
        "redun --help ms",
        "empty run s",
        "empty cached s",
        "empty RSS MB",
    ]
    return format_table(headers, rows)


def _times(ratio: float | None) -> str | None:
    return None if ratio is None else f"{ratio:.2f}x"


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def find(records: Sequence[Record], engine: str, bench: str, n: int, run: str) -> Record | None:
    for r in records:
        if (r.engine, r.benchmark, r.n, r.run) == (engine, bench, n, run):
            return r
    return None


def ratio_table(records: Sequence[Record], ours: str, theirs: str) -> str:
    """Ours against the reference, per benchmark, size and run: speedup, RSS, SQL."""
    rows = []
    for r in records:
        if r.engine != ours:
            continue
        other = find(records, theirs, r.benchmark, r.n, r.run)
        if other is None:
            continue
        both_ok = r.status == "ok" and other.status == "ok"
        speedup = other.wall_s / r.wall_s if both_ok and r.wall_s and other.wall_s else None
        rss = (
            r.peak_rss_mb / other.peak_rss_mb
            if both_ok and r.peak_rss_mb and other.peak_rss_mb
            else None
        )
        rows.append(
            [
                r.benchmark,
                r.n,
                r.run,
                r.wall_s if r.status == "ok" else r.status,
                other.wall_s if other.status == "ok" else other.status,
                f"{speedup:.1f}x" if speedup else None,
                r.sql_per_task,
                other.sql_per_task,
                f"{rss:.2f}" if rss else None,
            ]
        )
    headers = [
        "benchmark",
        "n",
        "run",
        f"{ours} s",
        f"{theirs} s",
        f"speedup ({theirs} / {ours})",
        f"{ours} SQL/task",
        f"{theirs} SQL/task",
        "RSS ours/theirs",
    ]
    return format_table(headers, rows)


@dataclass
class Target:
    """One of issue 6's targets with its measured value and verdict."""

    name: str
    measured: str
    verdict: str


def _speedup_target(
    records: Sequence[Record], ours: str, theirs: str | None, run: str, n: int, factor: int = 20
) -> Target:
    name = f"fan-out {n:,}, {run} run: >= {factor}x faster than redun 0.44.1"
    if theirs is None:
        return Target(name, "-", "n/a (make bench-compare)")
    mine, other = find(records, ours, "fanout", n, run), find(records, theirs, "fanout", n, run)
    if mine is None or other is None:
        return Target(name, "-", "not run")
    if mine.status != "ok" or mine.wall_s is None:
        return Target(name, f"ours {mine.status}", "unmet")
    if other.status != "ok" or other.wall_s is None:
        return Target(name, f"redun {other.status}", "not measured")
    speedup = other.wall_s / mine.wall_s
    measured = f"{speedup:.1f}x ({mine.wall_s:.2f} s vs {other.wall_s:.2f} s)"
    return Target(name, measured, "met" if speedup >= factor else "unmet")


def _limit_target(
    records: Sequence[Record],
    ours: str,
    name: str,
    key: tuple[str, int, str],
    attr: str,
    limit: float,
    unit: str,
) -> Target:
    record = find(records, ours, *key)
    if record is None:
        return Target(name, "-", "not run")
    value = getattr(record, attr)
    if record.status != "ok" or value is None:
        return Target(name, record.status, "unmet")
    return Target(name, f"{_cell(value)} {unit}", "met" if value < limit else "unmet")


def _completes_target(records: Sequence[Record], ours: str, bench: str, n: int) -> Target:
    name = f"{bench} of {n:,} nested calls completes"
    record = find(records, ours, bench, n, "first")
    if record is None:
        return Target(name, "-", "not run")
    detail = f"{record.wall_s:.1f} s" if record.wall_s is not None else "-"
    if record.status != "ok":
        detail = f"{record.status}: {record.error}" if record.error else record.status
    return Target(name, detail, "met" if record.status == "ok" else "unmet")


def _startup_target(name: str, seconds: float | None, limit_ms: float) -> Target:
    if seconds is None:
        return Target(name, "failed", "unmet")
    ms = seconds * 1000
    return Target(name, f"{ms:.0f} ms (best of runs)", "met" if ms < limit_ms else "unmet")


def _values_note(records: Sequence[Record], ours: Engine) -> Target:
    """Peak RSS over the empty run, in units of the value: an upper bound on live copies."""
    name = "large values pass through the scheduler at most once"
    record = find(records, ours.label, "values", 100, "first")
    base = ours.baseline.get("first", {}).get("peak_rss_mb")
    if record is None or record.status != "ok" or record.peak_rss_mb is None or base is None:
        return Target(name, "-", "not measured")
    copies = (record.peak_rss_mb - base) / (100 * 1024 * 1024 / 1e6)
    measured = f"peak RSS of 100 MiB run = empty run + {copies:.1f} x value"
    return Target(name, measured, "indicative only")


def evaluate_targets(
    records: Sequence[Record], ours: Engine, theirs: Engine | None
) -> list[Target]:
    """Issue 6's targets, each marked met, unmet, or why it could not be judged."""
    label, ref = ours.label, theirs.label if theirs else None
    big = ("fanout", 100_000)
    return [
        _speedup_target(records, label, ref, "first", 2_000),
        _speedup_target(records, label, ref, "cached", 2_000),
        _limit_target(
            records, label, "fan-out 100,000 under 60 s", (*big, "first"), "wall_s", 60, "s"
        ),
        _limit_target(
            records,
            label,
            "fan-out 100,000 peak RSS under 1.5 GB",
            (*big, "first"),
            "peak_rss_mb",
            1500,
            "MB",
        ),
        _limit_target(
            records,
            label,
            "fan-out 100,000 cached re-run under 30 s",
            (*big, "cached"),
            "wall_s",
            30,
            "s",
        ),
        _completes_target(records, label, "chain", 10_000),
        _completes_target(records, label, "recursion", 10_000),
        _startup_target("import redun under 100 ms", ours.import_s, 100),
        _startup_target("redun --help under 250 ms", ours.help_s, 250),
        _values_note(records, ours),
    ]


def targets_table(targets: Sequence[Target]) -> str:
    return format_table(
        ["target", "measured (ours)", "verdict"], [[t.name, t.measured, t.verdict] for t in targets]
    )


# -- issue 19: the durable floor, startup to the first task, scale --------------------


def scaled_timeout(timeout_s: float, tasks: int) -> float:
    """The per-run timeout, raised to TIMEOUT_PER_TASK_S per task for large runs."""
    return max(timeout_s, tasks * TIMEOUT_PER_TASK_S)


def floor_repeats(n: int, repeat: int) -> int:
    """Best of `repeat` floor runs, but only as many as FLOOR_TASK_BUDGET tasks allow."""
    return max(1, min(repeat, FLOOR_TASK_BUDGET // max(n, 1)))


def run_floor(
    engine: Engine, n: int, tmp_root: Path, timeout_s: float, repeat: int
) -> list[FloorRecord]:
    """bench/floor.py at size n, first run then cached, best of floor_repeats(n, repeat)."""
    best: dict[str, FloorRecord] = {}
    repeats = floor_repeats(n, repeat)
    for _ in range(repeats):
        workdir = Path(tempfile.mkdtemp(prefix=f"floor-{n}-", dir=tmp_root))
        try:
            for run in RUNS:
                record = _floor_once(engine, n, run, workdir / DB_NAME, timeout_s)
                record.repeats = repeats
                kept = best.get(run)
                if kept is None or kept.status != "ok":
                    best[run] = record
                elif record.status == "ok" and record.per_task_ms < kept.per_task_ms:
                    best[run] = record
                if record.status != "ok":
                    break
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return [best.get(run) or FloorRecord(n, run, "skipped", repeats=repeats) for run in RUNS]


def _floor_once(engine: Engine, n: int, run: str, db: Path, timeout_s: float) -> FloorRecord:
    argv = [str(engine.python), str(FLOOR), "--n", str(n), "--db", str(db), "--run", run]
    try:
        done = subprocess.run(
            argv, env=child_env(None), capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return FloorRecord(n, run, "timeout")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        errors = done.stderr.strip().splitlines()
        return FloorRecord(n, run, "failed", error=errors[-1] if errors else "no output")
    report = json.loads(lines[-1])
    return FloorRecord(
        n,
        run,
        "ok",
        tasks=report["tasks"],
        seconds=report["seconds"],
        per_task_ms=report["per_task_ms"],
        db_bytes=report["db_bytes"],
        db_bytes_per_task=report["db_bytes_per_task"],
    )


def find_floor(floors: Sequence[FloorRecord], n: int, run: str) -> FloorRecord | None:
    for f in floors:
        if (f.n, f.run) == (n, run):
            return f
    return None


def floor_ratio(record: Record, floor: FloorRecord | None) -> float | None:
    """Our per-task cost over the floor's at the same size and run kind."""
    if record.status != "ok" or record.per_task_ms is None or floor is None:
        return None
    if floor.status != "ok" or not floor.per_task_ms:
        return None
    return record.per_task_ms / floor.per_task_ms


def floor_table(records: Sequence[Record], floors: Sequence[FloorRecord], ours: str) -> str:
    rows = []
    for f in floors:
        mine = find(records, ours, "fanout", f.n, f.run)
        ratio = floor_ratio(mine, f) if mine is not None else None
        rows.append(
            [
                f.n,
                f.run,
                f"{f.status}: {f.error}" if f.error else f.status,
                mine.per_task_ms if mine is not None else None,
                f.per_task_ms,
                f"{ratio:.2f}x" if ratio is not None else None,
                f"{FLOOR_LIMITS[f.run]:g}x",
                f.db_bytes_per_task,
                f.repeats,
            ]
        )
    headers = [
        "fan-out n",
        "run",
        "floor status",
        f"{ours} per-task ms",
        "floor per-task ms",
        f"{ours} / floor",
        "target",
        "floor DB B/task",
        "floor best of",
    ]
    return format_table(headers, rows)


def floor_target(
    records: Sequence[Record], floors: Sequence[FloorRecord], ours: str, run: str
) -> Target:
    """Issue 19 target 2, judged at the largest fan-out size (where startup noise is least).

    At 1,000 tasks the per-task figure is within noise of the floor itself
    (the empty run's spread over a thousand tasks), so smaller sizes are
    listed beside it but do not decide.
    """
    limit = FLOOR_LIMITS[run]
    name = f"fan-out {run} run: at most {limit:g}x the durable floor per task (largest size)"
    pairs = []
    for f in sorted(floors, key=lambda f: f.n, reverse=True):
        mine = find(records, ours, "fanout", f.n, f.run)
        if f.run == run and mine is not None:
            pairs.append((f, mine, floor_ratio(mine, f)))
    if not pairs:
        return Target(name, "-", "not run")
    (floor, mine, ratio), others = pairs[0], pairs[1:]
    if ratio is None:
        status = mine.status if mine.status != "ok" else f"floor {floor.status}"
        return Target(name, f"{status} at {floor.n:,}", "unmet")
    parts = [f"{ratio:.2f}x at {floor.n:,} ({mine.per_task_ms:.3f} vs {floor.per_task_ms:.3f} ms)"]
    parts += [f"{f.n:,}: {r:.2f}x" for f, _, r in others if r is not None]
    return Target(name, "; ".join(parts), "met" if ratio <= limit else "unmet")


def ratio_to_base(records: Sequence[Record], record: Record) -> float | None:
    """Per-task cost over the same engine's, benchmark's and run kind's at 1,000 tasks."""
    base = find(records, record.engine, record.benchmark, SCALE_BASE_N, record.run)
    if base is None or record.status != "ok" or base.status != "ok":
        return None
    if record.per_task_ms is None or not base.per_task_ms or base.per_task_ms <= 0:
        return None
    return record.per_task_ms / base.per_task_ms


def flat_target(records: Sequence[Record], ours: str, bench: str, run: str) -> Target:
    """Issue 19 target 1: per-task cost at 100,000 and 1,000,000 within 1.5x of 1,000."""
    sizes = " and ".join(f"{n:,}" for n in SCALE_SIZES)
    name = (
        f"{bench} {run} run: per-task cost at {sizes} within "
        f"{SCALE_FLAT_LIMIT:g}x of {SCALE_BASE_N:,}"
    )
    parts, fine = [], []
    for n in SCALE_SIZES:
        record = find(records, ours, bench, n, run)
        if record is None:
            parts.append(f"{n:,} not run")
            continue
        ratio = ratio_to_base(records, record)
        if ratio is None:
            parts.append(f"{n:,} {record.status}" if record.status != "ok" else f"{n:,} -")
            fine.append(False)
            continue
        parts.append(f"{n:,}: {ratio:.2f}x")
        fine.append(ratio <= SCALE_FLAT_LIMIT)
    if not fine:
        verdict = "not run"
    elif not all(fine):
        verdict = "unmet"
    else:
        verdict = "met" if len(fine) == len(SCALE_SIZES) else "met where run"
    return Target(name, "; ".join(parts), verdict)


def million_target(records: Sequence[Record], ours: str, bench: str) -> Target:
    """Issue 19 target 3: a million tasks, both runs, under 2 GB and 2 KB of database per task."""
    name = (
        f"{bench} {MILLION:,}: first and cached complete, peak RSS under "
        f"{MILLION_RSS_MB / 1000:g} GB, database under {MILLION_DB_BYTES_PER_TASK / 1000:g} KB/task"
    )
    first, cached = (find(records, ours, bench, MILLION, run) for run in RUNS)
    if first is None:
        return Target(name, "-", "not run")
    parts, fine = [], []
    for record in (first, cached):
        if record is None or record.status != "ok":
            status = record.status if record is not None else "not run"
            parts.append(f"{record.run if record else 'cached'} {status}")
            fine.append(False)
            continue
        rss = record.peak_rss_mb or 0.0
        parts.append(f"{record.run} {record.wall_s:.0f} s, {rss:.0f} MB")
        fine.append(rss < MILLION_RSS_MB)
    per_task = first.db_bytes_per_task
    if per_task is None:
        fine.append(False)
    else:
        parts.append(f"{per_task:,.0f} B/task")
        fine.append(per_task < MILLION_DB_BYTES_PER_TASK)
    return Target(name, "; ".join(parts), "met" if all(fine) else "unmet")


def issue19_targets(
    records: Sequence[Record], floors: Sequence[FloorRecord], ours: str, theirs: str | None
) -> list[Target]:
    """Issue 19's targets the runner can judge (1, 2, 3, 6; 7 is lag_target)."""
    targets = [floor_target(records, floors, ours, run) for run in RUNS]
    for bench in ("fanout", "map2"):
        targets += [flat_target(records, ours, bench, run) for run in RUNS]
        targets.append(million_target(records, ours, bench))
    targets.append(_speedup_target(records, ours, theirs, "first", 2_000, factor=100))
    targets.append(_speedup_target(records, ours, theirs, "cached", 2_000, factor=50))
    return targets


def first_task_latency(
    engine: Engine, workdir: Path, stamp: Path, timeout_s: float
) -> float | None:
    """Seconds from just before launching `redun run startup.py` to its task's first line."""
    config_dir = workdir / "config"
    if not config_dir.exists():
        config_dir = write_config(workdir)
    argv = [str(engine.redun), "-c", str(config_dir), "run", str(STARTUP_WORKFLOW), "main"]
    argv += ["--stamp", str(stamp)]
    launched = time.time()
    try:
        done = subprocess.run(
            argv,
            cwd=workdir,
            env=child_env(None),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0 or not stamp.exists():
        return None
    return float(stamp.read_text()) - launched


def measure_first_task(engine: Engine, tmp_root: Path, timeout_s: float, repeat: int) -> None:
    """Best of `repeat` launches to the first task: each on a new database, then on one kept.

    On the kept database every launch passes a new stamp path, so the task is
    never a cache hit and its body always runs.
    """
    fresh: list[float] = []
    for index in range(repeat):
        workdir = Path(tempfile.mkdtemp(prefix=f"{engine.label}-startup-", dir=tmp_root))
        latency = first_task_latency(engine, workdir, workdir / f"stamp-{index}", timeout_s)
        shutil.rmtree(workdir, ignore_errors=True)
        if latency is not None:
            fresh.append(latency)
    workdir = Path(tempfile.mkdtemp(prefix=f"{engine.label}-startup-kept-", dir=tmp_root))
    existing: list[float] = []
    try:
        # The first launch creates the database; only the ones after it count.
        for index in range(repeat + 1):
            latency = first_task_latency(engine, workdir, workdir / f"stamp-{index}", timeout_s)
            if latency is not None and index > 0:
                existing.append(latency)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    engine.first_task_s = min(fresh) if fresh else None
    engine.first_task_existing_s = min(existing) if existing else None


def parse_importtime(text: str, package: str = "redun", top: int = 10) -> dict[str, Any]:
    """Sum `python -X importtime` output: every import's self time, the package's cumulative.

    Lines read ``import time: SELF_US | CUMULATIVE_US | <indent>NAME``, with
    one more space of indent per level of nesting; the header line and
    anything else on stderr are skipped. `roots` are the top-level imports
    (what the command itself imported) by cumulative time.
    """
    selfs: list[tuple[float, str]] = []
    roots: list[tuple[float, str]] = []
    package_us = None
    for line in text.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue
        self_us, cumulative_us, name = int(fields[0]), int(fields[1]), fields[2].strip()
        selfs.append((self_us / 1000, name))
        if len(fields[2]) - len(fields[2].lstrip()) == 1:
            roots.append((cumulative_us / 1000, name))
        if name == package:
            package_us = cumulative_us
    return {
        "total_ms": sum(ms for ms, _ in selfs),
        "package_ms": None if package_us is None else package_us / 1000,
        "modules": len(selfs),
        "slowest": [[name, ms] for ms, name in sorted(selfs, reverse=True)[:top]],
        "roots": [[name, ms] for ms, name in sorted(roots, reverse=True)[:top]],
    }


def best_importtime(argv: Sequence[str], repeat: int, cwd: Path | None = None) -> dict | None:
    """`python -X importtime ...`: the profile with the smallest total of `repeat` runs."""
    best: dict[str, Any] | None = None
    for _ in range(repeat):
        done = subprocess.run(argv, cwd=cwd, env=child_env(None), capture_output=True, text=True)
        if done.returncode != 0:
            return None
        profile = parse_importtime(done.stderr)
        if best is None or profile["total_ms"] < best["total_ms"]:
            best = profile
    return best


def measure_importtime(engine: Engine, tmp_root: Path, repeat: int) -> None:
    """`-X importtime` of `import redun`, and of `redun run startup.py` on a kept database.

    The second is everything imported on the way to the first task (the
    workflow, the CLI, the database layer), as the command imports it.
    """
    python = str(engine.python)
    engine.importtime = best_importtime([python, "-X", "importtime", "-c", "import redun"], repeat)
    workdir = Path(tempfile.mkdtemp(prefix=f"{engine.label}-importtime-", dir=tmp_root))
    try:
        config_dir = write_config(workdir)
        argv = [python, "-X", "importtime", str(engine.redun), "-c", str(config_dir), "run"]
        argv += [str(STARTUP_WORKFLOW), "main", "--stamp", str(workdir / "stamp")]
        engine.run_importtime = best_importtime(argv, repeat, cwd=workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def first_task_table(engines: Sequence[Engine]) -> str:
    rows = []
    for e in engines:
        profile, run = e.importtime or {}, e.run_importtime or {}
        rows.append(
            [
                e.label,
                _ms(e.first_task_s),
                _ms(e.first_task_existing_s),
                profile.get("package_ms"),
                profile.get("modules"),
                run.get("total_ms"),
                run.get("modules"),
            ]
        )
    headers = [
        "engine",
        "launch to first task ms (new db)",
        "(existing db)",
        "import redun ms (-X importtime)",
        "modules",
        "redun run: all imports ms",
        "modules",
    ]
    return format_table(headers, rows)


def imports_table(engine: Engine) -> str:
    """What `redun run` imports before its first task: top-level imports, then slowest modules."""
    run = engine.run_importtime or {}
    roots, slowest = run.get("roots", []), run.get("slowest", [])
    rows = []
    for index in range(max(len(roots), len(slowest))):
        root = roots[index] if index < len(roots) else [None, None]
        slow = slowest[index] if index < len(slowest) else [None, None]
        rows.append([*root, *slow])
    headers = ["top-level import", "cumulative ms", "module", "self ms"]
    return format_table(headers, rows)


def parse_engine(spec: str) -> Engine:
    label, sep, path = spec.partition("=")
    if not sep or not label or not path:
        raise argparse.ArgumentTypeError(f"expected LABEL=PATH_TO_REDUN, got {spec!r}")
    exe = Path(path).resolve()
    if not exe.exists():
        raise argparse.ArgumentTypeError(f"no redun executable at {exe}")
    return Engine(label, exe)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--engine",
        action="append",
        type=parse_engine,
        required=True,
        help="LABEL=PATH to a redun executable; give two to compare (first is ours)",
    )
    parser.add_argument("--compare", action="store_true", help="compare sizes, ratios, targets")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--sizes", default="", help='"2000,10000" or "fanout:2000 values:1"')
    parser.add_argument(
        "--timeout",
        type=float,
        default=900,
        help=f"seconds per run (at least {TIMEOUT_PER_TASK_S * 1000:g} ms per task)",
    )
    parser.add_argument("--startup-repeat", type=int, default=5)
    parser.add_argument("--baseline-repeat", type=int, default=3)
    parser.add_argument(
        "--floor-repeat", type=int, default=3, help="best of this many durable-floor runs"
    )
    parser.add_argument(
        "--no-lag-beside",
        dest="lag_beside",
        action="store_false",
        help="do not run the lag workflow at every fan-out size",
    )
    parser.add_argument("--tmpdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results")
    args = parser.parse_args(argv)
    if args.compare and len(args.engine) != 2:
        parser.error("--compare needs exactly two --engine options (ours first)")
    return args


def plan(args: argparse.Namespace) -> tuple[list[tuple[Benchmark, int]], tuple[int, ...]]:
    """The (benchmark, size) runs, and the sizes of the recording-lag benchmark.

    Every fan-out size is also a lag size (issue 19: the lag beside the speed),
    unless --no-lag-beside.
    """
    names = [x for x in args.only.split(",") if x]
    unknown = [x for x in names if x not in KNOWN]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; known: {', '.join(KNOWN)}")
    benches = [BY_NAME[x] for x in names if x in BY_NAME] if names else list(BENCHMARKS)
    sizes = parse_sizes(args.sizes, benches)
    items = []
    for bench in benches:
        default = bench.compare_sizes if args.compare else bench.sizes
        items += [(bench, n) for n in sizes.get(bench.name, default)]
    lag_sizes: tuple[int, ...] = ()
    if not names or LAG in names:
        lag_sizes = sizes.get(LAG, LAG_COMPARE_SIZES if args.compare else LAG_SIZES)
    if args.lag_beside:
        fanout_sizes = [n for bench, n in items if bench.name == "fanout" and n > 0]
        lag_sizes = tuple(sorted({*lag_sizes, *fanout_sizes}))
    return items, lag_sizes


def run_lag(engine: Engine, n: int, tmp_root: Path, timeout_s: float) -> LagRecord:
    """The lag workflow at size n on a fresh SQLite file, watched by recording_lag."""
    measure_lag = _sibling("recording_lag").measure_lag
    workdir = Path(tempfile.mkdtemp(prefix=f"{engine.label}-lag-{n}-", dir=tmp_root))
    config_dir = write_config(workdir)
    log = workdir / "finished.log"
    argv = [str(engine.redun), "-c", str(config_dir), "run", str(WORKFLOWS / "lag.py"), "main"]
    argv += ["--n", str(n), "--log", str(log)]
    load1 = os.getloadavg()[0]
    result = measure_lag(argv, workdir, child_env(None), workdir / "redun.db", log, timeout_s)
    kill_group_quietly(result.pid)
    if result.returncode is None:
        return LagRecord(engine.label, n, "timeout", wall_s=result.wall_s, load1=load1)
    if result.returncode != 0 or result.seen < n:
        error = f"exit code {result.returncode}, {result.seen} of {n} jobs seen"
        return LagRecord(engine.label, n, "failed", wall_s=result.wall_s, error=error)
    return LagRecord(
        engine.label,
        n,
        "ok",
        p50_s=result.p50_s,
        p99_s=result.p99_s,
        max_s=result.max_s,
        wall_s=result.wall_s,
        load1=load1,
    )


def _sibling(name: str) -> ModuleType:
    """A module next to this script (run as a script or loaded by path from tests)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def lag_table(records: Sequence[LagRecord]) -> str:
    return format_table(
        ["engine", "n", "status", "lag p50 s", "lag p99 s", "lag max s", "wall s", "load"],
        [
            [
                r.engine,
                r.n,
                f"{r.status} ({r.error})" if r.error else r.status,
                r.p50_s,
                r.p99_s,
                r.max_s,
                r.wall_s,
                r.load1,
            ]
            for r in records
        ],
    )


def lag_target(records: Sequence[LagRecord], ours: str) -> Target:
    """Issues 13 and 19: the worst lag p99 over every size run (a failed run fails it)."""
    name = f"a finished job is durable within about {LAG_TARGET_S:g} s (lag p99, every size)"
    mine = [r for r in records if r.engine == ours and r.status != "skipped"]
    runs = [r for r in mine if r.status == "ok"]
    if not runs:
        return Target(name, "-", "not run")
    worst = max(runs, key=lambda r: (r.p99_s, r.n))
    measured = f"worst {worst.p99_s:.2f} s at {worst.n:,}"
    failed = [r for r in mine if r.status != "ok"]
    if failed:
        measured += f"; {failed[0].status} at {failed[0].n:,}"
    verdict = "met" if worst.p99_s <= LAG_TARGET_S and not failed else "unmet"
    return Target(name, measured, verdict)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    engines: list[Engine] = args.engine
    items, lag_sizes = plan(args)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load_start = os.getloadavg()
    tmp_root = Path(tempfile.mkdtemp(prefix="redun-bench-", dir=args.tmpdir))
    records: list[Record] = []
    lag_records: list[LagRecord] = []
    floors: list[FloorRecord] = []
    try:
        for engine in engines:
            engine.version = engine_version(engine)
            engine.import_s = best_wall(
                [str(engine.python), "-c", "import redun"], args.startup_repeat
            )
            engine.help_s = best_wall([str(engine.redun), "--help"], args.startup_repeat)
            measure_baseline(engine, tmp_root, args.timeout, args.baseline_repeat)
            measure_first_task(engine, tmp_root, args.timeout, args.startup_repeat)
            measure_importtime(engine, tmp_root, args.startup_repeat)
            progress(f"{engine.label} {engine.version}: startup measured")
        for index, (bench, n) in enumerate(items):
            # Alternate which engine goes first so drift in machine load hits both alike.
            order = engines[index % len(engines) :] + engines[: index % len(engines)]
            for engine in order:
                if args.compare and engine is engines[1] and n > bench.reference_max:
                    for run in RUNS:
                        note = f"above {bench.reference_max:,} for the reference"
                        records.append(
                            Record(engine.label, bench.name, n, run, "skipped", error=note)
                        )
                    continue
                timeout_s = scaled_timeout(args.timeout, bench.tasks(n))
                for record in run_pair(engine, bench, n, tmp_root, timeout_s):
                    records.append(record)
                    progress(runs_table([record], context=records).splitlines()[-1])
            if bench.name == "fanout":
                timeout_s = scaled_timeout(args.timeout, bench.tasks(n))
                floors += run_floor(engines[0], n, tmp_root, timeout_s, args.floor_repeat)
                table = floor_table(records, floors[-2:], engines[0].label)
                progress("\n".join(table.splitlines()[-2:]))
        for index, n in enumerate(lag_sizes):
            order = engines[index % len(engines) :] + engines[: index % len(engines)]
            for engine in order:
                if args.compare and engine is engines[1] and n > LAG_REFERENCE_MAX:
                    note = f"above {LAG_REFERENCE_MAX:,} for the reference"
                    lag_records.append(LagRecord(engine.label, n, "skipped", error=note))
                    continue
                timeout_s = scaled_timeout(args.timeout, n + 2)
                lag_records.append(run_lag(engine, n, tmp_root, timeout_s))
                progress(lag_table(lag_records[-1:]).splitlines()[-1])
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)

    ours = engines[0]
    theirs = engines[1] if args.compare else None
    targets = evaluate_targets(records, ours, theirs)
    sections = [
        "## Startup\n\n" + startup_table(engines),
        "## Startup to the first task (issue 19)\n\n" + first_task_table(engines),
        f"## Imports of `redun run` before the first task ({ours.label}, -X importtime)\n\n"
        + imports_table(ours),
    ]
    if records:
        sections.append("## Runs\n\n" + runs_table(records, lag_records))
    if floors:
        sections.append(
            "## Against the durable floor (bench/floor.py)\n\n"
            + floor_table(records, floors, ours.label)
        )
    if lag_records:
        sections.append("## Recording lag\n\n" + lag_table(lag_records))
    if theirs is not None and records:
        sections.append(
            "## Ours against the reference\n\n" + ratio_table(records, ours.label, theirs.label)
        )
    targets.append(lag_target(lag_records, ours.label))
    targets += issue19_targets(records, floors, ours.label, theirs.label if theirs else None)
    sections.append("## Targets (issues 6, 13 and 19)\n\n" + targets_table(targets))
    print("\n\n".join(sections))

    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"{started.replace(':', '')}-{'compare' if args.compare else 'bench'}.json"
    payload = {
        "started": started,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_start": load_start,
            "loadavg_end": os.getloadavg(),
        },
        "engines": [
            {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(e).items()}
            for e in engines
        ],
        "runs": [asdict(r) for r in records],
        "lag": [asdict(r) for r in lag_records],
        "floor": [asdict(f) for f in floors],
        "targets": [asdict(t) for t in targets],
    }
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
