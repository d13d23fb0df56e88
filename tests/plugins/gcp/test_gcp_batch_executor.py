"""gcp_batch specifics: what the Batch job says, arrays, script staging, debug mode, errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from redun.executors.base import ExecutorError
from redun.file import File
from redun.scheduler import Scheduler

from tests.plugins.gcp.batch_emulator import BatchEmulator
from tests.plugins.gcp.conftest import PROJECT, REGION, gcp_config

WORKFLOW = """
import os
from redun import File, script, task

redun_namespace = "gcptest"


@task
def where(x):
    return {"x": x, "index": os.environ.get("BATCH_TASK_INDEX"),
            "count": os.environ.get("BATCH_TASK_COUNT")}


@task
def square(x):
    return x * x


@task
def nap_mark(seconds, marker):
    import time
    with open(marker, "a") as out:
        out.write("started\\n")
    time.sleep(seconds)
    return marker


@task(script=True)
def shout(text):
    return f"echo {text} | tr a-z A-Z"


@task
def upper_file(src: File, dest: str, as_mount: bool):
    return script(
        "tr a-z A-Z < in.txt > out.txt",
        inputs=[src.stage("in.txt")],
        outputs=File(dest).stage("out.txt"),
        as_mount=as_mount,
        executor="gcp",
    )
"""


RUNNER = """
import sys
sys.path.insert(0, {workdir!r})
from redun.scheduler import Scheduler
import gcp_test_workflow as wf
scheduler = Scheduler(config={config!r})
print(scheduler.run([wf.nap_mark.options(executor="gcp")(4, m) for m in {markers!r}]))
"""


@pytest.fixture
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gcpwf")


@pytest.fixture
def wf(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    (workdir / "gcp_test_workflow.py").write_text(WORKFLOW)
    monkeypatch.chdir(workdir)
    monkeypatch.syspath_prepend(str(workdir))
    import gcp_test_workflow

    return gcp_test_workflow


def config_of(tmp_path: Path, section: dict[str, str]) -> dict[str, Any]:
    return {"backend": {"db_uri": f"sqlite:///{tmp_path / 'redun.db'}"}, "executors.gcp": section}


def scheduler(tmp_path: Path, section: dict[str, str]) -> Scheduler:
    return Scheduler(config=config_of(tmp_path, section))


def created_jobs(batch: BatchEmulator) -> list[dict]:
    with batch.lock:
        return [job.body for job in batch.jobs.values()]


@pytest.mark.container
def test_job_carries_every_setting(
    tmp_path: Path, batch: BatchEmulator, gcs_bucket: str, container_image: str, wf: Any
) -> None:
    section = gcp_config(
        batch,
        gcs_bucket,
        container_image,
        machine_type="e2-standard-2",
        boot_disk_size="50",
        min_cpu_platform="Intel Cascade Lake",
        accelerators=json.dumps([["nvidia-tesla-t4", 1]]),
        service_account_email="runner@redun-test-project.iam.gserviceaccount.com",
        priority="42",
        labels=json.dumps({"team": "ml_ops", "Cost Center": "R&D"}),
        max_duration="600",
    )
    sched = scheduler(tmp_path, section)
    # 100 GB on a machine with 8 GiB: clamped to the machine; vcpus unset: the whole machine.
    result = sched.run(wf.where.options(executor="gcp", memory=100)(7))
    assert result == {"x": 7, "index": "0", "count": "1"}
    (job,) = created_jobs(batch)
    spec = job["taskGroups"][0]["taskSpec"]
    assert spec["computeResource"] == {"cpuMilli": "2000", "memoryMib": "8192"}
    assert spec["maxRetryCount"] == 2 and spec["maxRunDuration"] == "600s"
    policy = job["allocationPolicy"]["instances"][0]["policy"]
    assert policy["machineType"] == "e2-standard-2"
    assert policy["bootDisk"] == {"sizeGb": "50"}
    assert policy["minCpuPlatform"] == "Intel Cascade Lake"
    assert policy["accelerators"] == [{"type": "nvidia-tesla-t4", "count": "1"}]
    assert job["allocationPolicy"]["serviceAccount"]["email"].startswith("runner@")
    assert job["priority"] == "42"
    labels = job["labels"]
    assert labels["team"] == "ml_ops" and labels["cost_20center"] == "r_26d"
    assert labels["redun_job_type"] == "container"
    assert labels["redun_task"] == "gcptest_2ewhere"
    assert labels["redun_hash"] == labels["redun_eval_hash"]
    # The workflow's code went to gs:// scratch once; the task unpacks it from there.
    command = spec["runnables"][0]["container"]["commands"]
    code = command[command.index("--code") + 1]
    assert code.startswith(f"gs://{gcs_bucket}/redun/code/") and code.endswith(".tar.gz")
    assert File(code).exists()
    assert command[command.index("--input") + 1].startswith(f"gs://{gcs_bucket}/redun/jobs/")


@pytest.mark.container
def test_array_of_twenty_is_one_batch_job(
    tmp_path: Path, batch: BatchEmulator, gcs_bucket: str, container_image: str, wf: Any
) -> None:
    sched = scheduler(tmp_path, gcp_config(batch, gcs_bucket, container_image))
    results = sched.run([wf.where.options(executor="gcp")(i) for i in range(20)])
    assert [r["x"] for r in results] == list(range(20))
    assert sorted(int(r["index"]) for r in results) == list(range(20))
    assert {r["count"] for r in results} == {"20"}
    (job,) = created_jobs(batch)
    assert job["taskGroups"][0]["taskCount"] == "20"
    assert job["labels"]["redun_job_type"] == "container"
    creates = [path for method, path in batch.requests if method == "POST" and "/jobs" in path]
    assert len(creates) == 1
    # Polling lists the array's tasks: never one request per task.
    assert not [path for _, path in batch.requests if re.search(r"/tasks/\d+$", path)]
    assert any(path.endswith("/taskGroups/group0/tasks") for _, path in batch.requests)


@pytest.mark.container
def test_reattach_to_an_array_after_sigkill(
    tmp_path: Path,
    batch: BatchEmulator,
    gcs_bucket: str,
    container_image: str,
    wf: Any,
    workdir: Path,
) -> None:
    """Array tasks still running when their scheduler died are followed through labels
    and the array's eval_hashes file, not submitted again."""
    config = config_of(tmp_path, gcp_config(batch, gcs_bucket, container_image))
    markers = [str(tmp_path / f"marker{i}") for i in range(2)]
    runner = RUNNER.format(workdir=str(workdir), config=config, markers=markers)
    first = subprocess.Popen([sys.executable, "-c", runner], cwd=workdir)
    try:
        deadline = time.monotonic() + 90
        while not all(Path(marker).exists() for marker in markers):
            assert time.monotonic() < deadline, "the array's tasks never started"
            assert first.poll() is None
            time.sleep(0.1)
    finally:
        first.kill()
        first.wait()
    results = Scheduler(config=config).run(
        [wf.nap_mark.options(executor="gcp")(4, m) for m in markers]
    )
    assert results == markers
    assert [Path(marker).read_text() for marker in markers] == ["started\n"] * 2
    (job,) = created_jobs(batch)
    assert job["taskGroups"][0]["taskCount"] == "2"


