"""An emulator of AWS Glue's job runs, on top of moto 5.2.5's Glue records.

moto stores Glue jobs and runs but runs nothing (a run is SUCCEEDED at once)
and answers ``BatchStopJobRun`` with a 500. `install()` makes each
``StartJobRun`` really run the job: the script at the job's ScriptLocation
and its ``--extra-py-files`` are fetched from S3 (this same server), and the
script runs as a local Python process with the run's arguments, the way Glue
runs it (``script.py --JOB_NAME ... --JOB_RUN_ID ... --key value ...``), with
a small stand-in of Glue's ``awsglue`` package (tests/helpers/awsglue_stub)
on its path and a local PySpark when installed. So:

- STARTING -> RUNNING -> SUCCEEDED, or FAILED with the last stderr line as
  ErrorMessage when the script exits non-zero;
- TIMEOUT when the run outlives its ``Timeout`` (minutes; a test may shorten
  a minute with ``POST /redun-test/glue {"minute_seconds": 1}``);
- STOPPING -> STOPPED on ``BatchStopJobRun`` (the process is killed);
- moto's own MaxConcurrentRuns check raises ConcurrentRunsExceededException;
- stdout and stderr go to CloudWatch ``/aws-glue/jobs/output`` and
  ``/aws-glue/jobs/error``, stream named by the run id.

Deviations: ``--additional-python-modules`` are not installed (they must be
importable already), there is one process, not a cluster of workers, and
no Data Catalog tables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

STUB = Path(__file__).with_name("awsglue_stub")
SETTINGS = {"minute_seconds": 60.0}
DEFAULT_SETTINGS = dict(SETTINGS)


def _client(service: str) -> Any:
    import boto3

    endpoint = f"http://127.0.0.1:{os.environ['MOTO_PORT']}"
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


def _fetch(url: str, dest_dir: str) -> str:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    path = os.path.join(dest_dir, os.path.basename(key))
    _client("s3").download_file(bucket, key, path)
    return path


def _put_logs(group: str, stream: str, text: str) -> None:
    logs = _client("logs")
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in text.splitlines() if line]
    if events:
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def _run(job: Any, run: Any) -> None:
    """Run one job run's script to its end state."""
    workdir = tempfile.mkdtemp(prefix="glue-run-")
    try:
        args = dict(run.arguments or {})
        script = _fetch(job.command["ScriptLocation"], workdir)
        paths = [
            _fetch(url, workdir)
            for url in filter(None, args.get("--extra-py-files", "").split(","))
        ]
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{os.environ['MOTO_PORT']}",
            "PYTHONPATH": os.pathsep.join([*paths, str(STUB)]),
            "PYSPARK_PYTHON": sys.executable,
        }
        argv = [sys.executable, script, "--JOB_NAME", job.name, "--JOB_RUN_ID", run.job_run_id]
        for key, value in args.items():
            argv += [key, value]
        run.redun_state = "RUNNING"
        process = subprocess.Popen(
            argv,
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        run.redun_process = process
        limit = (run.timeout or job.timeout or 2880) * SETTINGS["minute_seconds"]
        try:
            stdout, stderr = process.communicate(timeout=limit)
            timed_out = False
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            timed_out = True
        _put_logs("/aws-glue/jobs/output", run.job_run_id, stdout)
        _put_logs("/aws-glue/jobs/error", run.job_run_id, stderr)
        run.execution_time = int(time.time() - run.started_on.timestamp())
        if run.redun_state == "STOPPING":
            run.redun_state = "STOPPED"
        elif timed_out:
            run.redun_state = "TIMEOUT"
            run.error_message = f"Job run timed out after {run.timeout or job.timeout} minutes"
        elif process.returncode == 0:
            run.redun_state = "SUCCEEDED"
        else:
            lines = [line for line in stderr.splitlines() if line.strip()]
            run.error_message = lines[-1] if lines else f"exit code {process.returncode}"
            run.redun_state = "FAILED"
    except Exception as error:
        run.error_message = f"emulator could not run the job: {error!r}"
        run.redun_state = "FAILED"
    finally:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


def install() -> None:
    from moto.glue import models, responses

    if getattr(models, "_redun_extension", False):
        return
    models._redun_extension = True
    FakeJob, FakeJobRun = models.FakeJob, models.FakeJobRun

    base_status = FakeJobRun.status

    def status(self: Any) -> str | None:
        state = getattr(self, "redun_state", None)
        return state if state is not None else base_status.fget(self)

    FakeJobRun.status = property(status, base_status.fset)

    original_as_dict = FakeJobRun.as_dict

    def as_dict(self: Any) -> dict[str, Any]:
        result = original_as_dict(self)
        if getattr(self, "error_message", None):
            result["ErrorMessage"] = self.error_message
        result["ExecutionTime"] = getattr(self, "execution_time", 0)
        return result

    FakeJobRun.as_dict = as_dict

    original_start = FakeJob.start_job_run

    def start_job_run(self: Any, *args: Any, **kwargs: Any) -> str:
        run_id = original_start(self, *args, **kwargs)
        run = next(r for r in self.job_runs if r.job_run_id == run_id)
        run.redun_state = "STARTING"
        threading.Thread(target=_run, args=(self, run), daemon=True).start()
        return run_id

    FakeJob.start_job_run = start_job_run

    def batch_stop_job_run(self: Any) -> str:
        name = self._get_param("JobName")
        job = self.glue_backend.get_job(name)
        stopped, errors = [], []
        for run_id in self._get_param("JobRunIds") or []:
            run = next((r for r in job.job_runs if r.job_run_id == run_id), None)
            if run is None:
                errors.append(
                    {
                        "JobName": name,
                        "JobRunId": run_id,
                        "ErrorDetail": {
                            "ErrorCode": "EntityNotFoundException",
                            "ErrorMessage": "no such run",
                        },
                    }
                )
                continue
            if run.status in ("STARTING", "RUNNING"):
                run.redun_state = "STOPPING"
                process = getattr(run, "redun_process", None)
                if process is not None:
                    process.kill()
            stopped.append({"JobName": name, "JobRunId": run_id})
        return json.dumps({"SuccessfulSubmissions": stopped, "Errors": errors})

    responses.GlueResponse.batch_stop_job_run = batch_stop_job_run

    original_reset = models.GlueBackend.reset

    def reset(self: Any) -> None:
        SETTINGS.update(DEFAULT_SETTINGS)
        original_reset(self)

    models.GlueBackend.reset = reset
