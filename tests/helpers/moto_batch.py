"""A small extension of moto 5.2.5's AWS Batch, closing the gaps our executor relies on.

moto runs Batch jobs in real containers (through a Docker-compatible API),
but leaves out several things real Batch does. `install()` patches
``moto.batch`` in the server process, before it serves, so that:

- array children get ``AWS_BATCH_JOB_ARRAY_INDEX`` and ``arrayProperties.index``;
  the parent is PENDING until every child has finished, then SUCCEEDED or
  FAILED, and ``list_jobs`` by queue lists parents, not children;
- ``container.exitCode`` and ``container.reason`` are reported;
- a job killed by its ``attemptDurationSeconds`` fails with statusReason
  "Job attempt duration exceeded timeout"; timeouts under 60 s are rejected;
- terminating an array's parent terminates its children;
- ``retryStrategy.attempts`` (1-10) re-runs failed attempts (not terminated jobs);
- multi-node jobs honour ``nodeOverrides`` and set ``AWS_BATCH_JOB_NODE_INDEX``,
  ``AWS_BATCH_JOB_NUM_NODES`` and ``AWS_BATCH_JOB_MAIN_NODE_INDEX``;
- an image that cannot be found fails the job with a ``CannotPullContainerError``
  reason instead of silently;
- ``describe_jobs`` rejects more than 100 ids, as Batch does;
- ``list_jobs`` takes exactly one of ``jobQueue`` or ``arrayJobId``, lists
  RUNNING jobs when given neither ``jobStatus`` nor ``filters``, pages with
  ``maxResults``/``nextToken`` (at most 1,000 summaries a page, 100 with
  ``filters``), and its summaries carry ``arrayProperties`` (a child's
  ``index``, a parent's ``size``) and ``container.reason``; moto 5.2.5 already
  filters an array's children by ``jobStatus``, but returns every status when
  none is given, never pages, and leaves those summary fields out;
- a queue runs at most as many vCPUs at once as its compute environments'
  ``maxvCpus`` (jobs beyond that wait).

Deviations that remain: a job waiting for capacity shows SUBMITTED (real
Batch: RUNNABLE); a failing worker node fails a multi-node job (real Batch
follows the main node); logs reach CloudWatch only when the container exits;
``list_jobs`` tokens are offsets into the current listing and every listing
is immediately consistent with ``describe_jobs`` (real Batch may lag);
``list_jobs(multiNodeJobId=...)`` is refused, not modelled.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

TIMEOUT_REASON = "Job attempt duration exceeded timeout"
# Batch's minimum attemptDurationSeconds. A test may lower it (POST /redun-test/batch
# {"min_timeout": 1}) to see Batch's own timeout quickly; reset restores it.
SETTINGS = {"min_timeout": 60}
DEFAULT_SETTINGS = dict(SETTINGS)
MAX_DESCRIBE_JOBS = 100
# list_jobs pages: Batch returns up to 1,000 summaries (100 when `filters` are given).
MAX_LIST = 1000
MAX_LIST_FILTERED = 100
MAX_ATTEMPTS = 10

# Parameters of the submit_job request being served (moto's backend does not take them).
_request = threading.local()


class _Capacity:
    """vCPUs in use per queue, bounded by the queue's compute environments' maxvCpus."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.used: dict[str, float] = {}

    def acquire(self, queue: Any, vcpus: float, stop: Any) -> bool:
        limit = _queue_vcpus(queue)
        need = min(vcpus, limit)
        with self.lock:
            while self.used.get(queue.arn, 0.0) + need > limit:
                if stop():
                    return False
                self.lock.wait(0.2)
            self.used[queue.arn] = self.used.get(queue.arn, 0.0) + need
        return True

    def release(self, queue: Any, vcpus: float) -> None:
        need = min(vcpus, _queue_vcpus(queue))
        with self.lock:
            self.used[queue.arn] = max(0.0, self.used.get(queue.arn, 0.0) - need)
            self.lock.notify_all()

    def reset(self) -> None:
        with self.lock:
            self.used.clear()
            self.lock.notify_all()