@pytest.mark.container
@pytest.mark.parametrize("as_mount", [True, False], ids=["mounted", "via-api"])
def test_script_task_stages_from_and_to_gcs(
    tmp_path: Path,
    batch: BatchEmulator,
    gcs_bucket: str,
    container_image: str,
    wf: Any,
    as_mount: bool,
) -> None:
    src = File(f"gs://{gcs_bucket}/data/in.txt")
    src.write("staged text\n")
    dest = f"gs://{gcs_bucket}/data/out-{as_mount}.txt"
    sched = scheduler(tmp_path, gcp_config(batch, gcs_bucket, container_image))
    result = sched.run(wf.upper_file(src, dest, as_mount))
    assert result.path == dest
    assert File(dest).read() == "STAGED TEXT\n"
    (job,) = created_jobs(batch)
    spec = job["taskGroups"][0]["taskSpec"]
    command = spec["runnables"][0]["container"]["commands"]
    assert command[0] == "bash" and command[1].startswith(f"/mnt/disks/{gcs_bucket}/redun/jobs/")
    assert command[1].endswith("/.redun_job.sh")
    assert spec["volumes"] == [
        {"gcs": {"remotePath": gcs_bucket}, "mountPath": f"/mnt/disks/{gcs_bucket}"}
    ]
    assert job["labels"]["redun_job_type"] == "script"


