"""PostgreSQL against SQLite: the same fan-out, first run and cached re-run, side by side.

Issue 19 target 4 asks for PostgreSQL within 1.3x of SQLite on the same
workflow. This script starts a throwaway PostgreSQL cluster (Debian's server
binaries, loopback only, in a temporary directory), then for each size runs
``redun run fanout.py main --n N`` on a fresh SQLite file and on a fresh
PostgreSQL database, alternating which goes first, best of ``--repeat``.

Both repositories get their schema with ``redun db upgrade`` before the timed
first run (untimed), as a PostgreSQL user does once per database; so the
first run is the workflow's, not the migration's, on both.

``--pg-settings`` picks the server's durability settings:

- ``durable`` (default): the server's defaults (fsync, synchronous_commit,
  full_page_writes on), what a user's server runs;
- ``test``: what the test suite's server runs (fsync, full_page_writes and
  synchronous_commit off), cheaper commits that a crash can lose.

Stdlib only, like bench/run.py: it runs the engine through its ``redun``
command and never imports it. ``--sqlcount`` counts SQL statements per run
(bench/sqlcount); ``--cprofile DIR`` writes one cProfile file per run.

    .venv/bin/python bench/pg_vs_sqlite.py --sizes 2000,10000 --repeat 3
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
FANOUT = BENCH_DIR / "workflows" / "fanout.py"
LAG = BENCH_DIR / "workflows" / "lag.py"
LAG_TASK = "bench.lag.stamp"
POLL_S = 0.02
# Run by the engine's own interpreter (it has psycopg): polls PostgreSQL as
# recording_lag.py polls SQLite, printing {i: first time seen} as JSON at the end.
PG_POLLER = f"""
import json, os, pickle, sys, time
import psycopg
seen, last = {{}}, None
def poll(db):
    global last
    rows = db.execute(
        "SELECT c.timestamp, v.value FROM call_node c JOIN value v "
        "ON v.value_hash = c.value_hash WHERE c.task_name = %s "
        "AND (%s::timestamptz IS NULL OR c.timestamp >= %s)",
        ({LAG_TASK!r}, last, last),
    ).fetchall()
    now = time.time()
    for stamp, value in rows:
        last = stamp if last is None else max(last, stamp)
        seen.setdefault(pickle.loads(value), now)
with psycopg.connect(sys.argv[1], autocommit=True) as db:
    while not os.path.exists(sys.argv[2]):
        poll(db)
        time.sleep({POLL_S})
    poll(db)
