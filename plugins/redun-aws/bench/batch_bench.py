"""AWS Batch benchmarks against the test setup (moto's server + podman), not tests.

    .venv/bin/python plugins/redun-aws/bench/batch_bench.py [--jobs 1000] [--compare 50]

1. API calls per job: a fan-out of ``--jobs`` trivial tasks on aws_batch
   (arrays on, defaults otherwise), counted by the moto server per action.
2. The scheduler's own time per job: process CPU seconds of the scheduling
   process (hashing, recording, submitting, polling, reading results) divided
   by the jobs, for a fan-out of ``--compare`` tasks on aws_batch and on the
   docker executor, with the same image; the containers' own time is not in it.

Starts its own moto server (tests/helpers/moto_main.py) and podman Docker
API service on loopback and stops both at the end. Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

WORKFLOW = """
from redun import task

redun_namespace = "batch_bench"


@task
def work(i: int) -> int:
    return i


@task
def main(n: int, executor: str) -> int:
    return [work.options(executor=executor)(i) for i in range(n)]
"""


def podman_env() -> dict[str, str]:
    out = subprocess.run(
        ["bash", str(ROOT / ".ci/setup-podman.sh"), "--env"], capture_output=True, text=True
    ).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = value.strip('"')
    env["PATH"] = f"{env['REDUN_PODMAN_SHIM']}{os.pathsep}{os.environ['PATH']}"
    return env


def start_services(workdir: Path) -> tuple[list[subprocess.Popen], int, Path]:
    from tests.conftest import NETWORK_SAFE_ENV

    sock = workdir / "docker.sock"
    port_file = workdir / "port"
    env = {
        **os.environ,
        **NETWORK_SAFE_ENV,
        "DOCKER_HOST": f"unix://{sock}",
        "MOTO_DOCKER_NETWORK_MODE": "host",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("AWS_ENDPOINT_URL", None)
    log = open(workdir / "moto.log", "w")
    moto = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.moto_main", str(port_file)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    podman = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{sock}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (port_file.exists() and sock.exists()):
        if time.monotonic() > deadline:
            raise SystemExit("moto or podman service did not start")
        time.sleep(0.1)
    return [moto, podman], int(port_file.read_text()), sock


def run_fanout(workdir: Path, section: dict[str, str], jobs: int, executor: str) -> dict:
    """Run the fan-out in a fresh process; its CPU time and wall time."""
    config = {"backend": {"db_uri": f"sqlite:///{workdir / f'{executor}-{jobs}.db'}"}}
    config[f"executors.{executor}"] = section
    code = f"""
import json, sys, time, resource
sys.path.insert(0, {str(workdir)!r})
from redun import Scheduler
import bench_workflow as wf
scheduler = Scheduler(config={config!r})
wall = time.monotonic()
result = scheduler.run(wf.main({jobs}, {executor!r}))
usage = resource.getrusage(resource.RUSAGE_SELF)
assert result == list(range({jobs})), result[:5]
print(json.dumps({{"wall": time.monotonic() - wall, "cpu": usage.ru_utime + usage.ru_stime}}))
"""
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=workdir, capture_output=True, text=True, env=os.environ
    )
    if proc.returncode != 0:
        raise SystemExit(f"{executor} fan-out of {jobs} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--compare", type=int, default=50)
    parser.add_argument(
        "--image", default=os.environ.get("REDUN_TEST_IMAGE", "localhost/redun:test")
    )
    parser.add_argument("--max-vcpus", type=int, default=16)
    args = parser.parse_args()

    os.environ.update(podman_env())
    from tests.conftest import NETWORK_SAFE_ENV
    from tests.helpers.moto_server import MotoServer
    from tests.plugins.aws.batch_env import create_batch

    os.environ.update(NETWORK_SAFE_ENV)
    workdir = Path(tempfile.mkdtemp(prefix="redun-batch-bench-"))
    (workdir / "bench_workflow.py").write_text(WORKFLOW)
    processes, port, sock = start_services(workdir)
    try:
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
        moto = MotoServer(processes[0], port, sock, workdir / "moto.log")
        setup = create_batch(moto, args.image, max_vcpus=args.max_vcpus)
        batch = setup.executor_config(job_monitor_interval="5.0", job_stale_time="3.0")
        results: dict = {}

        moto.reset_counts()
        fanout = run_fanout(workdir, batch, args.jobs, "batch")
        calls = {k: v for k, v in moto.calls().items() if k.startswith("batch:")}
        results["fanout"] = {
            "jobs": args.jobs,
            **fanout,
            "batch_calls": calls,
            "batch_calls_per_job": sum(calls.values()) / args.jobs,
        }
        docker = {
            "type": "docker",
            "image": args.image,
            "scratch": str(workdir / "docker-scratch"),
            "include_aws_env": "false",
        }
        for name, section in (("batch", batch), ("docker", docker)):
            measured = run_fanout(workdir, section, args.compare, name)
            results[f"{name}_{args.compare}"] = {
                **measured,
                "cpu_ms_per_job": 1000 * measured["cpu"] / args.compare,
            }
        print(json.dumps(results, indent=2))
    finally:
        from tests.helpers.moto_server import socket_pids

        holders = socket_pids(sock)
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for pid in holders:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