CAPACITY = _Capacity()


def _queue_vcpus(queue: Any) -> float:
    total = 0.0
    for entry in queue.env_order_json:
        env = queue.backend.get_compute_environment(entry["computeEnvironment"])
        resources = (env.compute_resources or {}) if env is not None else {}
        total += float(resources.get("maxvCpus") or 0)
    return total or 256.0


def _job_vcpus(job: Any) -> float:
    for requirement in job.container_overrides.get("resourceRequirements") or []:
        if requirement.get("type") == "VCPU":
            return float(requirement["value"])
    props = job.job_definition.container_properties or {}
    for requirement in props.get("resourceRequirements") or []:
        if requirement.get("type") == "VCPU":
            return float(requirement["value"])
    return float(job.container_overrides.get("vcpus") or props.get("vcpus") or 1)


def _is_child(job: Any) -> bool:
    return job.array_properties.get("index") is not None


def _node_ranges(node_properties: dict, overrides: dict | None) -> dict:
    """Node properties with one range per node, nodeOverrides applied and node env set."""
    num_nodes = int((overrides or {}).get("numNodes") or node_properties["numNodes"])
    main = int(node_properties.get("mainNode", 0))

    def targets(spec: str) -> range:
        start, sep, end = spec.partition(":")
        if not sep:
            return range(int(start), int(start) + 1)
        return range(int(start or 0), int(end) + 1 if end else num_nodes)

    containers: dict[int, dict] = {}
    for node_range in node_properties["nodeRangeProperties"]:
        for index in targets(node_range["targetNodes"]):
            containers[index] = copy.deepcopy(node_range.get("container") or {})
    for override in (overrides or {}).get("nodePropertyOverrides") or []:
        changes = override.get("containerOverrides") or {}
        for index in targets(override["targetNodes"]):
            container = containers.setdefault(index, {})
            if "command" in changes:
                container["command"] = changes["command"]
            env = {e["name"]: e["value"] for e in container.get("environment") or []}
            env.update({e["name"]: e["value"] for e in changes.get("environment") or []})
            container["environment"] = [{"name": k, "value": v} for k, v in env.items()]
    ranges = []
    for index in range(num_nodes):
        container = containers[index]
        env = container.setdefault("environment", [])
        env += [
            {"name": "AWS_BATCH_JOB_NODE_INDEX", "value": str(index)},
            {"name": "AWS_BATCH_JOB_NUM_NODES", "value": str(num_nodes)},
            {"name": "AWS_BATCH_JOB_MAIN_NODE_INDEX", "value": str(main)},
        ]
        ranges.append({"targetNodes": str(index), "container": container})
    return {"numNodes": num_nodes, "mainNode": main, "nodeRangeProperties": ranges}


