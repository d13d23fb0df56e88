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

BENCH_DIR = Path(__file__).resolve().parent
LAUNCHER = BENCH_DIR / "rusage_launch.py"
WORKFLOWS = BENCH_DIR / "workflows"
SQLCOUNT_DIR = BENCH_DIR / "sqlcount"
SQL_DIR_ENV = "REDUN_BENCH_SQL_DIR"
RUNS = ("first", "cached")


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
KNOWN = (*BY_NAME, LAG)

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
    (config_dir / "redun.ini").write_text(REDUN_INI.format(db=workdir / "redun.db"))
    return config_dir


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
        for run in RUNS:
            if records and records[-1].status != "ok":
                records.append(Record(engine.label, bench.name, n, run, "skipped"))
                continue
            load1 = os.getloadavg()[0]
            measurement = measure(argv, workdir / run, timeout_s)
            records.append(make_record(engine, bench, n, run, measurement, load1))
        return records
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def make_record(
    engine: Engine, bench: Benchmark, n: int, run: str, m: Measurement, load1: float
) -> Record:
    """Turn a measurement into a row, with per-task figures net of the engine's startup."""
    status, error = status_of(m, bench.expected(n))
    tasks = bench.tasks(n)
    base = engine.baseline.get(run, {})
    per_task = sql_per_task = None
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


def runs_table(records: Sequence[Record]) -> str:
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
    records: Sequence[Record], ours: str, theirs: str | None, run: str, n: int
) -> Target:
    name = f"fan-out {n:,}, {run} run: >= 20x faster than redun 0.44.1"
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
    return Target(name, measured, "met" if speedup >= 20 else "unmet")


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
    parser.add_argument("--timeout", type=float, default=900, help="seconds per run")
    parser.add_argument("--startup-repeat", type=int, default=5)
    parser.add_argument("--baseline-repeat", type=int, default=3)
    parser.add_argument("--tmpdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results")
    args = parser.parse_args(argv)
    if args.compare and len(args.engine) != 2:
        parser.error("--compare needs exactly two --engine options (ours first)")
    return args


def plan(args: argparse.Namespace) -> tuple[list[tuple[Benchmark, int]], tuple[int, ...]]:
    """The (benchmark, size) runs, and the sizes of the recording-lag benchmark."""
    names = [x for x in args.only.split(",") if x]
    unknown = [x for x in names if x not in KNOWN]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; known: {', '.join(KNOWN)}")
    benches = [BY_NAME[x] for x in names if x != LAG] if names else list(BENCHMARKS)
    sizes = parse_sizes(args.sizes, benches)
    items = []
    for bench in benches:
        default = bench.compare_sizes if args.compare else bench.sizes
        items += [(bench, n) for n in sizes.get(bench.name, default)]
    lag_sizes: tuple[int, ...] = ()
    if not names or LAG in names:
        lag_sizes = sizes.get(LAG, LAG_COMPARE_SIZES if args.compare else LAG_SIZES)
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
    name = f"a finished job is durable within about {LAG_TARGET_S:g} s (lag p99, largest fan-out)"
    runs = [r for r in records if r.engine == ours and r.status == "ok"]
    if not runs:
        return Target(name, "-", "not run")
    worst = max(runs, key=lambda r: r.n)
    measured = f"{worst.p99_s:.2f} s at {worst.n:,}"
    return Target(name, measured, "met" if worst.p99_s <= LAG_TARGET_S else "unmet")


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
    try:
        for engine in engines:
            engine.version = engine_version(engine)
            engine.import_s = best_wall(
                [str(engine.python), "-c", "import redun"], args.startup_repeat
            )
            engine.help_s = best_wall([str(engine.redun), "--help"], args.startup_repeat)
            measure_baseline(engine, tmp_root, args.timeout, args.baseline_repeat)
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
                for record in run_pair(engine, bench, n, tmp_root, args.timeout):
                    records.append(record)
                    progress(runs_table([record]).splitlines()[-1])
        for index, n in enumerate(lag_sizes):
            order = engines[index % len(engines) :] + engines[: index % len(engines)]
            for engine in order:
                if args.compare and engine is engines[1] and n > LAG_REFERENCE_MAX:
                    note = f"above {LAG_REFERENCE_MAX:,} for the reference"
                    lag_records.append(LagRecord(engine.label, n, "skipped", error=note))
                    continue
                lag_records.append(run_lag(engine, n, tmp_root, args.timeout))
                progress(lag_table(lag_records[-1:]).splitlines()[-1])
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)

    ours = engines[0]
    theirs = engines[1] if args.compare else None
    targets = evaluate_targets(records, ours, theirs)
    sections = ["## Startup\n\n" + startup_table(engines)]
    if records:
        sections.append("## Runs\n\n" + runs_table(records))
    if lag_records:
        sections.append("## Recording lag\n\n" + lag_table(lag_records))
    if theirs is not None and records:
        sections.append(
            "## Ours against the reference\n\n" + ratio_table(records, ours.label, theirs.label)
        )
    targets.append(lag_target(lag_records, ours.label))
    sections.append("## Targets (issues 6 and 13)\n\n" + targets_table(targets))
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
        "targets": [asdict(t) for t in targets],
    }
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
