"""Workflows on aws_batch: moto's Batch API, real containers, S3 scratch on moto."""

from __future__ import annotations

from typing import Any

import pytest
from redun import File
from redun.executors.remote import RemoteJobError

from tests.plugins.aws.batch_env import BatchSetup

pytestmark = pytest.mark.container


def batch_jobs(setup: BatchSetup) -> list[dict]:
    batch = setup.batch()
    ids = [
        s["jobId"]
        for s in batch.list_jobs(
            jobQueue=setup.queue, filters=[{"name": "JOB_NAME", "values": ["redun-job-*"]}]
        )["jobSummaryList"]
    ]
    return batch.describe_jobs(jobs=ids)["jobs"] if ids else []


def test_pipeline_first_run_then_fully_cached(
    batch_setup: BatchSetup, batch_wf: Any, batch_scheduler: Any
) -> None:
    """S3 Files between tasks, a staged script, an array of 20 in one submission; then cached."""
    prefix = f"s3://{batch_setup.bucket}/data"
    scheduler = batch_scheduler(min_array_size="5", job_stale_time="1.0")
    result = scheduler.run(batch_wf.pipeline.options(executor="batch")(prefix, 20))
    assert result["count"] == 3
    assert isinstance(result["shouted"], File)
    assert result["shouted"].read() == "LINE 0\nLINE 1\nLINE 2\n"
    assert result["squares"] == [i * i for i in range(20)]

    jobs = batch_jobs(batch_setup)
    arrays = [job for job in jobs if job.get("arrayProperties", {}).get("size")]
    assert [job["arrayProperties"]["size"] for job in arrays] == [20]
    assert all(job["status"] == "SUCCEEDED" for job in jobs)
    # pipeline, write_lines, count_lines, shout and its script as single jobs; one array.
    assert len(jobs) == 6
    tags = arrays[0]["tags"]
    assert tags["redun.executor"] == "batch" and tags["redun_task_name"] == "aws_batch_test.square"

    calls = batch_setup.moto.calls()
    assert calls["batch:submitjob"] == 6
    assert calls["batch:registerjobdefinition"] == 1
    recorded = scheduler.backend.get_tags([scheduler.backend.session.query(_Job).first().id])
    assert any(key == "aws_batch_job" for values in recorded.values() for key, _ in values)

    batch_setup.moto.reset_counts()
    again = batch_scheduler(min_array_size="5", job_stale_time="1.0")
    cached = again.run(batch_wf.pipeline.options(executor="batch")(prefix, 20))
    assert cached["squares"] == result["squares"] and cached["count"] == 3
    assert (cached["shouted"].path, cached["shouted"].hash) == (
        result["shouted"].path,
        result["shouted"].hash,
    )
    calls = batch_setup.moto.calls()
    assert calls.get("batch:submitjob", 0) == 0
    assert calls.get("batch:registerjobdefinition", 0) == 0


def test_failure_brings_cloudwatch_lines_and_status(
    batch_setup: BatchSetup, batch_wf: Any, batch_scheduler: Any
) -> None:
    scheduler = batch_scheduler()
    with pytest.raises(ValueError, match="boom on batch"):
        scheduler.run(batch_wf.fail.options(executor="batch")("boom on batch"))
    assert any("batch log line before failing" in line for line in scheduler.traceback.logs)

    missing = batch_wf.square.options(executor="batch", image="localhost/no-such-image:1")
    with pytest.raises(RemoteJobError) as info:
        batch_scheduler().run(missing(3))
    message = str(info.value)
    assert "CannotPullContainerError" in message and "no-such-image" in message
    assert "\n" not in message


def test_retries_are_made_by_batch(
    batch_setup: BatchSetup, batch_wf: Any, batch_scheduler: Any
) -> None:
    attempts = f"s3://{batch_setup.bucket}/attempts.txt"
    scheduler = batch_scheduler()
    flaky = batch_wf.flaky.options(executor="batch", retries=1)
    assert scheduler.run(flaky(attempts, 1)) == "recovered"
    assert File(attempts).read().splitlines() == ["attempt", "attempt"]
    calls = batch_setup.moto.calls()
    assert calls["batch:submitjob"] == 1
    [job] = [j for j in batch_jobs(batch_setup) if j["jobName"].startswith("redun-job-")]
    assert len(job["attempts"]) == 2


def test_timeouts_short_by_redun_and_native_by_batch(
    batch_setup: BatchSetup, batch_wf: Any, batch_scheduler: Any, monkeypatch: Any
) -> None:
    from redun_aws import batch as batch_module
    from redun_aws.batch import AWSBatchJobTimeoutError

    scheduler = batch_scheduler()
    with pytest.raises(AWSBatchJobTimeoutError, match="timeout of 2 s"):
        scheduler.run(batch_wf.slow.options(executor="batch", timeout=2)(60))
    # Batch's own deadline (60 s minimum in Batch; lowered on this server for the test).
    batch_setup.moto.batch_settings(min_timeout=1)
    monkeypatch.setattr(batch_module, "MIN_NATIVE_TIMEOUT", 1)
    with pytest.raises(AWSBatchJobTimeoutError):
        batch_scheduler().run(batch_wf.slow.options(executor="batch", timeout=3)(61))
    reasons = [job.get("statusReason", "") for job in batch_jobs(batch_setup)]
    assert "Job attempt duration exceeded timeout" in reasons


def test_multi_node_job_main_node_wins(
    batch_setup: BatchSetup, batch_wf: Any, batch_scheduler: Any
) -> None:
    prefix = f"s3://{batch_setup.bucket}/nodes"
    result = batch_scheduler().run(batch_wf.nodes.options(executor="batch", num_nodes=2)(prefix))
    assert result == {"node": "0", "nodes": "2"}
    assert File(f"{prefix}/node-0").read() == "0"
    assert File(f"{prefix}/node-1").read() == "1"
    [job] = batch_jobs(batch_setup)
    assert job["nodeProperties"]["numNodes"] == 2


def test_debug_runs_the_job_on_local_docker(
    batch_setup: BatchSetup, batch_wf: Any, batch_scheduler: Any, tmp_path: Any
) -> None:
    scheduler = batch_scheduler(
        debug="true", interactive="false", debug_scratch=str(tmp_path / "debug")
    )
    assert scheduler.run(batch_wf.square.options(executor="batch")(7)) == 49
    assert batch_setup.moto.calls().get("batch:submitjob", 0) == 0
    assert list((tmp_path / "debug" / "jobs").iterdir())


def test_throttled_describe_jobs_is_retried(
    batch_setup: BatchSetup, batch_wf: Any, batch_scheduler: Any
) -> None:
    batch_setup.moto.throttle("batch", "describejobs", 3)
    assert batch_scheduler().run(batch_wf.square.options(executor="batch")(5)) == 25
    assert batch_setup.moto.calls()["batch:describejobs"] >= 4


def _job_model() -> Any:
    from redun.backends.db import Job

    return Job


_Job = _job_model()
