"""How long the console takes to open on a repo of 100,000 jobs.

    python plugins/redun-console/bench/console_open.py [--jobs 100000] [--dir DIR] [--postgres]

Builds the repo once by really running a fan-out workflow with the engine
(one execution whose root job has JOBS children, plus a few small ones), then
times (1) each main screen opened headless in-process, from creating the app
to the screen's data shown, and (2) the real `redun console` command in tmux,
from launch to the executions table on screen. Results are printed and
written to console_open.json next to this script (console_open_postgres.json
with --postgres, which records into a throwaway PostgreSQL server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redun import Scheduler, task
from redun.backends.db import RedunBackendDb
from redun.config import Config

redun_namespace = "bench"
HERE = Path(__file__).resolve().parent


@task
def leaf(i: int) -> int:
    return i * 2


@task
def fanout(n: int) -> list:
    return [leaf(i) for i in range(n)]


def build(directory: Path, jobs: int, db_uri: str | None = None) -> str:
    """The repo's db_uri, recording the executions (once) if needed."""
    db_path = directory / ".redun" / "redun.db"
    if db_uri is None:
        db_uri = f"sqlite:///{db_path}"
        if db_path.exists():
            return db_uri
    db_path.parent.mkdir(parents=True, exist_ok=True)
    (db_path.parent / "redun.ini").write_text(f"[backend]\ndb_uri = {db_uri}\n")
    backend_config = {"db_uri": db_uri, "automigrate": "true"}
    scheduler = Scheduler(config=Config({"backend": backend_config}))
    started = time.perf_counter()
    scheduler.run(fanout(jobs), exec_argv=["redun", "run", "bench.py", "fanout", "--n", str(jobs)])
    for n in range(5):
        scheduler.run(fanout(n + 1), exec_argv=["redun", "run", "bench.py", "fanout"])
    scheduler.backend.close()
    print(f"built {jobs} jobs in {time.perf_counter() - started:.1f}s with the engine")
    return db_uri


def big_execution(db_uri: str) -> tuple[str, str]:
    from redun.backends.db.browse import list_executions

    backend = RedunBackendDb(db_uri=db_uri)
    backend.load()
    try:
        rows = list_executions(backend.session)
        big = next(row for row in rows if "--n" in row.args)
        return big.id, big.job_id
    finally:
        backend.close()


def leaf_job(db_uri: str, root_job_id: str) -> str:
    """A job from the middle of the fan-out."""
    from redun.backends.db.browse import child_jobs

    backend = RedunBackendDb(db_uri=db_uri)
    backend.load()
    try:
        return child_jobs(backend.session, root_job_id, page=250, size=1)[0].id
    finally:
        backend.close()


def time_screen(db_uri: str, route: str) -> float:
    """Seconds from creating the app to its first screen loaded and drawn."""
    from redun_console.app import RedunConsole

    async def main() -> float:
        started = time.perf_counter()
        backend = RedunBackendDb(db_uri=db_uri)
        backend.load()
        app = RedunConsole(backend, route, poll_interval=0, screens=())
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            elapsed = time.perf_counter() - started
        backend.close()
        return elapsed

    return asyncio.run(main())


def time_command(directory: Path, expect: str) -> float | None:
    """Seconds from launching `redun console` in tmux until `expect` is on screen."""
    if not shutil.which("tmux"):
        return None
    redun = str(Path(sys.executable).parent / "redun")
    session = f"console-bench-{os.getpid()}"
    started = time.perf_counter()
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "160",
            "-y",
            "50",
            "-c",
            str(directory),
            f"{redun} console",
        ],
        check=True,
    )
    try:
        while time.perf_counter() - started < 30:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout
            if expect in screen:
                return time.perf_counter() - started
            time.sleep(0.02)
        return None
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "console-bench")
    parser.add_argument("--postgres", action="store_true", help="record into PostgreSQL")
    args = parser.parse_args()
    directory = args.dir / (f"{args.jobs}-postgres" if args.postgres else str(args.jobs))
    directory.mkdir(parents=True, exist_ok=True)
    if args.postgres:
        from redun.testing.postgres import shared_postgres_server

        db_uri = build(directory, args.jobs, shared_postgres_server().create_database("bench"))
    else:
        db_uri = build(directory, args.jobs)
    execution_id, root_job_id = big_execution(db_uri)
    routes = {
        "executions": "executions",
        "execution (job tree, status table)": f"executions/{execution_id}",
        "root job (100,000 children)": f"jobs/{root_job_id}",
        "jobs of one status": f"executions/{execution_id}/jobs?status:done",
        "task with 100,000 jobs": "tasks/bench.leaf",
        "one of the 100,000 jobs": f"jobs/{leaf_job(db_uri, root_job_id)}",
    }
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    results: dict[str, object] = {
        "jobs": args.jobs,
        "machine": machine,
        "database": "PostgreSQL" if args.postgres else "SQLite",
        "in_process_seconds": {},
    }
    for label, route in routes.items():
        time_screen(db_uri, route)  # warm the OS file cache
        seconds = min(time_screen(db_uri, route) for _ in range(3))
        results["in_process_seconds"][label] = round(seconds, 3)  # type: ignore[index]
        print(f"{label:40} {seconds:6.3f}s  ({route})")
    command = time_command(directory, execution_id[:8])
    results["redun_console_command_seconds"] = round(command, 3) if command else None
    print(f"{'redun console, launch to table shown':40} {command:6.3f}s" if command else "no tmux")
    name = "console_open_postgres.json" if args.postgres else "console_open.json"
    (HERE / name).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
