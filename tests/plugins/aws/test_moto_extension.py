"""The tests' extension of moto's Batch (tests/helpers/moto_batch.py), checked on its own."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers.moto_server import MotoServer
from tests.plugins.aws.batch_env import create_batch


def job_definition(batch: Any, image: str) -> str:
    return batch.register_job_definition(
        jobDefinitionName="ext-test",
        type="container",
        containerProperties={
            "image": image,
            "command": ["true"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "512"},
            ],
        },
    )["jobDefinitionArn"]


def test_batch_rejects_what_real_batch_rejects(moto: MotoServer) -> None:
    setup = create_batch(moto, "localhost/redun:test")
    batch = setup.batch()
    arn = job_definition(batch, setup.image)
    common = {"jobName": "ext", "jobQueue": setup.queue, "jobDefinition": arn}
    with pytest.raises(ClientError, match="at least 60"):
        batch.submit_job(**common, timeout={"attemptDurationSeconds": 5})
    with pytest.raises(ClientError, match="between 1 and 10"):
        batch.submit_job(**common, retryStrategy={"attempts": 11})
    with pytest.raises(ClientError, match="at most 100"):
        batch.describe_jobs(jobs=[f"id-{i}" for i in range(101)])
    with pytest.raises(ClientError, match="exactly one of jobQueue, arrayJobId"):
        batch.list_jobs(jobQueue=setup.queue, arrayJobId="some-array")
    with pytest.raises(ClientError, match="exactly one of jobQueue, arrayJobId"):
        batch.list_jobs(jobStatus="RUNNING")
    with pytest.raises(ClientError, match="maxResults"):
        batch.list_jobs(jobQueue=setup.queue, maxResults=0)


@pytest.mark.container
def test_array_children_retries_exit_codes_and_parent_status(
    moto: MotoServer, moto_docker: str
) -> None:
    setup = create_batch(moto, moto_docker)
    batch = setup.batch()
    arn = job_definition(batch, setup.image)
    script = 'echo "index $AWS_BATCH_JOB_ARRAY_INDEX attempt $AWS_BATCH_JOB_ATTEMPT"; exit 3'
    parent = batch.submit_job(
        jobName="ext-array",
        jobQueue=setup.queue,
        jobDefinition=arn,
        arrayProperties={"size": 2},
        retryStrategy={"attempts": 2},
        containerOverrides={"command": ["sh", "-c", script]},
    )["jobId"]
    children = [f"{parent}:0", f"{parent}:1"]
    seen: set[tuple[str, int]] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        jobs = batch.describe_jobs(jobs=children)["jobs"]
        seen |= {(job["status"], len(job.get("attempts", []))) for job in jobs}
        if all(job["status"] == "FAILED" for job in jobs):
            break
        time.sleep(0.2)
    # FAILED only once both attempts are spent (Batch shows RUNNABLE in between).
    assert ("FAILED", 1) not in seen
    jobs = {job["jobId"]: job for job in batch.describe_jobs(jobs=children)["jobs"]}
    for index, child in enumerate(children):
        job = jobs[child]
        assert job["status"] == "FAILED" and len(job["attempts"]) == 2
        assert job["container"]["exitCode"] == 3
        assert job["arrayProperties"] == {"index": index}
        stream = job["container"]["logStreamName"]
        events = moto.client("logs").get_log_events(
            logGroupName="/aws/batch/job", logStreamName=stream
        )["events"]
        messages = [event["message"] for event in events]
        assert f"index {index} attempt 1" in messages and f"index {index} attempt 2" in messages
    [described] = batch.describe_jobs(jobs=[parent])["jobs"]
    assert described["status"] == "FAILED"

    # Children by status, as Batch lists them: summaries carry index, exit code, reason.
    failed = batch.list_jobs(arrayJobId=parent, jobStatus="FAILED")["jobSummaryList"]
    assert sorted(job["jobId"] for job in failed) == children
    for job in failed:
        assert job["arrayProperties"] == {"index": int(job["jobId"].split(":")[1])}
        assert job["container"]["exitCode"] == 3 and job["container"]["reason"]
    assert batch.list_jobs(arrayJobId=parent, jobStatus="SUCCEEDED")["jobSummaryList"] == []
    # No status and no filters lists RUNNING jobs only.
    assert batch.list_jobs(arrayJobId=parent)["jobSummaryList"] == []
    first = batch.list_jobs(arrayJobId=parent, jobStatus="FAILED", maxResults=1)
    second = batch.list_jobs(
        arrayJobId=parent, jobStatus="FAILED", maxResults=1, nextToken=first["nextToken"]
    )
    assert "nextToken" not in second
    paged = first["jobSummaryList"] + second["jobSummaryList"]
    assert sorted(job["jobId"] for job in paged) == children
    listed = batch.list_jobs(
        jobQueue=setup.queue, filters=[{"name": "JOB_NAME", "values": ["ext-array"]}]
    )["jobSummaryList"]
    assert [job["jobId"] for job in listed] == [parent]
