"""aws_glue through moto's Glue records and the job-run emulator (tests/helpers/moto_glue.py)."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest
from redun import File

from tests.helpers.moto_server import MotoServer


def glue_runs(moto: MotoServer) -> list[dict]:
    glue = moto.client("glue")
    runs = []
    for name in glue.list_jobs()["JobNames"]:
        runs += glue.get_job_runs(JobName=name)["JobRuns"]
    return runs


def test_glue_runs_succeed_and_fail_with_logs(moto: MotoServer, glue_wf: Any) -> None:
    scheduler = glue_wf.scheduler()
    assert scheduler.run(glue_wf.glue_add(2, 3)) == 5
    with pytest.raises(ValueError, match="glue boom"):
        scheduler.run(glue_wf.glue_fail("glue boom"))
    assert any("glue log line before failing" in line for line in scheduler.traceback.logs)
    states = sorted(run["JobRunState"] for run in glue_runs(moto))
    assert states == ["FAILED", "SUCCEEDED"]
    # One Glue job definition serves both tasks; redun itself ships as a zip.
    [job] = moto.client("glue").get_jobs()["Jobs"]
    assert job["DefaultArguments"]["--extra-py-files"].endswith(".zip")
    assert job["Command"]["ScriptLocation"].startswith("s3://redun-glue-test/redun/glue/")


def test_glue_timeout_and_stop(moto: MotoServer, glue_wf: Any) -> None:
    from redun_aws.glue_executor import AWSGlueJobStoppedError, AWSGlueJobTimeoutError

    moto.glue_settings(minute_seconds=1)
    with pytest.raises(AWSGlueJobTimeoutError):
        glue_wf.scheduler().run(glue_wf.glue_sleep.options(timeout=2)(60))

    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            glue_wf.scheduler().run(glue_wf.glue_sleep(61))
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 60
    running: list[dict] = []
    while not running and time.monotonic() < deadline:
        running = [r for r in glue_runs(moto) if r["JobRunState"] == "RUNNING"]
        time.sleep(0.2)
    assert running, "the Glue run never started"
    moto.client("glue").batch_stop_job_run(
        JobName=running[0]["JobName"], JobRunIds=[running[0]["Id"]]
    )
    thread.join(60)
    assert isinstance(outcome.get("error"), AWSGlueJobStoppedError)
    assert "STOPPED" in sorted(run["JobRunState"] for run in glue_runs(moto))


def test_concurrent_runs_are_resubmitted(moto: MotoServer, glue_wf: Any) -> None:
    scheduler = glue_wf.scheduler(max_concurrent_runs="1", job_retry_interval="20")
    assert scheduler.run([glue_wf.glue_add(1, 1), glue_wf.glue_add(2, 2)]) == [2, 4]
    assert moto.calls()["glue:startjobrun"] >= 3
    assert len(glue_runs(moto)) == 2


@pytest.mark.slow
def test_glue_entry_script_runs_real_pyspark(moto: MotoServer, glue_wf: Any) -> None:
    if os.environ.get("REDUN_REQUIRE_SPARK") != "1":
        pytest.importorskip("pyspark", reason="pyspark not installed (.ci/run installs it)")
    path = "s3://redun-glue-test/data/words.txt"
    File(path).write("to be or not to be\n")
    counts = glue_wf.scheduler().run(glue_wf.word_count(path))
    assert counts == {"be": 2, "not": 1, "or": 1, "to": 2}
    assert File(path + ".counts.json").read() == '{"be": 2, "not": 1, "or": 1, "to": 2}'