def install() -> None:
    """Patch moto's Batch models and responses (idempotent)."""
    from moto.batch import models, responses
    from moto.batch.exceptions import ClientException

    if getattr(models, "_redun_extension", False):
        return
    models._redun_extension = True
    Job = models.Job
    Backend = models.BatchBackend

    original_submitjob = responses.BatchResponse.submitjob

    def submitjob(self: Any) -> str:
        _request.retry = self._get_param("retryStrategy") or {}
        _request.node_overrides = self._get_param("nodeOverrides")
        try:
            return original_submitjob(self)
        finally:
            _request.retry = {}
            _request.node_overrides = None

    responses.BatchResponse.submitjob = submitjob

    original_submit = Backend.submit_job

    def submit_job(self: Any, job_name: str, job_def_id: str, job_queue: str, *args, **kwargs):
        timeout = kwargs.get("timeout") or {}
        seconds = timeout.get("attemptDurationSeconds")
        if seconds is not None and int(seconds) < SETTINGS["min_timeout"]:
            raise ClientException(
                f"timeout.attemptDurationSeconds must be at least {SETTINGS['min_timeout']}"
            )
        attempts = int((getattr(_request, "retry", None) or {}).get("attempts") or 1)
        if not 1 <= attempts <= MAX_ATTEMPTS:
            raise ClientException(f"retryStrategy.attempts must be between 1 and {MAX_ATTEMPTS}")
        return original_submit(self, job_name, job_def_id, job_queue, *args, **kwargs)

    Backend.submit_job = submit_job

    original_init = Job.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        retry = getattr(_request, "retry", None) or self.job_definition.retry_strategy or {}
        self.redun_attempts = int(retry.get("attempts") or 1)
        self.redun_attempt = 0
        self.redun_reason: str | None = None
        job_def = self.job_definition
        if job_def.type == "multinode" and job_def.node_properties:
            per_job = copy.copy(job_def)
            per_job.node_properties = _node_ranges(
                job_def.node_properties, getattr(_request, "node_overrides", None)
            )
            self.job_definition = per_job

    Job.__init__ = init

    original_get_property = Job._get_container_property

    def get_container_property(self: Any, name: str, default: Any) -> Any:
        value = original_get_property(self, name, default)
        if name == "environment":
            value = list(value)
            index = self.array_properties.get("index")
            if index is not None:
                value.append({"name": "AWS_BATCH_JOB_ARRAY_INDEX", "value": str(index)})
            value.append({"name": "AWS_BATCH_JOB_ATTEMPT", "value": str(self.redun_attempt + 1)})
        return value

    Job._get_container_property = get_container_property

    original_describe = Job.describe

    def describe(self: Any) -> dict[str, Any]:
        result = original_describe(self)
        if self._child_jobs:
            result["status"] = self.status
        if self.job_stopped_reason is not None:
            result["statusReason"] = self.job_stopped_reason
        container = result.get("container")
        if container is not None and self.job_stopped:
            if self.exit_code is not None:
                container["exitCode"] = self.exit_code
            if self.job_stopped_reason:
                container["reason"] = self.job_stopped_reason
        if _is_child(self):
            result["arrayProperties"] = {"index": self.array_properties["index"]}
        return result

    Job.describe = describe

    def _parent_status(parent: Any) -> str:
        statuses = [child.status for child in parent._child_jobs]
        if all(status in ("SUCCEEDED", "FAILED") for status in statuses):
            return "FAILED" if "FAILED" in statuses else "SUCCEEDED"
        if any(status in ("STARTING", "RUNNING", "SUCCEEDED", "FAILED") for status in statuses):
            return "RUNNING"
        return "PENDING"

    original_mark_stopped = Job._mark_stopped

    def mark_stopped(self: Any, success: bool = True) -> None:
        if self.job_stopped or getattr(self, "redun_retrying", False):
            return
        if not success and not self.stop and self.redun_attempt + 1 < self.redun_attempts:
            # Attempts remain: Batch puts the job back to RUNNABLE, never FAILED in between.
            self.redun_retrying = True
            self.job_stopped_at = models.datetime.now()
            self._stop_attempt()
            self.status = "RUNNABLE"
            return
        if not success and not self.stop and self.job_stopped_reason is None:
            duration = self._get_attempt_duration()
            elapsed = (models.datetime.now() - self.job_started_at).total_seconds()
            if self.redun_reason:
                self.job_stopped_reason = self.redun_reason
            elif duration and elapsed >= duration:
                self.job_stopped_reason = TIMEOUT_REASON
            elif self.exit_code:
                self.job_stopped_reason = "Essential container in task exited"
        original_mark_stopped(self, success)

    Job._mark_stopped = mark_stopped

    original_run = Job.run

    def image_missing(self: Any) -> str | None:
        props = self.job_definition.container_properties
        images = (
            [props.get("image")]
            if props
            else [
                r["container"].get("image")
                for r in self.job_definition.node_properties["nodeRangeProperties"]
            ]
        )
        for image in images:
            if not image:
                continue
            try:
                self.docker_client.images.get(image)
            except Exception as error:
                return f"CannotPullContainerError: {image}: {error}"
        return None

    def run(self: Any) -> None:
        vcpus = _job_vcpus(self)
        if not CAPACITY.acquire(self.job_queue, vcpus, lambda: self.stop):
            original_mark_stopped(self, success=False)
            return
        try:
            missing = image_missing(self)
            if missing:
                self.redun_reason = missing
                mark_stopped(self, success=False)
                return
            for attempt in range(1, self.redun_attempts + 1):
                self.redun_attempt = attempt - 1
                self.redun_retrying = False
                self.exit_code = None
                original_run(self)
                if self.job_stopped or self.stop:
                    break
        finally:
            CAPACITY.release(self.job_queue, vcpus)

    Job.run = run

    base_status = Job.status

    def status(self: Any) -> str | None:
        children = getattr(self, "_child_jobs", None)
        return _parent_status(self) if children else base_status.fget(self)

    Job.status = property(status, base_status.fset)

    original_describe_jobs = Backend.describe_jobs

    def describe_jobs(self: Any, jobs: list[str] | None) -> list[dict[str, Any]]:
        if jobs is not None and len(jobs) > MAX_DESCRIBE_JOBS:
            raise ClientException(f"describe_jobs takes at most {MAX_DESCRIBE_JOBS} job ids")
        return original_describe_jobs(self, jobs)

    Backend.describe_jobs = describe_jobs

    original_list_jobs = Backend.list_jobs

    def list_jobs(
        self: Any,
        job_queue_name: str | None,
        array_job_id: str | None,
        job_status: str | None = None,
        filters: list[dict[str, Any]] | None = None,
    ) -> list[Any]:
        if bool(job_queue_name) == bool(array_job_id):
            raise ClientException("Specify exactly one of jobQueue, arrayJobId or multiNodeJobId")
        if job_status is None and filters is None:
            job_status = "RUNNING"
        found = original_list_jobs(self, job_queue_name, array_job_id, job_status, filters)
        if array_job_id:
            return found
        return [job for job in found if not _is_child(job)]

    Backend.list_jobs = list_jobs

    original_describe_short = Job.describe_short

    def describe_short(self: Any) -> dict[str, Any]:
        result = original_describe_short(self)
        if _is_child(self):
            result["arrayProperties"] = {"index": self.array_properties["index"]}
        elif self._child_jobs:
            result["arrayProperties"] = {"size": len(self._child_jobs)}
        if self.job_stopped and self.job_stopped_reason:
            result.setdefault("container", {})["reason"] = self.job_stopped_reason
        return result

    Job.describe_short = describe_short

    def listjobs(self: Any) -> str:
        if self._get_param("multiNodeJobId"):
            raise ClientException("list_jobs by multiNodeJobId is not modelled by this server")
        filters = self._get_param("filters")
        limit = MAX_LIST_FILTERED if filters else MAX_LIST
        max_results = self._get_param("maxResults")
        if max_results is not None and int(max_results) < 1:
            raise ClientException("maxResults must be at least 1")
        size = min(int(max_results or limit), limit)
        token = self._get_param("nextToken")
        try:
            start = int(token) if token else 0
        except ValueError:
            raise ClientException(f"Invalid nextToken {token!r}") from None
        jobs = self.batch_backend.list_jobs(
            job_queue_name=self._get_param("jobQueue"),
            array_job_id=self._get_param("arrayJobId"),
            job_status=self._get_param("jobStatus"),
            filters=filters,
        )
        result: dict[str, Any] = {
            "jobSummaryList": [job.describe_short() for job in jobs[start : start + size]]
        }
        if start + size < len(jobs):
            result["nextToken"] = str(start + size)
        return json.dumps(result)

    responses.BatchResponse.listjobs = listjobs

    original_terminate = Backend.terminate_job

    def terminate_job(self: Any, job_id: str, reason: str) -> None:
        original_terminate(self, job_id, reason)
        job = self.get_job_by_id(job_id)
        # Terminating an array's parent terminates its children, as in Batch.
        for child in (job._child_jobs or []) if job is not None else []:
            child.terminate(reason)

    Backend.terminate_job = terminate_job

    original_reset = Backend.reset

    def reset(self: Any) -> None:
        CAPACITY.reset()
        SETTINGS.update(DEFAULT_SETTINGS)
        original_reset(self)

    Backend.reset = reset
