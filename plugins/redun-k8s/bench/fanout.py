"""Benchmark: API calls and scheduler time per job for a fan-out on the k8s executor.

    .venv/bin/python plugins/redun-k8s/bench/fanout.py [--jobs 1000] [--podman]

Runs N independent jobs of one task through a real Scheduler and the k8s
executor with its defaults (arrays of up to 1,000, a 5 s poll interval),
against the emulated API server of tests/plugins/k8s/emulator. Pods run as
host processes (``--processes``) unless ``--podman`` is given: a thousand
podman containers on two cores would measure podman. Reports the API calls
the executor made (per job, by kind), the scheduler process's CPU time per
job, and the wall time per job beyond the span in which pods ran; then the
same workflow again, fully cached.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
WORKFLOW = """
from redun import task

redun_namespace = "k8s_bench"


@task
def inc(x):
    return x + 1
"""
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{{name: bench, cluster: {{server: "http://127.0.0.1:{port}"}}}}]
contexts: [{{name: bench, context: {{cluster: bench, user: anonymous}}}}]
current-context: bench
users: [{{name: anonymous, user: {{}}}}]
"""


def emulator(podman: bool) -> tuple[subprocess.Popen, int]:
    args = [sys.executable, "-m", "tests.plugins.k8s.emulator", "--cpu", "16", "--memory", "256Gi"]
    if not podman:
        args.append("--processes")
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise SystemExit(f"emulator did not start: {line!r}")
    return proc, int(line.split()[1])


def stats(port: int, method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/emulator/stats", method=method)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def run(jobs: int, image: str, scratch_dir: Path, db: Path) -> tuple[float, float, Any]:
    import k8s_bench_workflow as wf
    from redun.scheduler import Scheduler

    config = {
        "backend": {"db_uri": f"sqlite:///{db}"},
        "executors.k8s": {
            "type": "k8s",
            "image": image,
            "scratch": str(scratch_dir),
            "vcpus": "0.1",
            "memory": "0.2",
        },
    }
    scheduler = Scheduler(config=config)
    expr = [wf.inc.options(executor="k8s")(i) for i in range(jobs)]
    wall, cpu = time.perf_counter(), time.process_time()
    result = scheduler.run(expr)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--podman", action="store_true", help="real containers (keep --jobs small)")
    parser.add_argument("--image", default="localhost/redun:test")
    parser.add_argument("--json", dest="json_path", help="also write the figures here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="k8s-bench-"))
    (work / "k8s_bench_workflow.py").write_text(WORKFLOW)
    os.chdir(work)
    sys.path.insert(0, str(work))
    proc, port = emulator(args.podman)
    try:
        (work / "kubeconfig").write_text(KUBECONFIG.format(port=port))
        os.environ["KUBECONFIG"] = str(work / "kubeconfig")
        stats(port, "DELETE")
        wall, cpu, result = run(args.jobs, args.image, work / "scratch", work / "redun.db")
        assert result == [i + 1 for i in range(args.jobs)], "wrong results"
        first = stats(port)
        stats(port, "DELETE")
        cached_wall, cached_cpu, _ = run(args.jobs, args.image, work / "scratch", work / "redun.db")
        cached = stats(port)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    span = first["container_span"]
    pods_wall = span[1] - span[0] if span else 0.0
    figures = {
        "jobs": args.jobs,
        "pods": "podman containers" if args.podman else "host processes",
        "wall_s": round(wall, 2),
        "pods_span_s": round(pods_wall, 2),
        "api_calls": first["total"],
        "api_calls_per_job": round(first["total"] / args.jobs, 4),
        "api_calls_by_kind": first["requests"],
        "scheduler_cpu_ms_per_job": round(1000 * cpu / args.jobs, 2),
        "wall_beyond_pods_ms_per_job": round(1000 * (wall - pods_wall) / args.jobs, 2),
        "cached_rerun_wall_ms_per_job": round(1000 * cached_wall / args.jobs, 3),
        "cached_rerun_api_calls": cached["total"],
    }
    print(json.dumps(figures, indent=2))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
