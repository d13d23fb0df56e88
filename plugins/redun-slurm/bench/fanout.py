"""SLURM commands per job, and the scheduler's own time per job, for a fan-out.

    python plugins/redun-slurm/bench/fanout.py [--jobs 1000] [--cpus 16] [--no-arrays]

Starts a throwaway one-node cluster with ``.ci/setup-slurm.sh`` (root), runs
one execution whose root task fans out to JOBS calls of a trivial task on the
``slurm`` executor (arrays on: one sbatch per 1,000 calls), and reports:

- the SLURM commands the executor ran (sbatch, squeue, scancel), per job;
- the scheduler process's CPU time per job (its own, and its sbatch/squeue
  children's), which is what the scheduler spends beyond the jobs' own runs;
- wall time against the jobs' own span on the node: from the first job's
  start to the last job's end (SLURM's StartTime/EndTime, whole seconds), so
  what remains is submission before the first start and pickup after the end.

Results are printed and written to fanout.json (fanout_no_arrays.json)
next to this script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SETUP = ROOT / ".ci" / "setup-slurm.sh"

WORKFLOW = """
from redun import task

redun_namespace = "slurm_bench"


@task(executor="slurm")
def leaf(i: int) -> int:
    return i * 2


@task
def fanout(n: int) -> list:
    return [leaf(i) for i in range(n)]
"""


def cpu_seconds() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def job_span() -> float:
    """Seconds from the first job's start to the last job's end, as SLURM recorded them."""
    from datetime import datetime

    rows = subprocess.run(
        ["squeue", "--noheader", "--array", "--states=all", "-O", "StartTime:|,EndTime:"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    starts, ends = zip(*(row.split("|") for row in rows))
    return (datetime.fromisoformat(max(ends)) - datetime.fromisoformat(min(starts))).total_seconds()


def run(jobs: int, cpus: int, arrays: bool) -> dict:
    from redun import Scheduler

    cluster = Path(tempfile.mkdtemp(prefix="redun-slurm-bench-"))
    cluster.chmod(0o755)
    work = Path(tempfile.mkdtemp(prefix="redun-slurm-bench-wf-"))
    env = {
        **os.environ,
        "REDUN_SLURM_CPUS": str(cpus),
        "REDUN_SLURM_MEMORY_MB": str(cpus * 500),
    }
    started = subprocess.run(
        ["bash", str(SETUP), "start", str(cluster)], capture_output=True, text=True, env=env
    )
    if started.returncode != 0:
        sys.exit(f"cluster did not start: {started.stderr.strip()}")
    os.environ["SLURM_CONF"] = started.stdout.strip().splitlines()[-1].split("=", 1)[1]
    try:
        (work / "slurm_bench.py").write_text(WORKFLOW)
        os.chdir(work)
        sys.path.insert(0, str(work))
        import slurm_bench

        section = {
            "type": "slurm",
            "scratch": str(work / "scratch"),
            "min_array_size": "5" if arrays else "0",
        }
        scheduler = Scheduler(
            config={
                "backend": {"db_uri": f"sqlite:///{work / 'redun.db'}"},
                "executors.slurm": section,
            }
        )
        own0, children0 = cpu_seconds()
        wall0 = time.time()
        result = scheduler.run(slurm_bench.fanout(jobs))
        wall = time.time() - wall0
        own1, children1 = cpu_seconds()
        assert result == [2 * i for i in range(jobs)]
        counts = scheduler.executors["slurm"].command_counts()
        span = job_span()
    finally:
        subprocess.run(["bash", str(SETUP), "stop", str(cluster)], capture_output=True)
        shutil.rmtree(cluster, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    total = sum(counts.values())
    return {
        "jobs": jobs,
        "arrays": arrays,
        "node_cpus": cpus,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "slurm_commands": counts,
        "slurm_commands_per_job": round(total / jobs, 4),
        "sbatch_per_job": round(counts.get("sbatch", 0) / jobs, 4),
        "wall_seconds": round(wall, 2),
        "job_span_seconds": round(span, 2),
        "wall_beyond_job_span_seconds": round(wall - span, 2),
        "scheduler_cpu_ms_per_job": round(1000 * (own1 - own0) / jobs, 2),
        "slurm_client_cpu_ms_per_job": round(1000 * (children1 - children0) / jobs, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--cpus", type=int, default=16, help="CPUs the bench node claims")
    parser.add_argument("--no-arrays", action="store_true", help="one sbatch per job")
    args = parser.parse_args()
    figures = run(args.jobs, args.cpus, arrays=not args.no_arrays)
    print(json.dumps(figures, indent=2))
    name = "fanout_no_arrays.json" if args.no_arrays else "fanout.json"
    (HERE / name).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
