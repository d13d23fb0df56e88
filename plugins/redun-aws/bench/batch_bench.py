"""AWS Batch benchmarks against the test setup (moto's server + podman), not tests.

    make bench-aws BENCH_AWS_FLAGS="--jobs 1000 --compare 50"
    .venv/bin/python plugins/redun-aws/bench/batch_bench.py --serve DIR   # the setup alone

1. API calls per job: a fan-out of ``--jobs`` trivial tasks on aws_batch
   (arrays on, defaults otherwise: ``job_monitor_interval = 5``), each job a
   real container, the calls counted by the moto server per action.
2. The scheduler's own time per job: CPU seconds of the scheduling process
   (hashing, recording, submitting, polling, reading results; the containers'
   own time is not in it; ``children_cpu`` is that of the commands it ran,
   e.g. the docker executor's ``docker`` CLI) for fan-outs of
   ``--compare-small`` and ``--compare`` tasks on aws_batch and on the docker
   executor, same image and workflow.
   The difference between the two sizes divided by the difference in jobs is
   the time each further job costs; the small run shows the fixed costs.

Every run records its wall time and the machine's load average before and
after (the machine may be shared). Starts its own moto server
(tests/helpers/moto_main.py) and podman Docker API service on loopback and
stops both at the end. Prints a JSON summary (and writes it to ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

# Batch job names (and so container names) of this process: its cleanup removes only its own.
JOB_PREFIX = f"redun-bench{os.getpid()}"
SERVE_PREFIX = f"redun-serve{os.getpid()}"
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
    """Run the fan-out in a fresh process: its CPU and wall time, and the load around it."""
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
children = resource.getrusage(resource.RUSAGE_CHILDREN)
assert result == list(range({jobs})), result[:5]
print(json.dumps({{
    "wall": time.monotonic() - wall,
    "cpu": usage.ru_utime + usage.ru_stime,
    "children_cpu": children.ru_utime + children.ru_stime,
}}))
"""
    load_before = os.getloadavg()
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=workdir, capture_output=True, text=True, env=os.environ
    )
    if proc.returncode != 0:
        raise SystemExit(f"{executor} fan-out of {jobs} failed:\n{proc.stderr[-3000:]}")
    measured = json.loads(proc.stdout.strip().splitlines()[-1])
    measured["load_before"] = [round(x, 2) for x in load_before]
    measured["load_after"] = [round(x, 2) for x in os.getloadavg()]
    measured["cpu_ms_per_job"] = 1000 * measured["cpu"] / jobs
    print(f"{executor} fan-out of {jobs}: {json.dumps(measured)}", file=sys.stderr, flush=True)
    return measured


def finished_jobs(moto: Any) -> int:
    """Jobs whose output is in scratch so far (S3 calls; the Batch counts stay clean)."""
    from tests.plugins.aws.batch_env import BUCKET

    pages = moto.client("s3").get_paginator("list_objects_v2")
    return sum(
        1
        for page in pages.paginate(Bucket=BUCKET, Prefix="redun/jobs/")
        for item in page.get("Contents", [])
        if item["Key"].endswith("/output")
    )


def remove_containers(prefix: str) -> None:
    """Remove the containers that Batch jobs named `prefix`-... left behind."""
    listing = ["podman", "ps", "--all", "--quiet", "--filter", f"name=^{prefix}-"]
    ids = subprocess.run(listing, capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run(["podman", "rm", "--force", *ids], capture_output=True)


def sample_progress(moto: Any, progress: list[dict], done: threading.Event) -> None:
    """Every minute: Batch calls so far, jobs finished, load average (stderr too)."""
    start = time.monotonic()
    while not done.wait(60):
        calls = sum(v for k, v in moto.calls().items() if k.startswith("batch:"))
        sample = {
            "seconds": round(time.monotonic() - start),
            "batch_calls": calls,
            "jobs_done": finished_jobs(moto),
            "load": [round(x, 2) for x in os.getloadavg()],
        }
        progress.append(sample)
        print(f"progress: {json.dumps(sample)}", file=sys.stderr, flush=True)


def serve(directory: Path, port: int, section: dict[str, str]) -> None:
    """Write the environment and redun.ini of this setup, then wait until interrupted."""
    from tests.conftest import NETWORK_SAFE_ENV

    (directory / ".redun").mkdir(parents=True, exist_ok=True)
    env = {**NETWORK_SAFE_ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    lines = [f"export {key}={value}" for key, value in sorted(env.items())]
    (directory / "env.sh").write_text("\n".join(lines) + "\n")
    ini = ["[executors.batch]"] + [f"{key} = {value}" for key, value in section.items()]
    (directory / ".redun" / "redun.ini").write_text("\n".join(ini) + "\n")
    print(f"serving on 127.0.0.1:{port}: source {directory}/env.sh; Ctrl-C stops", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--compare", type=int, default=50)
    parser.add_argument("--compare-small", type=int, default=10)
    parser.add_argument(
        "--image", default=os.environ.get("REDUN_TEST_IMAGE", "localhost/redun:test")
    )
    parser.add_argument("--max-vcpus", type=int, default=16)
    parser.add_argument("--skip-fanout", action="store_true", help="only the CPU comparison")
    parser.add_argument("--skip-compare", action="store_true", help="only the API-call fan-out")
    parser.add_argument("--out", type=Path, help="also write the JSON summary here")
    parser.add_argument(
        "--serve",
        type=Path,
        metavar="DIR",
        help="no benchmark: start the setup, write DIR/env.sh and DIR/.redun/redun.ini "
        "for workflows run by hand, and wait for Ctrl-C",
    )
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
        if args.serve:
            serve(args.serve, port, setup.executor_config(job_name_prefix=SERVE_PREFIX))
            return
        batch = setup.executor_config(
            job_monitor_interval="5.0", job_stale_time="3.0", job_name_prefix=JOB_PREFIX
        )
        results: dict = {"cpus": os.cpu_count(), "max_vcpus": args.max_vcpus}

        if not args.skip_fanout:
            moto.reset_counts()
            progress: list[dict] = []
            done = threading.Event()
            sampler = threading.Thread(
                target=sample_progress, args=(moto, progress, done), daemon=True
            )
            sampler.start()
            try:
                fanout = run_fanout(workdir, batch, args.jobs, "batch")
            finally:
                done.set()
                sampler.join()
            calls = {k: v for k, v in moto.calls().items() if k.startswith("batch:")}
            results["fanout"] = {
                "jobs": args.jobs,
                **fanout,
                "batch_calls": calls,
                "batch_calls_per_job": sum(calls.values()) / args.jobs,
                "progress": progress,
            }
        docker = {
            "type": "docker",
            "image": args.image,
            "scratch": str(workdir / "docker-scratch"),
            "include_aws_env": "false",
        }
        for name, section in () if args.skip_compare else (("batch", batch), ("docker", docker)):
            small = run_fanout(workdir, section, args.compare_small, name)
            large = run_fanout(workdir, section, args.compare, name)
            results[f"{name}_{args.compare_small}"] = small
            results[f"{name}_{args.compare}"] = large
            results[f"{name}_marginal_cpu_ms_per_job"] = (
                1000 * (large["cpu"] - small["cpu"]) / (args.compare - args.compare_small)
            )
        summary = json.dumps(results, indent=2)
        print(summary)
        if args.out:
            args.out.write_text(summary + "\n")
    finally:
        from tests.helpers.moto_server import socket_pids

        remove_containers(SERVE_PREFIX if args.serve else JOB_PREFIX)
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
