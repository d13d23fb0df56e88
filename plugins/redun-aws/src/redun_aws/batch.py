"""The ``aws_batch`` executor: each job (or array of jobs) is an AWS Batch job.

Everything but the Batch calls comes from the core's RemoteExecutor: the code
package and job inputs go to ``s3_scratch``, each Batch job runs ``redun
oneshot``, and results are read back from S3. What this module adds:

- job definitions found by equivalence (any active revision with the same
  container properties) or registered once, so a second run registers none;
- arrays (one ``submit_job`` for up to ``max_array_size`` jobs of a task) and
  polling that describes an array's parent, lists its ended children with
  ``list_jobs(arrayJobId=..., jobStatus=...)`` only when its summary says more
  ended, and describes each ended child once (``describe_jobs`` in pages of 100);
- retries and timeouts enforced by Batch itself (``retryStrategy``,
  ``attemptDurationSeconds``), so they hold even when the scheduler dies;
  timeouts under Batch's 60 s minimum are enforced by the executor;
- multi-node jobs (``num_nodes``): node 0 runs the task and writes its
  result, the other nodes run it with caching off and outputs discarded;
- re-attaching to in-flight jobs after a restart (found by name prefix and
  tags), terminating every job this process submitted on Ctrl-C, CloudWatch
  log lines in a failed job's traceback, ``aws_batch_job`` and
  ``aws_log_stream`` tags on each job;
- ``debug = true``: the same jobs on a local docker executor instead.

``retries = N`` means N retries after the first attempt (Batch
``retryStrategy.attempts = N + 1``), as for every redun-core executor;
redun's aws_batch used ``retries`` as the attempts count.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from redun.executors import scratch
from redun.executors.base import ExecutorError
from redun.executors.remote import (
    LABEL_ARRAY,
    LABEL_EVAL_HASH,
    LABEL_EXECUTION,
    LABEL_EXECUTOR,
    LABEL_JOB_ID,
    LABEL_SCRATCH,
    LABEL_TASK,
    LOG_TAIL_LINES,
    RemoteExecutor,
    RemoteJobTimeoutError,
    RemoteSpec,
    RemoteState,
    RemoteStatus,
)
from redun.utils import str2bool

from redun_aws import aws

if TYPE_CHECKING:
    from redun.scheduler import Job, Scheduler

LOG_GROUP = "/aws/batch/job"
TIMEOUT_REASON = "Job attempt duration exceeded timeout"
INSPECT_ERROR = "CannotInspectContainerError"
MIN_NATIVE_TIMEOUT = 60
MAX_ATTEMPTS = 10
DESCRIBE_PAGE = 100
# list_jobs page size with a jobStatus (Batch's maximum).
LIST_PAGE = 1000
ARRAY_SUFFIX = "-array"
PENDING_STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING")
INFLIGHT_STATUSES = (*PENDING_STATUSES, "RUNNING")
ENDED_STATUSES = ("SUCCEEDED", "FAILED")
ALL_STATUSES = (*INFLIGHT_STATUSES, *ENDED_STATUSES)
WORKER_OUTPUT = "/tmp/redun-worker-output"
_TAG_VALUE = re.compile(r"[^\w .:/=+\-@]")
_JOB_DEF_NAME = re.compile(r"[^A-Za-z0-9_-]")


class AWSBatchError(ExecutorError):
    """AWS Batch refused a request or a job could not run."""


class AWSBatchJobTimeoutError(RemoteJobTimeoutError):
    """A Batch job ran past its timeout and was stopped."""


def make_job_def_name(image: str, suffix: str = "-redun-jd") -> str:
    """A job definition name derived from the image (as redun names them)."""
    if "amazonaws.com" in image:
        image = image.split("/", 1)[1].split(":")[0].replace("/", "-")
    return _JOB_DEF_NAME.sub("", image)[: 128 - len(suffix)] + suffix


def tag_value(value: Any) -> str:
    """Batch tag values: at most 256 characters of letters, digits, spaces and ``_.:/=+-@``."""
    return _TAG_VALUE.sub("_", str(value))[:256]


def _flag(raw: Any, key: str, section: str) -> bool:
    if isinstance(raw, bool):
        return raw
    try:
        return str2bool(str(raw).strip())
    except ValueError:
        raise ExecutorError(f"[{section}] {key} = {raw!r} is not a boolean") from None


def _strip_empty(value: Any) -> Any:
    """Drop empty lists/dicts/None, which Batch fills in as defaults when registering."""
    if isinstance(value, dict):
        stripped = {k: _strip_empty(v) for k, v in value.items()}
        return {k: v for k, v in stripped.items() if v not in (None, [], {}, "")}
    if isinstance(value, list):
        return [_strip_empty(v) for v in value]
    return value


def _merge(base: dict, extra: Mapping) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _parse_status(job: dict) -> RemoteStatus:
    status = job.get("status", "")
    if status in PENDING_STATUSES:
        return RemoteStatus(RemoteState.PENDING)
    if status == "RUNNING":
        return RemoteStatus(RemoteState.RUNNING)
    if status == "SUCCEEDED":
        return RemoteStatus(RemoteState.SUCCEEDED)
    reason = job.get("statusReason", "") or ""
    container = job.get("container") or {}
    if INSPECT_ERROR in reason:
        # Batch lost track of a container that may well have finished: the
        # output in scratch decides (the base fails the job if there is none).
        return RemoteStatus(RemoteState.SUCCEEDED, reason)
    details = [reason] if reason else []
    if container.get("reason") and container["reason"] != reason:
        details.append(container["reason"])
    if container.get("exitCode") is not None:
        details.append(f"exit code {container['exitCode']}")
    text = "; ".join(details) or "Batch reported FAILED without a reason"
    return RemoteStatus(RemoteState.FAILED, text, timed_out=TIMEOUT_REASON in reason)


class AWSBatchExecutor(RemoteExecutor):
    """Runs jobs on an AWS Batch job queue."""

    runs_on_aws = True
    engine_retries = True
    # Batch enforces timeouts (and so does poll() below 60 s): the base never cancels.
    timeout_grace = math.inf
    timeout_error = AWSBatchJobTimeoutError
    array_index_env = "AWS_BATCH_JOB_ARRAY_INDEX"

    DEFAULTS: Mapping[str, str] = {
        **RemoteExecutor.DEFAULTS,
        "job_monitor_interval": "5.0",
        "job_stale_time": "3.0",
        "min_array_size": "5",
        "max_array_size": "1000",
        "job_name_prefix": "redun-job",
        "autocreate_job_def": "true",
        "default_batch_tags": "true",
        "batch_tags": "{}",
        "job_def_extra": "{}",
        "environment": "{}",
        "num_nodes": "",
        "privileged": "false",
        "shared_memory": "",
        "debug": "false",
        "debug_scratch": "scratch",
        "interactive": "true",
    }

    def __init__(
        self,
        name: str,
        scheduler: Scheduler | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        section = f"executors.{name}"
        settings = dict(config or {})
        for key, what in (
            ("image", "the container image jobs run in"),
            ("queue", "the AWS Batch job queue"),
            ("s3_scratch", "an s3:// prefix for code, inputs and results"),
        ):
            if not settings.get(key):
                raise ExecutorError(f"[{section}] needs `{key}` ({what})")
        if not settings["s3_scratch"].startswith("s3://"):
            raise ExecutorError(
                f"[{section}] s3_scratch = {settings['s3_scratch']} must be an s3:// URL "
                "(Batch jobs read their inputs from it)"
            )
        settings["scratch"] = settings["s3_scratch"]
        if "autocreate_job" in settings and "autocreate_job_def" not in settings:
            settings["autocreate_job_def"] = settings["autocreate_job"]
        super().__init__(name, scheduler=scheduler, config=settings)
        self.queue = self.settings["queue"]
        self.region = self.settings.get("aws_region") or None
        self.job_name_prefix = _JOB_DEF_NAME.sub("-", self.settings["job_name_prefix"])[:60]
        self.autocreate = _flag(self.settings["autocreate_job_def"], "autocreate_job_def", section)
        self.default_tags = _flag(
            self.settings["default_batch_tags"], "default_batch_tags", section
        )
        self.debug = _flag(self.settings["debug"], "debug", section)
        self.batch_tags = self._parse_json(self.settings["batch_tags"], "batch_tags", dict)
        self.job_def_extra = self._parse_json(self.settings["job_def_extra"], "job_def_extra", dict)
        environment = self._parse_json(self.settings["environment"], "environment", dict)
        self.environment = {str(k): v for k, v in environment.items()}
        self._job_defs: dict[str, str] = {}
        self._job_def_lock = threading.Lock()
        self._role: str | None = None
        # The last description of each job polled (log stream, started time).
        self._described: dict[str, dict] = {}
        # Per array parent: ids of its children known to have ended, by status.
        self._array_ended: dict[str, dict[str, set[str]]] = {}
        # Jobs whose timeout is below Batch's minimum: enforced here, in poll().
        self._short_timeouts: dict[str, float] = {}
        self._debug_executor: Any = None

    # -- AWS calls ---------------------------------------------------------------------

    def batch(self) -> Any:
        return aws.client("batch", aws.region(self.region))

    def _api(self, operation: str, **kwargs: Any) -> Any:
        """A Batch call; failures become one line naming the executor and operation."""
        try:
            return getattr(self.batch(), operation)(**kwargs)
        except Exception as error:
            if not aws.is_client_error(error):
                raise
            general = aws.describe_failure(error, f"AWS Batch {operation}")
            message = general or f"AWS Batch {operation} failed: {aws.error_message(error)}"
            if "queue" in aws.error_message(error).lower() and "does not exist" in str(error):
                message = (
                    f"[{self.section}] queue = {self.queue} does not exist in region "
                    f"{aws.region(self.region)} (check queue and aws_region)"
                )
            raise AWSBatchError(message) from None

    # -- job definitions ------------------------------------------------------------------

    def _default_role(self) -> str | None:
        raw = self.settings.get("role")
        if raw:
            return None if raw.lower() == "none" else raw
        if self._role is None:
            try:
                identity = aws.client("sts", aws.region(self.region)).get_caller_identity()
            except Exception as error:
                if not aws.is_client_error(error):
                    raise
                general = aws.describe_failure(error, "STS GetCallerIdentity")
                raise AWSBatchError(
                    general
                    or f"[{self.section}] cannot find the account for the default role "
                    f"({aws.error_message(error)}); set `role`"
                ) from None
            self._role = f"arn:aws:iam::{identity['Account']}:role/ecsTaskExecutionRole"
        return self._role

    def _container_properties(self, spec: RemoteSpec) -> dict[str, Any]:
        role = spec.options.get("role")
        role = self._default_role() if role is None else (None if role == "none" else role)
        props: dict[str, Any] = {
            "image": spec.image,
            "command": ["redun", "--version"],
            # The executor's defaults: each job overrides them, so sizes share a definition.
            "resourceRequirements": [
                {"type": "VCPU", "value": f"{float(self.settings['vcpus']):g}"},
                {"type": "MEMORY", "value": str(int(float(self.settings["memory"]) * 1024))},
            ],
            "privileged": _flag(
                spec.options.get("privileged", self.settings["privileged"]),
                "privileged",
                self.section,
            ),
        }
        if role:
            props["jobRoleArn"] = role
        shared_memory = spec.options.get("shared_memory", self.settings["shared_memory"])
        if shared_memory not in (None, ""):
            props["linuxParameters"] = {"sharedMemorySize": int(float(shared_memory) * 1024)}
        return props

    def job_definition(self, spec: RemoteSpec, num_nodes: int) -> str:
        """The ARN of an equivalent active job definition, registered if there is none."""
        props = self._container_properties(spec)
        if num_nodes > 1:
            definition: dict[str, Any] = {
                "type": "multinode",
                "nodeProperties": {
                    "numNodes": num_nodes,
                    "mainNode": 0,
                    "nodeRangeProperties": [{"targetNodes": "0:", "container": props}],
                },
            }
        else:
            definition = {"type": "container", "containerProperties": props}
        extra = spec.options.get("job_def_extra", self.job_def_extra) or {}
        if isinstance(extra, str):
            extra = json.loads(extra)
        if num_nodes > 1 and "containerProperties" in extra:
            ranges = definition["nodeProperties"]["nodeRangeProperties"]
            ranges[0]["container"] = _merge(props, extra["containerProperties"])
            extra = {k: v for k, v in extra.items() if k != "containerProperties"}
        definition = _merge(definition, extra)
        name = spec.options.get("job_def_name") or self.settings.get("job_def_name")
        name = name or make_job_def_name(spec.image)
        key = json.dumps([name, definition], sort_keys=True)
        with self._job_def_lock:
            arn = self._job_defs.get(key)
            if arn is None:
                arn = self._job_defs[key] = self._find_or_register(name, definition)
        return arn

    def _find_or_register(self, name: str, definition: dict[str, Any]) -> str:
        wanted = _strip_empty(definition)
        found: list[dict] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"jobDefinitionName": name, "status": "ACTIVE"}
            if token:
                kwargs["nextToken"] = token
            page = self._api("describe_job_definitions", **kwargs)
            found += page.get("jobDefinitions", [])
            token = page.get("nextToken")
            if not token:
                break
        for existing in sorted(found, key=lambda d: -d.get("revision", 0)):
            candidate = {key: existing.get(key) for key in definition}
            if _strip_empty(candidate) == wanted:
                return existing["jobDefinitionArn"]
        if not self.autocreate:
            raise AWSBatchError(
                f"[{self.section}] no active job definition {name!r} matches the task's "
                "image and resources, and autocreate_job_def = false"
            )
        try:
            registered = self.batch().register_job_definition(jobDefinitionName=name, **definition)
        except Exception as error:
            if not aws.is_client_error(error):
                raise
            raise AWSBatchError(
                f"[{self.section}] cannot register job definition {name!r}: "
                f"{aws.error_message(error)} (check image, role and job_def_extra)"
            ) from None
        self.log(f"Registered job definition {registered['jobDefinitionArn']}")
        return registered["jobDefinitionArn"]

    # -- submission -------------------------------------------------------------------------

    def can_array(self, job: Job) -> bool:
        return super().can_array(job) and self._num_nodes(job.get_options()) <= 1

    def _num_nodes(self, options: Mapping[str, Any]) -> int:
        raw = options.get("num_nodes", self.settings["num_nodes"])
        if raw in (None, ""):
            return 1
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ExecutorError(f"[{self.section}] num_nodes = {raw!r} is not an integer") from None

    def _environment(self, spec: RemoteSpec) -> list[dict[str, str]]:
        import os

        env = dict(spec.env)
        for key, value in self.environment.items():
            if value is None:
                if key in os.environ:
                    env[key] = os.environ[key]
            else:
                env[key] = str(value)
        return [{"name": k, "value": v} for k, v in sorted(env.items())]

    def _tags(self, spec: RemoteSpec) -> dict[str, str]:
        labels = spec.labels
        tags = {key: tag_value(value) for key, value in labels.items() if value}
        if self.default_tags:
            execution_id = labels.get(LABEL_EXECUTION, "")
            tags.update(
                {
                    "redun_job_id": labels.get(LABEL_JOB_ID, ""),
                    "redun_task_name": tag_value(labels.get(LABEL_TASK, "")),
                    "redun_execution_id": execution_id,
                    "redun_project": tag_value(spec.options.get("project", "")),
                }
            )
            user = self._aws_user()
            if user:
                tags["redun_aws_user"] = tag_value(user)
        extra = spec.options.get("batch_tags", self.batch_tags) or {}
        if isinstance(extra, str):
            extra = json.loads(extra)
        tags.update({str(k): tag_value(v) for k, v in extra.items()})
        return {k: v for k, v in tags.items() if v}

    def _aws_user(self) -> str | None:
        from redun_aws.identity import aws_user

        return aws_user()

    def _job_name(self, spec: RemoteSpec) -> str:
        array_uuid = spec.labels.get(LABEL_ARRAY)
        if array_uuid:
            return f"{self.job_name_prefix}-{array_uuid}{ARRAY_SUFFIX}"
        return f"{self.job_name_prefix}-{spec.labels.get(LABEL_EVAL_HASH) or spec.name}"

    def _submit_kwargs(self, spec: RemoteSpec) -> dict[str, Any]:
        num_nodes = self._num_nodes(spec.options)
        resources = [
            {"type": "VCPU", "value": f"{spec.vcpus:g}"},
            {"type": "MEMORY", "value": str(int(spec.memory * 1024))},
        ]
        if spec.gpus > 0:
            resources.append({"type": "GPU", "value": str(spec.gpus)})
        overrides = {
            "command": spec.command,
            "environment": self._environment(spec),
            "resourceRequirements": resources,
        }
        kwargs: dict[str, Any] = {
            "jobName": self._job_name(spec),
            "jobQueue": spec.options.get("queue", self.queue),
            "jobDefinition": self.job_definition(spec, num_nodes),
            "propagateTags": True,
            "tags": self._tags(spec),
        }
        if num_nodes > 1:
            worker = self._worker_command(spec.command)
            kwargs["nodeOverrides"] = {
                "numNodes": num_nodes,
                "nodePropertyOverrides": [
                    {"targetNodes": "0", "containerOverrides": overrides},
                    {"targetNodes": "1:", "containerOverrides": {**overrides, "command": worker}},
                ],
            }
        else:
            kwargs["containerOverrides"] = overrides
        attempts = spec.retries + 1
        if not 1 <= attempts <= MAX_ATTEMPTS:
            raise ExecutorError(
                f"[{self.section}] retries = {spec.retries}: AWS Batch allows 0 to "
                f"{MAX_ATTEMPTS - 1} retries"
            )
        kwargs["retryStrategy"] = {"attempts": attempts}
        if spec.timeout:
            kwargs["timeout"] = {
                "attemptDurationSeconds": max(MIN_NATIVE_TIMEOUT, math.ceil(spec.timeout))
            }
        share_id = spec.options.get("share_id", self.settings.get("share_id"))
        if share_id:
            kwargs["shareIdentifier"] = str(share_id)
        priority = spec.options.get(
            "scheduling_priority_override", self.settings.get("scheduling_priority_override")
        )
        if priority not in (None, ""):
            kwargs["schedulingPriorityOverride"] = int(priority)
        return kwargs

    @staticmethod
    def _worker_command(command: list[str]) -> list[str]:
        """A multi-node worker: the same task, caching off, outputs discarded."""
        worker = list(command)
        for flag in ("--output", "--error"):
            if flag in worker:
                worker[worker.index(flag) + 1] = f"{WORKER_OUTPUT}{flag.replace('-', '.')}"
        if "--no-cache" not in worker:
            worker.insert(worker.index("--input"), "--no-cache")
        return worker

    def _submit(self, spec: RemoteSpec, array_size: int = 0) -> str:
        kwargs = self._submit_kwargs(spec)
        if array_size:
            kwargs["arrayProperties"] = {"size": array_size}
        job_id = self._api("submit_job", **kwargs)["jobId"]
        if spec.timeout and spec.timeout < MIN_NATIVE_TIMEOUT:
            with self._lock:
                if array_size:
                    for index in range(array_size):
                        self._short_timeouts[f"{job_id}:{index}"] = spec.timeout
                else:
                    self._short_timeouts[job_id] = spec.timeout
        return job_id

    def submit_command(self, spec: RemoteSpec) -> str:
        return self._submit(spec)

    def submit_array_command(self, spec: RemoteSpec, size: int) -> list[str]:
        parent = self._submit(spec, array_size=size)
        self.log(f"Submitted array of {size} jobs as Batch job {parent}")
        return [f"{parent}:{index}" for index in range(size)]

    # -- monitoring ---------------------------------------------------------------------------

    def describe(self, job_ids: list[str]) -> dict[str, dict]:
        """describe_jobs in pages of 100 (Batch's limit)."""
        found: dict[str, dict] = {}
        for start in range(0, len(job_ids), DESCRIBE_PAGE):
            page = self._api("describe_jobs", jobs=job_ids[start : start + DESCRIBE_PAGE])
            for job in page.get("jobs", []):
                found[job["jobId"]] = job
        return found

    def list_children(self, parent_id: str, status: str) -> list[dict]:
        """Summaries of an array's children in one status (list_jobs, 1,000 per page)."""
        summaries: list[dict] = []
        kwargs: dict[str, Any] = {
            "arrayJobId": parent_id,
            "jobStatus": status,
            "maxResults": LIST_PAGE,
        }
        while True:
            page = self._api("list_jobs", **kwargs)
            summaries += page.get("jobSummaryList", [])
            if not page.get("nextToken"):
                return summaries
            kwargs["nextToken"] = page["nextToken"]

    def _poll_array(
        self, parent: dict, child_ids: list[str], statuses: dict[str, RemoteStatus]
    ) -> list[str]:
        """Statuses of an array's children from its parent and lists; those to describe.

        One describe of the parent per poll; for each of SUCCEEDED and FAILED whose
        count in its summary exceeds the children already known in it, list_jobs
        by that status names them. Only the followed children that ended are
        described (once each, for their reason and log stream), so a poll costs
        1 call per array when none ended and about 3 when some did.
        """
        parent_id = parent["jobId"]
        array = parent.get("arrayProperties") or {}
        summary = array.get("statusSummary") or {}
        known = self._array_ended.setdefault(parent_id, {s: set() for s in ENDED_STATUSES})
        for status in ENDED_STATUSES:
            if summary.get(status, 0) > len(known[status]):
                found = self.list_children(parent_id, status)
                known[status].update(job["jobId"] for job in found)
        ended = set().union(*known.values())
        running = summary.get("RUNNING", 0) + summary.get("STARTING", 0)
        started: dict[str, float] = {}
        if running and any(rid in self._short_timeouts for rid in child_ids):
            for status in ("STARTING", "RUNNING"):
                for job in self.list_children(parent_id, status):
                    if job.get("startedAt"):
                        started[job["jobId"]] = job["startedAt"] / 1000
        state = RemoteState.RUNNING if running else RemoteState.PENDING
        now = time.time()
        to_describe = []
        for rid in child_ids:
            limit = self._short_timeouts.get(rid)
            if rid in ended:
                to_describe.append(rid)
            elif limit is not None and rid in started and now - started[rid] > limit:
                statuses[rid] = self._stop_short_timeout(rid, limit)
            else:
                statuses[rid] = RemoteStatus(state)
        if len(ended) >= array.get("size", math.inf):
            del self._array_ended[parent_id]
        return to_describe

    def _stop_short_timeout(self, rid: str, limit: float) -> RemoteStatus:
        self.terminate([rid], f"{TIMEOUT_REASON} ({limit:g} s, enforced by redun)")
        return RemoteStatus(RemoteState.FAILED, TIMEOUT_REASON, timed_out=True)

    def poll(self, remote_ids: list[str]) -> dict[str, RemoteStatus]:
        to_describe = [rid for rid in remote_ids if ":" not in rid]
        children: dict[str, list[str]] = {}
        for rid in remote_ids:
            if ":" in rid:
                children.setdefault(rid.split(":", 1)[0], []).append(rid)
        parents = self.describe(list(children)) if children else {}
        statuses: dict[str, RemoteStatus] = {}
        for parent_id, child_ids in children.items():
            parent = parents.get(parent_id)
            if parent is not None:
                to_describe += self._poll_array(parent, child_ids, statuses)
        described = self.describe(to_describe) if to_describe else {}
        now = time.time()
        for rid, job in described.items():
            with self._lock:
                self._described[rid] = job
            status = _parse_status(job)
            limit = self._short_timeouts.get(rid)
            started = job.get("startedAt")
            if (
                limit is not None
                and status.state == RemoteState.RUNNING
                and started
                and now - started / 1000 > limit
            ):
                status = self._stop_short_timeout(rid, limit)
            statuses[rid] = status
        return statuses

    def terminate(self, job_ids: list[str], reason: str) -> None:
        """terminate_job for each id; a failure is logged, not raised."""
        for job_id in job_ids:
            try:
                self._api("terminate_job", jobId=job_id, reason=reason)
            except AWSBatchError as error:
                self.log(f"Could not terminate Batch job {job_id}: {error}")

    def cancel(self, remote_ids: list[str]) -> None:
        """terminate_job per job; an array whose children all go is terminated once."""
        singles = [rid for rid in remote_ids if ":" not in rid]
        children: dict[str, set[str]] = {}
        for rid in remote_ids:
            if ":" in rid:
                children.setdefault(rid.split(":", 1)[0], set()).add(rid)
        with self._lock:
            tracked = set(self._tracked)
        for parent, cancelled in children.items():
            others = {rid for rid in tracked if rid.startswith(parent + ":")} - cancelled
            if others:
                singles += sorted(cancelled)
            else:
                singles.append(parent)
        self.terminate(singles, "Cancelled by redun (the run was interrupted)")

    def cleanup(self, remote_id: str) -> None:
        with self._lock:
            self._short_timeouts.pop(remote_id, None)

    def _log_stream(self, remote_id: str) -> str | None:
        with self._lock:
            job = self._described.get(remote_id)
        if job is None or not (job.get("container") or {}).get("logStreamName"):
            job = self.describe([remote_id]).get(remote_id) or {}
        return (job.get("container") or {}).get("logStreamName")

    def logs(self, remote_id: str, tail: int = LOG_TAIL_LINES) -> list[str]:
        try:
            stream = self._log_stream(remote_id)
            if not stream:
                return []
            return [line + "\n" for line in self.log_lines(stream, tail)]
        except (AWSBatchError, aws.AWSError) as error:
            return [f"(CloudWatch logs unavailable: {error})\n"]

    def log_lines(self, stream: str, tail: int | None = LOG_TAIL_LINES) -> list[str]:
        """The last `tail` messages of a log stream (all of them if None)."""
        logs = aws.client("logs", aws.region(self.region))
        kwargs: dict[str, Any] = {"logGroupName": LOG_GROUP, "logStreamName": stream}
        if tail is not None:
            kwargs.update(limit=tail, startFromHead=False)
        else:
            kwargs["startFromHead"] = True
        lines: list[str] = []
        while True:
            try:
                page = logs.get_log_events(**kwargs)
            except Exception as error:
                if aws.error_code(error) == "ResourceNotFoundException":
                    return lines
                raise
            lines += [event["message"] for event in page.get("events", [])]
            token = page.get("nextForwardToken")
            if tail is not None or not page.get("events") or token == kwargs.get("nextToken"):
                return lines
            kwargs["nextToken"] = token

    def job_tags(self, remote_id: str) -> list[tuple[str, str]]:
        tags = [("aws_batch_job", remote_id)]
        with self._lock:
            job = self._described.pop(remote_id, None)
        stream = ((job or {}).get("container") or {}).get("logStreamName")
        if stream:
            tags.append(("aws_log_stream", stream))
        return tags

    # -- re-attaching ------------------------------------------------------------------------

    def list_batch_jobs(self, statuses: tuple[str, ...] = INFLIGHT_STATUSES) -> list[dict]:
        """Jobs in this executor's queue whose names carry its prefix, described."""
        summaries: list[dict] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {
                "jobQueue": self.queue,
                "filters": [{"name": "JOB_NAME", "values": [f"{self.job_name_prefix}-*"]}],
            }
            if token:
                kwargs["nextToken"] = token
            page = self._api("list_jobs", **kwargs)
            summaries += page.get("jobSummaryList", [])
            token = page.get("nextToken")
            if not token:
                break
        ids = [s["jobId"] for s in summaries if s.get("status") in statuses]
        return list(self.describe(ids).values()) if ids else []

    def list_jobs(self) -> dict[str, dict[str, str]]:
        """In-flight jobs of this executor (array children one by one), with their labels."""
        jobs: dict[str, dict[str, str]] = {}
        for job in self.list_batch_jobs():
            tags = job.get("tags") or {}
            if tags.get(LABEL_EXECUTOR) != self.name:
                continue
            labels = {
                LABEL_EXECUTOR: tags.get(LABEL_EXECUTOR, ""),
                LABEL_SCRATCH: tags.get(LABEL_SCRATCH, ""),
                LABEL_EVAL_HASH: tags.get(LABEL_EVAL_HASH, ""),
            }
            array_uuid = tags.get(LABEL_ARRAY)
            if not array_uuid:
                jobs[job["jobId"]] = labels
                continue
            path = scratch.get_array_scratch_file(self.scratch_prefix, array_uuid, "eval_hashes")
            try:
                hashes = scratch.read_bytes(path).decode().split("\n")
            except OSError:
                continue
            for index, eval_hash in enumerate(hashes):
                jobs[f"{job['jobId']}:{index}"] = {**labels, LABEL_EVAL_HASH: eval_hash}
        return jobs

    # -- debug mode -------------------------------------------------------------------------

    def _is_debug(self, job: Job) -> bool:
        return _flag(job.get_option("debug", self.debug), "debug", self.section)

    def debug_executor(self) -> Any:
        """A docker executor running the same image with local scratch (``debug = true``)."""
        if self._debug_executor is None:
            try:
                from redun_docker.executor import DockerExecutor
            except ImportError:
                raise ExecutorError(
                    f"[{self.section}] debug = true runs jobs in local containers and needs "
                    "redun-docker: pip install redun-docker"
                ) from None
            keys = ("image", "vcpus", "memory", "gpus", "shared_memory", "interactive", "env")
            config = {key: self.settings[key] for key in keys if self.settings.get(key)}
            config.update(
                scratch=self.settings["debug_scratch"],
                code_package=self.settings.get("code_package", "true"),
                code_includes=self.settings.get("code_includes", ""),
                code_excludes=self.settings.get("code_excludes", ""),
                min_array_size="0",
            )
            self._debug_executor = DockerExecutor(
                f"{self.name}_debug", scheduler=self.scheduler, config=config
            )
        return self._debug_executor

    def submit(self, job: Job) -> None:
        if self._is_debug(job):
            self.debug_executor().submit(job)
        else:
            super().submit(job)

    def submit_script(self, job: Job) -> None:
        if self._is_debug(job):
            self.debug_executor().submit_script(job)
        else:
            super().submit_script(job)

    def stop(self) -> None:
        super().stop()
        if self._debug_executor is not None:
            self._debug_executor.stop()