@pytest.mark.container
def test_debug_runs_the_job_on_docker(
    tmp_path: Path, batch: BatchEmulator, gcs_bucket: str, container_image: str, wf: Any
) -> None:
    section = gcp_config(
        batch,
        gcs_bucket,
        container_image,
        debug="true",
        interactive="false",
        debug_scratch=str(tmp_path / "debug"),
    )
    sched = scheduler(tmp_path, section)
    assert sched.run(wf.square.options(executor="gcp")(9)) == 81
    assert created_jobs(batch) == []
    assert list((tmp_path / "debug" / "jobs").iterdir())


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("project", "needs `project` (the GCP project id)"),
        ("region", "needs `region`"),
        ("image", "needs `image`"),
        ("gcs_scratch", "needs `gcs_scratch` (a gs://bucket/prefix"),
    ],
)
def test_missing_required_key_is_one_line(missing: str, message: str) -> None:
    section = {
        "type": "gcp_batch",
        "project": "p",
        "region": "r",
        "image": "i",
        "gcs_scratch": "gs://b/x",
    }
    del section[missing]
    with pytest.raises(ExecutorError, match=re.escape(message)) as info:
        Scheduler(config={"executors.gcp": section})
    assert "\n" not in str(info.value)


def test_bad_values_are_one_line() -> None:
    base = {"type": "gcp_batch", "project": "p", "region": "r", "image": "i"}
    with pytest.raises(ExecutorError, match="must be a gs://bucket/prefix URL"):
        Scheduler(config={"executors.gcp": {**base, "gcs_scratch": "/tmp/x"}})
    with pytest.raises(ExecutorError, match="transport must be one of grpc, rest"):
        Scheduler(config={"executors.gcp": {**base, "gcs_scratch": "gs://b/x", "transport": "x"}})
    with pytest.raises(ExecutorError, match="labels is not valid JSON"):
        Scheduler(config={"executors.gcp": {**base, "gcs_scratch": "gs://b/x", "labels": "{"}})


@pytest.mark.container
def test_rejections_and_refusals_are_one_line(
    tmp_path: Path, batch: BatchEmulator, gcs_bucket: str, container_image: str, wf: Any
) -> None:
    bad_machine = gcp_config(batch, gcs_bucket, container_image, machine_type="e9-huge")
    with pytest.raises(ExecutorError, match="machine_type = 'e9-huge' does not exist in region"):
        scheduler(tmp_path, bad_machine).run(wf.square.options(executor="gcp")(2))
    other_project = {**gcp_config(batch, gcs_bucket, container_image), "project": "someone-else"}
    with pytest.raises(ExecutorError, match="GCP refused to .*check that project 'someone-else'"):
        scheduler(tmp_path, other_project).run(wf.square.options(executor="gcp")(3))
    too_long = gcp_config(batch, gcs_bucket, container_image, priority="100")
    with pytest.raises(
        ExecutorError, match="GCP Batch rejected the request to create job .*Priority"
    ):
        scheduler(tmp_path, too_long).run(wf.square.options(executor="gcp")(4))
    assert created_jobs(batch) == []


def test_no_credentials_for_a_remote_endpoint_is_one_line(
    tmp_path: Path, gcs_bucket: str, wf: Any
) -> None:
    section = {
        "type": "gcp_batch",
        "project": PROJECT,
        "region": REGION,
        "image": "img",
        "gcs_scratch": f"gs://{gcs_bucket}/redun",
        "api_endpoint": "batch.example.invalid",
        "transport": "rest",
    }
    with pytest.raises(ExecutorError, match="No Google credentials found: run `gcloud auth"):
        scheduler(tmp_path, section).run(wf.square.options(executor="gcp")(2))


def test_missing_scratch_bucket_is_one_line(tmp_path: Path, gcs_server: Any, wf: Any) -> None:
    section = {
        "type": "gcp_batch",
        "project": PROJECT,
        "region": REGION,
        "image": "img",
        "gcs_scratch": "gs://no-such-scratch-bucket/redun",
        "api_endpoint": "http://127.0.0.1:9",
        "transport": "rest",
    }
    with pytest.raises(OSError, match="bucket gs://no-such-scratch-bucket does not exist"):
        scheduler(tmp_path, section).run(wf.square.options(executor="gcp")(2))


def test_configuring_the_executor_imports_no_google_sdk(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from redun.scheduler import Scheduler\n"
        "s = Scheduler(config={'executors.gcp': {'type': 'gcp_batch', 'project': 'p',"
        " 'region': 'r', 'image': 'i', 'gcs_scratch': 'gs://b/x'}})\n"
        "assert type(s.executors['gcp']).__name__ == 'GCPBatchExecutor'\n"
        "heavy = [m for m in sys.modules if m.startswith('google')]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
