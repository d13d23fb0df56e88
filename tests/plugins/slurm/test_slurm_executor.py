"""The slurm executor on the session's real cluster: arrays, resources, logs, limits, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from redun.executors.remote import LABEL_ARRAY, LABEL_SCRATCH
from redun.scheduler import Scheduler
from redun_slurm.executor import SlurmExecutor, SlurmTimeoutError
from redun_slurm.slurm import SlurmError

from tests.helpers.signals import default_signals
from tests.plugins.slurm.conftest import Cluster, on_slurm, slurm_config


def executor_of(scheduler: Scheduler) -> SlurmExecutor:
    executor = scheduler.executors["slurm"]
    assert isinstance(executor, SlurmExecutor)
    return executor


def jobs_of(cluster: Cluster, scratch: str) -> list:
    """SLURM jobs (any state) submitted by executors of this scratch."""
    return [
        job for job in cluster.jobs() if job.labels and job.labels.get(LABEL_SCRATCH) == scratch
    ]


def test_first_run_then_fully_cached_rerun(
    cluster: Cluster, wf: ModuleType, tmp_path: Path
) -> None:
    config = slurm_config(tmp_path)
    first = Scheduler(config=config)
    assert first.run(on_slurm(wf.fanout)(3)) == [0, 2, 4]
    scratch = executor_of(first).scratch_root()
    assert len(jobs_of(cluster, scratch)) == 4  # fanout and its three doubles

    again = Scheduler(config=config)
    assert again.run(on_slurm(wf.fanout)(3)) == [0, 2, 4]
    # Every call came from the cache: SLURM was not asked to run anything.
    assert executor_of(again).command_counts().get("sbatch", 0) == 0
    assert len(jobs_of(cluster, scratch)) == 4


def test_twenty_calls_are_one_job_array(cluster: Cluster, wf: ModuleType, tmp_path: Path) -> None:
    scheduler = Scheduler(config=slurm_config(tmp_path))
    results = scheduler.run([on_slurm(wf.where)(i) for i in range(20)])
    assert [result["i"] for result in results] == list(range(20))
    assert executor_of(scheduler).command_counts()["sbatch"] == 1
    assert len({result["array_job"] for result in results}) == 1
    assert sorted(int(result["array_index"]) for result in results) == list(range(20))

    array_job = results[0]["array_job"]
    rows = [job for job in cluster.jobs() if job.id.startswith(f"{array_job}_")]
    assert len(rows) == 20 and {job.state for job in rows} == {"COMPLETED"}
    assert rows[0].labels is not None and rows[0].labels[LABEL_ARRAY]


def test_failed_job_output_is_in_its_traceback(
    cluster: Cluster, wf: ModuleType, tmp_path: Path
) -> None:
    scheduler = Scheduler(config=slurm_config(tmp_path))
    with pytest.raises(ValueError, match="the task failed"):
        scheduler.run(on_slurm(wf.loud_failure)("the task failed"))
    logs = "".join(scheduler.traceback.logs)
    assert "stdout line before the failure" in logs
    assert "stderr line before the failure" in logs
    assert "ValueError: the task failed" in logs


def test_resources_env_and_setup_reach_the_job(
    cluster: Cluster, wf: ModuleType, tmp_path: Path
) -> None:
    config = slurm_config(
        tmp_path,
        partition="debug",
        account="lab-account",
        qos="normal",
        time="5",
        cpus="2",
        memory="0.5",
        env=json.dumps({"FROM_CONFIG": "config value"}),
        setup="export FROM_SETUP=$((40 + 2))",
        job_name_prefix="mylab",
    )
    names = [
        "SLURM_JOB_ID",
        "SLURM_JOB_PARTITION",
        "SLURM_JOB_ACCOUNT",
        "SLURM_CPUS_PER_TASK",
        "SLURM_MEM_PER_NODE",
        "SLURM_JOB_NAME",
        "FROM_CONFIG",
        "FROM_TASK",
        "FROM_SETUP",
    ]
    scheduler = Scheduler(config=config)
    env = scheduler.run(on_slurm(wf.environment, env={"FROM_TASK": "task value"})(names))
    assert env["SLURM_JOB_PARTITION"] == "debug"
    assert env["SLURM_JOB_ACCOUNT"] == "lab-account"
    assert env["SLURM_CPUS_PER_TASK"] == "2"
    assert env["SLURM_MEM_PER_NODE"] == "512"
    assert env["SLURM_JOB_NAME"].startswith("mylab-")
    assert env["FROM_CONFIG"] == "config value"
    assert env["FROM_TASK"] == "task value"
    assert env["FROM_SETUP"] == "42"
    # Without an accounting database SLURM keeps no QOS; the time limit it does keep.
    shown = subprocess.run(
        ["squeue", "--noheader", "--states=all", "--jobs", env["SLURM_JOB_ID"], "-O", "TimeLimit:"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown == "5:00"

    # A task's own options override the executor's.
    cpus = scheduler.run(on_slurm(wf.environment, cpus=1, partition="short", time="1")(names[:4]))
    assert cpus["SLURM_CPUS_PER_TASK"] == "1" and cpus["SLURM_JOB_PARTITION"] == "short"


def test_workflow_without_code_package_is_imported_from_the_shared_directory(
    cluster: Cluster, wf: ModuleType, tmp_path: Path
) -> None:
    scheduler = Scheduler(config=slurm_config(tmp_path, code_package="false"))
    assert scheduler.run(on_slurm(wf.double)(21)) == 42
    assert not (Path(executor_of(scheduler).scratch_root()) / "code").exists()


@pytest.mark.slow
def test_walltime_exceeded_is_the_timeout_error(
    cluster: Cluster, wf: ModuleType, tmp_path: Path
) -> None:
    """SLURM enforces `time` itself (about once a minute): the job ends TIMEOUT."""
    started = time.monotonic()
    scheduler = Scheduler(config=slurm_config(tmp_path, time="1"))
    with pytest.raises(SlurmTimeoutError, match=r"reached its time limit of 1:00"):
        scheduler.run(on_slurm(wf.sleeper)(600))
    assert 55 < time.monotonic() - started < 180
    assert any("DUE TO TIME LIMIT" in line for line in scheduler.traceback.logs)


def test_array_jobs_are_reattached_after_the_scheduler_is_killed(
    cluster: Cluster, wf: ModuleType, workdir: Path, tmp_path: Path
) -> None:
    config = slurm_config(tmp_path)
    markers = [str(tmp_path / f"marker{i}") for i in range(5)]
    runner = (
        "import sys\n"
        f"sys.path.insert(0, {str(workdir)!r})\n"
        "from redun.scheduler import Scheduler\n"
        "import slurm_test_workflow as wf\n"
        f"scheduler = Scheduler(config={config!r})\n"
        "sleep = wf.sleeper.options(executor='slurm')\n"
        f"scheduler.run([sleep(6, marker) for marker in {markers!r}])\n"
    )
    first = subprocess.Popen([sys.executable, "-c", runner], cwd=workdir)
    scratch = str(tmp_path / "scratch")
    try:
        deadline = time.monotonic() + 60
        while not any(Path(marker).exists() for marker in markers):
            assert time.monotonic() < deadline, "the first scheduler's array never started"
            time.sleep(0.1)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    submitted = jobs_of(cluster, scratch)
    assert len(submitted) == 5 and len({job.id.split("_")[0] for job in submitted}) == 1

    scheduler = Scheduler(config=config)
    assert scheduler.run([on_slurm(wf.sleeper)(6, marker) for marker in markers]) == [6] * 5
    assert executor_of(scheduler).command_counts().get("sbatch", 0) == 0
    assert all(Path(marker).read_text() == "started\n" for marker in markers)


def test_ctrl_c_of_redun_run_leaves_no_job_in_squeue(
    cluster: Cluster, workdir: Path, tmp_path: Path
) -> None:
    """SIGINT while an array runs and waits: every job, queued or running, is cancelled."""
    scratch = tmp_path / "scratch"
    jobs = cluster.cpus + 4
    (workdir / ".redun").mkdir()
    (workdir / ".redun" / "redun.ini").write_text(
        "[backend]\n"
        f"db_uri = sqlite:///{tmp_path / 'redun.db'}\n"
        "[executors.slurm]\n"
        "type = slurm\n"
        f"scratch = {scratch}\n"
        "job_monitor_interval = 0.2\n"
    )
    (workdir / "main.py").write_text(
        "from redun import task\n"
        "from slurm_test_workflow import sleeper\n"
        "redun_namespace = 'slurm_test_cli'\n"
        "@task\n"
        "def main(marker: str):\n"
        "    return [sleeper(300 + i, marker) for i in range(JOBS)]\n".replace("JOBS", str(jobs))
    )
    marker = tmp_path / "marker"
    redun = Path(sys.executable).parent / "redun"
    run = subprocess.Popen(
        [str(redun), "run", "main.py", "main", "--marker", str(marker)],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=default_signals,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert run.poll() is None, run.communicate()[0]
            assert time.monotonic() < deadline, "no job started"
            time.sleep(0.1)
        states = {job.state for job in jobs_of(cluster, str(scratch))}
        assert states == {"RUNNING", "PENDING"}, states  # more jobs than the node has CPUs
        run.send_signal(signal.SIGINT)
        output, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode != 0
    assert f"Cancelling {jobs} job(s)" in output
    assert [job for job in jobs_of(cluster, str(scratch)) if job.active] == []
    assert {job.state for job in jobs_of(cluster, str(scratch))} == {"CANCELLED"}


def test_unknown_partition_is_one_line_with_slurms_message(
    cluster: Cluster, wf: ModuleType, tmp_path: Path
) -> None:
    scheduler = Scheduler(config=slurm_config(tmp_path, partition="nosuchpartition"))
    with pytest.raises(SlurmError) as raised:
        scheduler.run(on_slurm(wf.double)(1))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("[executors.slurm]: sbatch rejected the job:")
    assert "Invalid partition name specified" in message


def test_gpus_on_a_cluster_without_gpus_is_rejected_by_slurm(
    cluster: Cluster, wf: ModuleType, tmp_path: Path
) -> None:
    scheduler = Scheduler(config=slurm_config(tmp_path))
    with pytest.raises(SlurmError, match=r"--gres=|Invalid generic resource"):
        scheduler.run(on_slurm(wf.double, gpus=1)(1))


def test_a_job_that_can_never_start_fails_instead_of_waiting(
    cluster: Cluster, wf: ModuleType, tmp_path: Path
) -> None:
    """Partition `short` allows 1 minute; SLURM would keep a 5-minute job pending forever."""
    scheduler = Scheduler(config=slurm_config(tmp_path, partition="short", time="5"))
    with pytest.raises(Exception, match="can never start .*PartitionTimeLimit"):
        scheduler.run(on_slurm(wf.double)(1))
    assert [job.state for job in jobs_of(cluster, executor_of(scheduler).scratch_root())] == [
        "CANCELLED"
    ]


def test_missing_slurm_commands_are_one_line(
    wf: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    scheduler = Scheduler(config=slurm_config(tmp_path))
    with pytest.raises(SlurmError, match=r"not found on PATH: run redun on a machine with SLURM"):
        scheduler.run(on_slurm(wf.double)(1))


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"scratch": "s3://bucket/scratch"}, "must be a directory on the cluster's shared"),
        ({"container_runtime": "lxc"}, "container_runtime = 'lxc': use one of podman"),
        ({"sbatch_args": "--constraint='avx"}, "sbatch_args = .*No closing quotation"),
        ({"volumes": '["/data"]'}, "volumes must be a JSON list of"),
    ],
)
def test_bad_config_is_one_line(tmp_path: Path, keys: dict, message: str) -> None:
    from redun.executors.base import ExecutorError

    config = slurm_config(tmp_path, **keys)["executors.slurm"]
    with pytest.raises(ExecutorError, match=message):
        SlurmExecutor("slurm", config=config)


def _spec(**options: object):
    from redun.executors.remote import RemoteSpec

    return RemoteSpec(
        name="redun-0123abcd-1",
        command=["redun", "oneshot"],
        image="",
        vcpus=1,
        memory=0,
        gpus=0,
        env={},
        labels={"redun.executor": "slurm"},
        options=dict(options),
    )


def test_sbatch_arguments_follow_config_and_task_options(tmp_path: Path) -> None:
    executor = SlurmExecutor(
        "slurm",
        config={
            "scratch": str(tmp_path),
            "partition": "long",
            "sbatch_args": "--constraint=avx2 --exclusive",
            "job_name_prefix": "lab",
            "account": "lab-account",
            "qos": "high",
        },
    )
    spec = _spec()
    spec.memory, spec.gpus, spec.timeout = 1.5, 2, 90
    args = executor.sbatch_arguments(spec)
    assert "--job-name=lab-0123abcd-1" in args
    assert "--partition=long" in args
    assert "--account=lab-account" in args and "--qos=high" in args
    assert "--time=2" in args  # 90 s of redun timeout, in SLURM's whole minutes
    assert "--mem=1536M" in args
    assert "--gres=gpu:2" in args
    assert args[-2:] == ["--constraint=avx2", "--exclusive"]
    assert f"--output={tmp_path}/slurm/%j.out" in args
    assert "--cpus-per-task=1" in args

    array = executor.sbatch_arguments(_spec(time="1-00:00:00", sbatch_args=["--nice=10"]), 7)
    assert "--array=0-6" in array and f"--output={tmp_path}/slurm/%A_%a.out" in array
    assert "--time=1-00:00:00" in array and array[-1] == "--nice=10"
    assert os.path.isabs(executor.log_dir)


def test_a_task_option_runtime_is_checked_too(tmp_path: Path) -> None:
    from redun.executors.base import ExecutorError

    executor = SlurmExecutor("slurm", config={"scratch": str(tmp_path), "image": "img"})
    spec = _spec(container_runtime="lxc")
    spec.image = "img"
    with pytest.raises(ExecutorError, match="container_runtime = 'lxc': use one of"):
        executor.job_script(spec)
    spec.options["container_runtime"] = "docker"
    assert "docker run --rm --network host" in executor.job_script(spec)
