"""Polling an array costs a bounded number of Batch calls, counted by the moto server.

Pages are shrunk (describe_jobs 100 -> 3, list_jobs 1,000 -> 7) so that an array
of 20 costs what an array of hundreds would at Batch's real page sizes.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from redun.backends.db import Job as DbJob
from redun.executors.remote import RemoteState

from tests.plugins.aws.batch_env import BatchSetup

pytestmark = pytest.mark.container

SIZE = 20
DESCRIBE_PAGE = 3


def poll_calls(setup: BatchSetup) -> int:
    calls = setup.moto.calls()
    return calls.get("batch:describejobs", 0) + calls.get("batch:listjobs", 0)


def test_array_polls_cost_a_call_a_list_and_the_children_that_ended(
    batch_setup: BatchSetup, batch_wf: Any, batch_scheduler: Any, monkeypatch: Any
) -> None:
    from redun_aws import batch as batch_module

    monkeypatch.setattr(batch_module, "DESCRIBE_PAGE", DESCRIBE_PAGE)
    scheduler = batch_scheduler(min_array_size="5", job_stale_time="1.0")
    executor = scheduler.executors["batch"]
    polls: list[tuple[int, int, int]] = []  # (children followed, children ended, calls)
    original_poll = executor.poll

    def counted_poll(remote_ids: list[str]) -> dict:
        before = poll_calls(batch_setup)
        statuses = original_poll(remote_ids)
        ended = sum(
            1
            for status in statuses.values()
            if status.state in (RemoteState.SUCCEEDED, RemoteState.FAILED)
        )
        polls.append((len(remote_ids), ended, poll_calls(batch_setup) - before))
        return statuses

    monkeypatch.setattr(executor, "poll", counted_poll)
    result = scheduler.run(batch_wf.squares.options(executor="default")(SIZE))
    assert result == [i * i for i in range(SIZE)]
    assert batch_setup.moto.calls()["batch:submitjob"] == 1

    assert sum(ended for _, ended, _ in polls) == SIZE
    for followed, ended, calls in polls:
        # The parent; when some ended, the SUCCEEDED list (none fails here) and each
        # ended child described once.
        bound = 2 + math.ceil(ended / DESCRIBE_PAGE) if ended else 1
        assert calls <= bound, (followed, ended, calls, polls)
    quiet = [calls for _, ended, calls in polls if not ended]
    assert quiet and all(calls == 1 for calls in quiet), polls

    # Every child was described once it ended: each keeps its CloudWatch stream tag.
    jobs = scheduler.backend.session.query(DbJob).all()
    tags = scheduler.backend.get_tags([job.id for job in jobs])
    streams = [
        job.id for job in jobs if any(key == "aws_log_stream" for key, _ in tags.get(job.id, []))
    ]
    assert len(streams) == SIZE

    # The lists follow nextToken: 20 children in pages of 7 are three calls.
    [parent] = {
        value.split(":")[0]
        for values in tags.values()
        for key, value in values
        if key == "aws_batch_job"
    }
    monkeypatch.setattr(batch_module, "LIST_PAGE", 7)
    batch_setup.moto.reset_counts()
    listed = executor.list_children(parent, "SUCCEEDED")
    assert sorted(job["jobId"] for job in listed) == sorted(f"{parent}:{i}" for i in range(SIZE))
    assert batch_setup.moto.calls()["batch:listjobs"] == 3
