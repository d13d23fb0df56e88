"""The ``aws_glue`` executor: each job is a run of one Glue (Spark) job definition.

Like every remote executor, the workflow's code package and each job's input
go to ``s3_scratch`` and the job runs ``redun oneshot``; on Glue it runs
inside `redun_aws.glue_entry`, with redun itself (and its pure-Python
dependencies) shipped as a zip in ``--extra-py-files``. One Glue job
definition serves every task of a redun version and config (named by their
hash); each redun job is a ``start_job_run`` with per-task workers, worker
type, timeout and extra Python modules.

``timeout`` is in minutes, as in Glue and redun. A run refused for too many
concurrent runs is resubmitted after ``job_retry_interval`` seconds, up to
five times.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import io
import json
import math
import os
import time
import zipfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from redun.executors import scratch
from redun.executors.base import ExecutorError
from redun.executors.remote import (
    LABEL_EVAL_HASH,
    LABEL_EXECUTOR,
    LABEL_SCRATCH,
    RemoteExecutor,
    RemoteJobTimeoutError,
    RemoteSpec,
    RemoteState,
    RemoteStatus,
)

from redun_aws import aws

if TYPE_CHECKING:
    from redun.scheduler import Scheduler

PENDING_STATES = ("STARTING", "WAITING")
RUNNING_STATES = ("RUNNING", "STOPPING")
RESUBMIT_CODES = ("ConcurrentRunsExceededException", "ResourceNumberLimitExceededException")
RESUBMIT_ATTEMPTS = 5
LOG_GROUPS = ("/aws-glue/jobs/output", "/aws-glue/jobs/error")
# Pure-Python packages redun needs that Glue's Python does not have.
LIB_PACKAGES = ("redun", "redun_aws", "pluggy", "click", "cloudpickle")
LIB_DISTRIBUTIONS = ("redun-core", "redun-aws")


class AWSGlueError(ExecutorError):
    """Glue refused a request, or a run failed without a Python error of its own."""


class AWSGlueJobTimeoutError(RemoteJobTimeoutError):
    """A Glue run exceeded its timeout."""


class AWSGlueJobStoppedError(AWSGlueError):
    """A Glue run was stopped before it finished."""


def package_redun_lib() -> tuple[bytes, str]:
    """A zip of redun, redun-aws and their pure-Python dependencies, and its content hash.

    Entry points travel in small dist-info folders, so ``s3://`` resolves
    inside Glue as it does here.
    """
    import importlib
    from importlib import metadata

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for package in LIB_PACKAGES:
            root = os.path.dirname(importlib.import_module(package).__file__ or "")
            for folder, dirs, files in sorted(os.walk(root)):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in sorted(files):
                    if name.endswith((".pyc", ".pyo")):
                        continue
                    path = os.path.join(folder, name)
                    arcname = os.path.join(package, os.path.relpath(path, root))
                    info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
                    with open(path, "rb") as infile:
                        archive.writestr(info, infile.read())
        for dist_name in LIB_DISTRIBUTIONS:
            dist = metadata.distribution(dist_name)
            folder = f"{dist_name.replace('-', '_')}-{dist.version}.dist-info"
            meta = f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {dist.version}\n"
            for name, text in (
                ("METADATA", meta),
                ("entry_points.txt", dist.read_text("entry_points.txt") or ""),
            ):
                info = zipfile.ZipInfo(f"{folder}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
                archive.writestr(info, text)
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()[:16]


class AWSGlueExecutor(RemoteExecutor):
    """Runs jobs as AWS Glue job runs."""

    runs_on_aws = True
    timeout_grace = math.inf
    timeout_error = AWSGlueJobTimeoutError

    DEFAULTS: Mapping[str, str] = {
        **RemoteExecutor.DEFAULTS,
        "image": "aws-glue",
        "glue_version": "5.0",
        "worker_type": "G.1X",
        "workers": "10",
        "timeout": "2880",
        "job_monitor_interval": "10.0",
        "job_retry_interval": "60.0",
        "glue_job_prefix": "REDUN",
        "max_concurrent_runs": "1000",
        "enable_metrics": "false",
        "min_array_size": "0",
    }

    def __init__(
        self,
        name: str,
        scheduler: Scheduler | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        section = f"executors.{name}"
        settings = dict(config or {})
        if not settings.get("s3_scratch", "").startswith("s3://"):
            raise ExecutorError(
                f"[{section}] needs `s3_scratch` (an s3:// prefix for code, inputs and results)"
            )
        settings["scratch"] = settings["s3_scratch"]
        super().__init__(name, scheduler=scheduler, config=settings)
        self.region = self.settings.get("aws_region") or None
        self.retry_interval = float(self.settings["job_retry_interval"])
        self._glue_jobs: dict[str, str] = {}
        self._described: dict[str, dict] = {}
        self._lib: tuple[bytes, str, bytes] | None = None
        self._roles: dict[str, str] = {}

    def glue(self) -> Any:
        return aws.client("glue", aws.region(self.region))

    def _api(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.glue(), operation)(**kwargs)
        except Exception as error:
            if not aws.is_client_error(error):
                raise
            general = aws.describe_failure(error, f"AWS Glue {operation}")
            if general:
                raise AWSGlueError(general) from None
            raise

    # -- the Glue job definition -------------------------------------------------------------

    def _role(self, options: Mapping[str, Any]) -> str:
        role = options.get("role") or self.settings.get("role")
        if role:
            return str(role)
        if "default" not in self._roles:
            identity = aws.client("sts", aws.region(self.region)).get_caller_identity()
            account = identity["Account"]
            self._roles["default"] = f"arn:aws:iam::{account}:role/service-role/AWSGlueServiceRole"
        return self._roles["default"]

    def glue_job(self, options: Mapping[str, Any]) -> str:
        """The Glue job definition for this redun version and config, created once."""
        role = self._role(options)
        if self._lib is None:
            script = importlib.resources.files("redun_aws").joinpath("glue_entry.py").read_bytes()
            self._lib = (*package_redun_lib(), script)
        lib, lib_hash, script = self._lib
        script_hash = hashlib.sha256(script).hexdigest()[:16]
        prefix = self.scratch_prefix
        lib_path = scratch.join(prefix, "glue", f"redun-{lib_hash}.zip")
        script_path = scratch.join(prefix, "glue", f"glue_entry-{script_hash}.py")
        history = self.settings.get("spark_history_dir") or scratch.join(
            prefix, "glue", "spark_history"
        )
        definition = {
            "Role": role,
            "Command": {"Name": "glueetl", "ScriptLocation": script_path, "PythonVersion": "3"},
            "DefaultArguments": {
                "--extra-py-files": lib_path,
                "--job-language": "python",
                "--enable-spark-ui": "true",
                "--spark-event-logs-path": history,
                **({"--enable-metrics": ""} if self.settings["enable_metrics"] == "true" else {}),
            },
            "ExecutionProperty": {"MaxConcurrentRuns": int(self.settings["max_concurrent_runs"])},
            "GlueVersion": self.settings["glue_version"],
            "WorkerType": self.settings["worker_type"],
            "NumberOfWorkers": int(self.settings["workers"]),
        }
        digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()
        name = f"{self.settings['glue_job_prefix']}-{digest[:16]}"
        with self._lock:
            if name in self._glue_jobs:
                return name
            for path, data in ((lib_path, lib), (script_path, script)):
                if not scratch.exists(path):
                    scratch.write_bytes(path, data)
            try:
                self.glue().get_job(JobName=name)
            except Exception as error:
                if aws.error_code(error) != "EntityNotFoundException":
                    raise AWSGlueError(
                        f"[{self.section}] cannot read Glue job {name}: {aws.error_message(error)}"
                    ) from None
                self._create_job(name, definition)
            self._glue_jobs[name] = name
        return name

    def _create_job(self, name: str, definition: dict[str, Any]) -> None:
        try:
            self.glue().create_job(Name=name, **definition)
        except Exception as error:
            if not aws.is_client_error(error):
                raise
            raise AWSGlueError(
                f"[{self.section}] cannot create Glue job {name}: {aws.error_message(error)} "
                "(check role and glue_version)"
            ) from None
        self.log(f"Created Glue job {name}")

    # -- engine calls ----------------------------------------------------------------------

    def submit_command(self, spec: RemoteSpec) -> str:
        options = spec.options
        job_name = self.glue_job(options)
        workers = int(options.get("workers", self.settings["workers"]))
        arguments = {
            "--redun-oneshot": json.dumps(spec.command),
            "--redun-workers": str(workers),
            "--job-hash": spec.labels.get(LABEL_EVAL_HASH, ""),
            "--redun-executor": spec.labels.get(LABEL_EXECUTOR, ""),
            "--redun-scratch": spec.labels.get(LABEL_SCRATCH, ""),
        }
        libs = options.get("additional_libs") or []
        if libs:
            arguments["--additional-python-modules"] = ",".join(libs)
        extra_files = options.get("extra_files") or []
        if extra_files:
            arguments["--extra-files"] = ",".join(extra_files)
        kwargs = {
            "JobName": job_name,
            "Arguments": arguments,
            "WorkerType": options.get("worker_type", self.settings["worker_type"]),
            "NumberOfWorkers": workers,
            "Timeout": max(1, math.ceil(spec.timeout or float(self.settings["timeout"]))),
        }
        for attempt in range(1, RESUBMIT_ATTEMPTS + 1):
            try:
                run_id = self.glue().start_job_run(**kwargs)["JobRunId"]
                return f"{job_name}:{run_id}"
            except Exception as error:
                code = aws.error_code(error)
                if code in RESUBMIT_CODES and attempt < RESUBMIT_ATTEMPTS:
                    self.log(
                        f"Glue refused a run ({code}); resubmitting in {self.retry_interval:g} s "
                        f"(attempt {attempt}/{RESUBMIT_ATTEMPTS})"
                    )
                    time.sleep(self.retry_interval)
                    continue
                if not aws.is_client_error(error):
                    raise
                raise AWSGlueError(
                    f"[{self.section}] Glue refused to start job {job_name}: "
                    f"{aws.error_message(error)}"
                ) from None
        raise AssertionError("unreachable")

    def _runs(self, job_name: str) -> list[dict]:
        runs: list[dict] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"JobName": job_name}
            if token:
                kwargs["NextToken"] = token
            page = self._api("get_job_runs", **kwargs)
            runs += page.get("JobRuns", [])
            token = page.get("NextToken")
            if not token:
                return runs

    def poll(self, remote_ids: list[str]) -> dict[str, RemoteStatus]:
        by_job: dict[str, list[str]] = {}
        for remote_id in remote_ids:
            by_job.setdefault(remote_id.split(":", 1)[0], []).append(remote_id)
        statuses: dict[str, RemoteStatus] = {}
        for job_name, ids in by_job.items():
            runs = {f"{job_name}:{run['Id']}": run for run in self._runs(job_name)}
            for remote_id in ids:
                run = runs.get(remote_id)
                if run is None:
                    continue
                with self._lock:
                    self._described[remote_id] = run
                statuses[remote_id] = self._status(run)
        return statuses

    @staticmethod
    def _status(run: dict) -> RemoteStatus:
        state = run.get("JobRunState", "")
        message = run.get("ErrorMessage", "")
        if state in PENDING_STATES:
            return RemoteStatus(RemoteState.PENDING)
        if state in RUNNING_STATES:
            return RemoteStatus(RemoteState.RUNNING)
        if state == "SUCCEEDED":
            return RemoteStatus(RemoteState.SUCCEEDED)
        if state == "TIMEOUT":
            return RemoteStatus(RemoteState.FAILED, message or "Glue run timed out", timed_out=True)
        reason = f"Glue run {state}" + (f": {message}" if message else "")
        return RemoteStatus(RemoteState.FAILED, reason)

    def _finish(self, entry: Any, status: RemoteStatus) -> None:
        with self._lock:
            run = self._described.get(entry.remote_id) or {}
        if run.get("JobRunState") == "STOPPED":
            self._fail(
                entry,
                AWSGlueJobStoppedError(
                    f"Glue run {entry.remote_id} of job {entry.job.id[:8]} was stopped"
                ),
                None,
            )
            return
        super()._finish(entry, status)

    def cancel(self, remote_ids: list[str]) -> None:
        by_job: dict[str, list[str]] = {}
        for remote_id in remote_ids:
            job_name, _, run_id = remote_id.partition(":")
            by_job.setdefault(job_name, []).append(run_id)
        for job_name, run_ids in by_job.items():
            try:
                self._api("batch_stop_job_run", JobName=job_name, JobRunIds=run_ids)
            except Exception as error:
                self.log(f"Could not stop Glue runs of {job_name}: {error}")

    def logs(self, remote_id: str, tail: int = 100) -> list[str]:
        run_id = remote_id.partition(":")[2]
        logs = aws.client("logs", aws.region(self.region))
        lines: list[str] = []
        for group in LOG_GROUPS:
            try:
                events = logs.get_log_events(
                    logGroupName=group, logStreamName=run_id, limit=tail, startFromHead=False
                )["events"]
            except Exception as error:
                if aws.is_client_error(error):
                    continue
                raise
            lines += [event["message"] + "\n" for event in events]
        return lines[-tail:]

    def job_tags(self, remote_id: str) -> list[tuple[str, str]]:
        with self._lock:
            self._described.pop(remote_id, None)
        job_name, _, run_id = remote_id.partition(":")
        return [("aws_glue_job", job_name), ("aws_glue_run", run_id)]

    def list_jobs(self) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for job_name in list(self._glue_jobs) or [self.glue_job({})]:
            for run in self._runs(job_name):
                if run.get("JobRunState") not in (*PENDING_STATES, *RUNNING_STATES):
                    continue
                args = run.get("Arguments") or {}
                found[f"{job_name}:{run['Id']}"] = {
                    LABEL_EXECUTOR: args.get("--redun-executor", ""),
                    LABEL_SCRATCH: args.get("--redun-scratch", ""),
                    LABEL_EVAL_HASH: args.get("--job-hash", ""),
                }
        return found