print(json.dumps(seen))
"""
SQLCOUNT_DIR = BENCH_DIR / "sqlcount"
PG_SETTINGS = {
    "durable": [],
    "test": ["-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off"],
}


def _pg_bin() -> Path:
    candidates = [os.environ.get("REDUN_TEST_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    sys.exit("error: PostgreSQL server binaries (initdb, pg_ctl) not found; set REDUN_TEST_PG_BIN")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A throwaway cluster on 127.0.0.1 with the chosen durability settings."""

    def __init__(self, root: Path, settings: str) -> None:
        self.bin = _pg_bin()
        self.data = root / "data"
        self.port = _free_port()
        self.settings = settings
        self.root = root
        self._count = 0

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust")
        options = " ".join(
            [f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data}"]
            + [
                f"{a} {b}"
                for a, b in zip(PG_SETTINGS[self.settings][::2], PG_SETTINGS[self.settings][1::2])
            ]
        )
        log = str(self.root / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-o", options, "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def new_database(self) -> str:
        self._count += 1
        name = f"bench_{self._count}"
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


@contextmanager
def running_server(settings: str) -> Iterator[Server]:
    root = Path(tempfile.mkdtemp(prefix="redun-pgbench-"))
    server = Server(root, settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _run_once(
    redun: str, config: Path, n: int, sql_dir: Path | None, profile: Path | None
) -> tuple[float, int | None]:
    """Wall seconds of one ``redun run``, and its SQL statement count (with --sqlcount)."""
    env = dict(os.environ)
    argv = [redun, "-c", str(config), "run", str(FANOUT), "main", "--n", str(n)]
    if profile is not None:
        python = str(Path(redun).parent / "python")
        argv = [python, "-m", "cProfile", "-o", str(profile), *argv]
    if sql_dir is not None:
        shutil.rmtree(sql_dir, ignore_errors=True)
        sql_dir.mkdir()
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(SQLCOUNT_DIR), env.get("PYTHONPATH")])
        )
        env["REDUN_BENCH_SQL_DIR"] = str(sql_dir)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=config.parent, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    expected = str(n * (n - 1) // 2)
    if done.returncode != 0 or not lines or lines[-1].strip() != expected:
        tail = (done.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        sys.exit(f"error: run failed (exit {done.returncode}, n={n}): {tail}")
    statements = None
    if sql_dir is not None:
        statements = sum(int(p.read_text().split()[0]) for p in sql_dir.glob("*.sql"))
    return wall, statements


def _lag(
    redun: str, engine: str, config: Path, n: int, db_uri: str
) -> dict[str, float | int | None]:
    """Recording lag of lag.py at size n: p50/p99/max of (durable time - finish time)."""
    root = config.parent
    log = root / "finished.log"
    argv = [redun, "-c", str(config), "run", str(LAG), "main", "--n", str(n), "--log", str(log)]
    if engine == "sqlite":
        sys.path.insert(0, str(BENCH_DIR))
        from recording_lag import measure_lag

        result = measure_lag(argv, root, dict(os.environ), config / "redun.db", log, 900)
        return {
            "p50_s": result.p50_s,
            "p99_s": result.p99_s,
            "max_s": result.max_s,
            "wall_s": result.wall_s,
            "seen": result.seen,
        }
    stop = root / "stop"
    python = str(Path(redun).parent / "python")
    poller = subprocess.Popen(
        [python, "-c", PG_POLLER, db_uri, str(stop)], stdout=subprocess.PIPE, text=True
    )
    start = time.perf_counter()
    subprocess.run(argv, cwd=root, capture_output=True, check=True)
    wall = time.perf_counter() - start
    stop.touch()
    out, _ = poller.communicate(timeout=120)
    durable = {int(i): t for i, t in json.loads(out).items()}
    finished = {
        int(i): float(t) for i, t in (line.split() for line in log.read_text().splitlines())
    }
    lags = sorted(max(0.0, durable[i] - t) for i, t in finished.items() if i in durable)
    return {
        "p50_s": _percentile(lags, 0.5),
        "p99_s": _percentile(lags, 0.99),
        "max_s": lags[-1] if lags else None,
        "wall_s": wall,
        "seen": len(durable),
    }


def _percentile(ordered: list[float], fraction: float) -> float | None:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else None


def _repository(root: Path, redun: str, db_uri: str) -> Path:
    """A config directory for `db_uri`, its schema created (untimed)."""
    root.mkdir(parents=True)
    config = root / ".redun"
    config.mkdir()
    (config / "redun.ini").write_text(f"[backend]\ndb_uri = {db_uri}\n")
    subprocess.run(
        [redun, "-c", str(config), "db", "upgrade"], cwd=root, check=True, capture_output=True
    )
    return config


def measure(args: argparse.Namespace) -> dict:
    results: dict = {"runs": [], "pg_settings": args.pg_settings, "load_start": os.getloadavg()}
    scratch = Path(tempfile.mkdtemp(prefix="redun-pgbench-runs-"))
    sql_dir = scratch / "sql" if args.sqlcount else None
    with running_server(args.pg_settings) as server:
        for n in args.sizes:
            for rep in range(args.repeat):
                engines = ["sqlite", "postgres"] if rep % 2 == 0 else ["postgres", "sqlite"]
                for engine in engines:
                    root = scratch / f"{engine}-{n}-{rep}"
                    db_uri = (
                        f"sqlite:///{root}/.redun/redun.db"
                        if engine == "sqlite"
                        else server.new_database()
                    )
                    config = _repository(root, args.redun, db_uri)
                    for kind in ("first", "cached"):
                        profile = (
                            Path(args.cprofile) / f"{engine}-{n}-{kind}-{rep}.prof"
                            if args.cprofile
                            else None
                        )
                        wall, statements = _run_once(args.redun, config, n, sql_dir, profile)
                        run = {
                            "engine": engine,
                            "n": n,
                            "kind": kind,
                            "rep": rep,
                            "wall_s": round(wall, 3),
                            "statements": statements,
                            "load": os.getloadavg()[0],
                        }
                        results["runs"].append(run)
                        print(json.dumps(run), file=sys.stderr)
                    shutil.rmtree(root, ignore_errors=True)
        for n in args.lag:
            for engine in ("sqlite", "postgres"):
                root = scratch / f"lag-{engine}-{n}"
                db_uri = (
                    f"sqlite:///{root}/.redun/redun.db"
                    if engine == "sqlite"
                    else server.new_database()
                )
                config = _repository(root, args.redun, db_uri)
                lag = {"engine": engine, "n": n, **_lag(args.redun, engine, config, n, db_uri)}
                lag["load"] = os.getloadavg()[0]
                results.setdefault("lag", []).append(lag)
                print(json.dumps(lag), file=sys.stderr)
                shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(scratch, ignore_errors=True)
    results["load_end"] = os.getloadavg()
    return results


def table(results: dict) -> str:
    """Best of the repeats per engine, size and kind, with the PostgreSQL/SQLite ratio."""
    best: dict[tuple, dict] = {}
    for run in results["runs"]:
        key = (run["engine"], run["n"], run["kind"])
        if key not in best or run["wall_s"] < best[key]["wall_s"]:
            best[key] = run
    lines = [
        f"pg settings: {results['pg_settings']}; load average at start "
        f"{results['load_start'][0]:.2f}, at end {results['load_end'][0]:.2f}",
        "| n | run | SQLite s | PostgreSQL s | PG / SQLite | SQLite SQL | PG SQL |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in sorted({run["n"] for run in results["runs"]}):
        for kind in ("first", "cached"):
            lite, pg = best[("sqlite", n, kind)], best[("postgres", n, kind)]
            lines.append(
                f"| {n:,} | {kind} | {lite['wall_s']:.2f} | {pg['wall_s']:.2f} | "
                f"{pg['wall_s'] / lite['wall_s']:.2f}x | {lite['statements'] or '-'} | "
                f"{pg['statements'] or '-'} |"
            )
    if results.get("lag"):
        lines += [
            "",
            "| recording lag | n | p50 s | p99 s | max s | wall s | load |",
            "|---|---|---|---|---|---|---|",
        ]
        for lag in results["lag"]:
            lines.append(
                f"| {lag['engine']} | {lag['n']:,} | {lag['p50_s']:.2f} | {lag['p99_s']:.2f} | "
                f"{lag['max_s']:.2f} | {lag['wall_s']:.2f} | {lag['load']:.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--redun",
        default=str(BENCH_DIR.parent / ".venv" / "bin" / "redun"),
        help="the redun command to measure (default: this checkout's .venv)",
    )
    parser.add_argument("--sizes", default="2000,10000", help="fan-out sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size and engine (best)")
    parser.add_argument("--pg-settings", choices=sorted(PG_SETTINGS), default="durable")
    parser.add_argument(
        "--lag", default="", help="recording-lag sizes (lag.py, both engines), comma-separated"
    )
    parser.add_argument("--sqlcount", action="store_true", help="count SQL statements per run")
    parser.add_argument("--cprofile", metavar="DIR", help="write a cProfile file per run here")
    parser.add_argument("--json", metavar="PATH", help="also write every run as JSON here")
    args = parser.parse_args()
    try:
        args.sizes = [int(size) for size in args.sizes.split(",") if size]
        args.lag = [int(size) for size in args.lag.split(",") if size]
    except ValueError:
        parser.error("--sizes and --lag must be comma-separated integers")
    if not Path(args.redun).exists():
        parser.error(f"--redun {args.redun} does not exist: run `make install` or pass the path")
    if args.cprofile:
        Path(args.cprofile).mkdir(parents=True, exist_ok=True)
    results = measure(args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(table(results))


if __name__ == "__main__":
    main()
