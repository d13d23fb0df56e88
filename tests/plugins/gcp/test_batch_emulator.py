"""The GCP Batch emulator itself, driven by the real google-cloud-batch client over REST."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.plugins.gcp.batch_emulator import BatchEmulator

pytestmark = pytest.mark.container


@pytest.fixture
def client(batch: BatchEmulator) -> Any:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import batch_v1

    return batch_v1.BatchServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=batch.url),
    )


def make_job(image: str, commands: list[str], count: int = 1, **spec: Any) -> Any:
    from google.cloud import batch_v1

    labels = spec.pop("labels", {"suite": "emulator"})
    machine = spec.pop("machine_type", "e2-standard-2")
    resources = spec.pop(
        "compute_resource", batch_v1.ComputeResource(cpu_milli=500, memory_mib=512)
    )
    task_spec = batch_v1.TaskSpec(
        runnables=[
            batch_v1.Runnable(
                container=batch_v1.Runnable.Container(image_uri=image, commands=commands)
            )
        ],
        compute_resource=resources,
        **spec,
    )
    return batch_v1.Job(
        labels=labels,
        task_groups=[batch_v1.TaskGroup(task_count=count, task_spec=task_spec)],
        allocation_policy=batch_v1.AllocationPolicy(
            instances=[
                batch_v1.AllocationPolicy.InstancePolicyOrTemplate(
                    policy=batch_v1.AllocationPolicy.InstancePolicy(machine_type=machine)
                )
            ]
        ),
    )


def wait_done(client: Any, name: str, timeout: float = 60) -> Any:
    from google.cloud import batch_v1

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get_job(name=name)
        if job.status.state in (
            batch_v1.JobStatus.State.SUCCEEDED,
            batch_v1.JobStatus.State.FAILED,
        ):
            return job
        time.sleep(0.1)
    pytest.fail(f"job {name} did not finish in {timeout} s")


def task_logs(batch: BatchEmulator, job: Any) -> list[str]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import logging as cloud_logging

    logging_client = cloud_logging.Client(
        project=batch.project,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": batch.url},
        _use_grpc=False,
    )
    entries = logging_client.list_entries(
        resource_names=[f"projects/{batch.project}"],
        filter_=(
            f'logName="projects/{batch.project}/logs/batch_task_logs" '
            f'AND labels.job_uid="{job.uid}"'
        ),
    )
    return [entry.payload for entry in entries]


def test_rejects_what_gcp_rejects(batch: BatchEmulator, client: Any, container_image: str) -> None:
    from google.api_core import exceptions as gexc
    from google.cloud import batch_v1

    parent = batch.parent
    job = make_job(container_image, ["true"])
    with pytest.raises(gexc.BadRequest, match="must match regex"):
        client.create_job(parent=parent, job=job, job_id="Bad_Id")
    with pytest.raises(gexc.BadRequest, match="label key format"):
        client.create_job(
            parent=parent, job=make_job(container_image, ["true"], labels={"Bad": "x"}), job_id="j1"
        )
    with pytest.raises(gexc.BadRequest, match="label value format"):
        client.create_job(
            parent=parent, job=make_job(container_image, ["true"], labels={"k": "a.b"}), job_id="j1"
        )
    with pytest.raises(gexc.BadRequest, match="not available"):
        client.create_job(
            parent=parent,
            job=make_job(container_image, ["true"], machine_type="e9-huge"),
            job_id="j1",
        )
    too_big = batch_v1.ComputeResource(cpu_milli=4000, memory_mib=512)
    with pytest.raises(gexc.BadRequest, match="do not fit machine type"):
        client.create_job(
            parent=parent,
            job=make_job(container_image, ["true"], compute_resource=too_big),
            job_id="j1",
        )
    with pytest.raises(gexc.BadRequest, match="maxRetryCount"):
        client.create_job(
            parent=parent, job=make_job(container_image, ["true"], max_retry_count=11), job_id="j1"
        )
    with pytest.raises(gexc.Forbidden, match="project other-project"):
        client.create_job(
            parent="projects/other-project/locations/us-central1", job=job, job_id="j1"
        )
    with pytest.raises(gexc.BadRequest, match="not supported"):
        list(
            client.list_jobs(request=batch_v1.ListJobsRequest(parent=parent, filter="labels.a ~ b"))
        )
    with pytest.raises(gexc.NotFound):
        client.get_job(name=f"{parent}/jobs/missing")

    created = client.create_job(parent=parent, job=job, job_id="only-once")
    with pytest.raises(gexc.Conflict, match="already exists"):
        client.create_job(parent=parent, job=job, job_id="only-once")
    assert wait_done(client, created.name).status.state == batch_v1.JobStatus.State.SUCCEEDED


def test_tasks_see_their_index_and_logs_reach_cloud_logging(
    batch: BatchEmulator, client: Any, container_image: str
) -> None:
    from google.cloud import batch_v1

    job = make_job(
        container_image,
        ["bash", "-c", 'echo "task $BATCH_TASK_INDEX of $BATCH_TASK_COUNT"'],
        count=3,
        environment=batch_v1.Environment(variables={"FROM_SPEC": "yes"}),
    )
    created = client.create_job(parent=batch.parent, job=job, job_id="indexed")
    done = wait_done(client, created.name)
    assert done.status.state == batch_v1.JobStatus.State.SUCCEEDED
    tasks = list(client.list_tasks(parent=f"{created.name}/taskGroups/group0"))
    assert [task.name.rsplit("/", 1)[1] for task in tasks] == ["0", "1", "2"]
    assert all(task.status.state == batch_v1.TaskStatus.State.SUCCEEDED for task in tasks)
    assert sorted(task_logs(batch, done)) == ["task 0 of 3", "task 1 of 3", "task 2 of 3"]
    listed = client.list_jobs(
        request=batch_v1.ListJobsRequest(parent=batch.parent, filter='labels.suite="emulator"')
    )
    assert [j.name for j in listed] == [created.name]


def test_retries_then_fails_with_the_exit_code(
    batch: BatchEmulator, client: Any, container_image: str
) -> None:
    from google.cloud import batch_v1

    job = make_job(
        container_image,
        ["bash", "-c", "echo attempt $BATCH_TASK_RETRY_ATTEMPT; exit 3"],
        max_retry_count=1,
    )
    done = wait_done(client, client.create_job(parent=batch.parent, job=job, job_id="flaky").name)
    assert done.status.state == batch_v1.JobStatus.State.FAILED
    assert sorted(task_logs(batch, done)) == ["attempt 0", "attempt 1"]
    task = client.get_task(name=f"{done.name}/taskGroups/group0/tasks/0")
    exits = [e.task_execution.exit_code for e in task.status.status_events if "task_execution" in e]
    assert exits == [3, 3]


def test_max_run_duration_kills_with_50005_and_fail_task_skips_retries(
    batch: BatchEmulator, client: Any, container_image: str
) -> None:
    from google.cloud import batch_v1

    never_retry_timeouts = batch_v1.LifecyclePolicy(
        action=batch_v1.LifecyclePolicy.Action.FAIL_TASK,
        action_condition=batch_v1.LifecyclePolicy.ActionCondition(exit_codes=[50005]),
    )
    job = make_job(
        container_image,
        ["sleep", "60"],
        max_run_duration="1s",
        max_retry_count=2,
        lifecycle_policies=[never_retry_timeouts],
    )
    started = time.monotonic()
    done = wait_done(client, client.create_job(parent=batch.parent, job=job, job_id="slow").name)
    assert time.monotonic() - started < 30
    task = client.get_task(name=f"{done.name}/taskGroups/group0/tasks/0")
    exits = [e.task_execution.exit_code for e in task.status.status_events if "task_execution" in e]
    assert exits == [50005]


def test_delete_kills_the_running_container(
    batch: BatchEmulator, client: Any, container_image: str
) -> None:
    from google.api_core import exceptions as gexc
    from google.cloud import batch_v1

    created = client.create_job(
        parent=batch.parent, job=make_job(container_image, ["sleep", "120"]), job_id="doomed"
    )
    deadline = time.monotonic() + 30
    while client.get_job(name=created.name).status.state != batch_v1.JobStatus.State.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    while not batch.containers():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    client.delete_job(name=created.name)
    assert batch.containers() == []
    while True:
        try:
            client.get_job(name=created.name)
        except gexc.NotFound:
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_gcs_volume_is_stood_in_for(
    batch: BatchEmulator, client: Any, container_image: str, gcs_bucket: str
) -> None:
    from google.cloud import batch_v1
    from redun_gcp.gcs import get_client

    bucket = get_client().bucket(gcs_bucket)
    bucket.blob("in/data.txt").upload_from_string(b"from gcs")
    mount = f"/mnt/disks/{gcs_bucket}"
    job = make_job(
        container_image,
        [
            "bash",
            "-c",
            f"mkdir -p {mount}/out && tr a-z A-Z < {mount}/in/data.txt > {mount}/out/result.txt",
        ],
        volumes=[batch_v1.Volume(gcs=batch_v1.GCS(remote_path=gcs_bucket), mount_path=mount)],
    )
    done = wait_done(client, client.create_job(parent=batch.parent, job=job, job_id="mounted").name)
    assert done.status.state == batch_v1.JobStatus.State.SUCCEEDED
    assert bucket.blob("out/result.txt").download_as_bytes() == b"FROM GCS"
