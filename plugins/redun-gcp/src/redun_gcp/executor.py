"""The ``gcp_batch`` executor: each job (or array of jobs) is a GCP Batch job.

Only the engine calls are here; code packaging, scratch files, arrays,
re-attaching and cancelling come from `redun.executors.remote`. GCP Batch
retries failed tasks (``maxRetryCount``) and enforces ``maxRunDuration``
itself, so the base neither resubmits nor times out a job. Arrays are one
job whose task group has ``taskCount = N``; each task finds its index in
``BATCH_TASK_INDEX``. The google SDKs are imported on the first job, not when
the executor is configured.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
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

from redun_gcp.credentials import CredentialsError, resolve_credentials
from redun_gcp.labels import encode_user_labels, encode_value
from redun_gcp.paths import buckets_in, mount_path, to_mount_paths

if TYPE_CHECKING:
    from redun.scheduler import Job, Scheduler

# GCP reports a task killed for exceeding maxRunDuration with this exit code.
TIMEOUT_EXIT_CODE = 50005
TASK_GROUP = "group0"
TASK_LOG = "batch_task_logs"
TRANSPORTS = ("grpc", "rest")
ZONE_SUFFIXES = ("a", "b", "c", "d", "f")
# GCP label keys for the base's labels (theirs contain dots).
LABEL_KEYS = {
    LABEL_EXECUTOR: "redun_executor",
    LABEL_SCRATCH: "redun_scratch",
    LABEL_EVAL_HASH: "redun_eval_hash",
    LABEL_JOB_ID: "redun_job_id",
    LABEL_TASK: "redun_task",
    LABEL_EXECUTION: "redun_execution_id",
    LABEL_ARRAY: "redun_array_uuid",
}
ACTIVE_JOB_STATES = ("QUEUED", "SCHEDULED", "RUNNING")
# Forwarded to debug-mode containers, so they reach the same GCS as the scheduler.
DEBUG_ENV_VARS = (
    "STORAGE_EMULATOR_HOST",
    "GOOGLE_CLOUD_PROJECT",
    "NO_GCE_CHECK",
    "GCE_METADATA_HOST",
    "GCE_METADATA_IP",
)
REQUIRED_KEYS = {
    "project": "the GCP project id",
    "region": "a GCP region such as us-central1",
    "gcs_scratch": "a gs://bucket/prefix for job files",
    "image": "the container image tasks run in",
}


class GCPBatchError(ExecutorError):
    """GCP Batch refused a request; the message says what and what to do."""


class GCPBatchJobTimeoutError(RemoteJobTimeoutError):
    """A task ran longer than its ``max_duration`` and GCP Batch stopped it."""


@dataclass
class GCPSpec(RemoteSpec):
    """A RemoteSpec plus what a GCP Batch job needs beyond resources and a command."""

    project: str = ""
    region: str = ""
    machine_type: str = ""
    cpu_milli: int = 0
    memory_mib: int = 0
    boot_disk_gb: int = 0
    min_cpu_platform: str = ""
    accelerators: list[tuple[str, int]] = field(default_factory=list)
    service_account: str = ""
    priority: int = 0
    user_labels: dict[str, str] = field(default_factory=dict)
    task_count: int = 1
    buckets: list[str] = field(default_factory=list)
    job_type: str = "container"


def _api_error_message(error: Exception) -> str:
    """The service's own words, without the HTTP method and URL the REST client adds."""
    message = " ".join(str(getattr(error, "message", None) or error).split())
    return re.sub(r"\A[A-Z]+ \S+: ", "", message)


class GCPBatchExecutor(RemoteExecutor):
    """Runs redun jobs as GCP Batch jobs (arrays as one job of N tasks)."""

    DEFAULTS: Mapping[str, str] = {
        **RemoteExecutor.DEFAULTS,
        # 0 means "all the machine type has" (looked up in the Compute API).
        "vcpus": "0",
        "memory": "0",
        "retries": "2",
        "job_monitor_interval": "5.0",
        "job_stale_time": "3.0",
        "min_array_size": "2",
        "max_array_size": "5000",
        "machine_type": "e2-standard-4",
        "task_count": "1",
        "priority": "30",
        "service_account_email": "",
        "labels": "{}",
        "boot_disk_size": "",
        "min_cpu_platform": "",
        "accelerators": "[]",
        "max_duration": "",
        "debug": "false",
        "debug_scratch": "scratch",
        "interactive": "true",
        "api_endpoint": "",
        "transport": "grpc",
        "credentials": "",
    }
    engine_retries = True
    # GCP enforces maxRunDuration on the task's run time; queueing may take long.
    timeout_grace = float("inf")
    timeout_error = GCPBatchJobTimeoutError
    array_index_env = "BATCH_TASK_INDEX"

    def __init__(
        self,
        name: str,
        scheduler: Scheduler | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        config = dict(config or {})
        section = f"executors.{name}"
        for key, what in REQUIRED_KEYS.items():
            if not str(config.get(key, "")).strip():
                raise ExecutorError(f"[{section}] needs `{key}` ({what})")
        if not config["gcs_scratch"].startswith("gs://"):
            raise ExecutorError(
                f"[{section}] gcs_scratch = {config['gcs_scratch']} must be a "
                "gs://bucket/prefix URL"
            )
        config["scratch"] = config["gcs_scratch"]
        super().__init__(name, scheduler=scheduler, config=config)
        self.project = self.settings["project"]
        self.region = self.settings["region"]
        self.transport = self.settings["transport"].strip()
        if self.transport not in TRANSPORTS:
            raise ExecutorError(
                f"[{self.section}] transport must be one of {', '.join(TRANSPORTS)}"
            )
        self.api_endpoint = self.settings["api_endpoint"].strip()
        self.user_labels = self._parse_json(self.settings["labels"], "labels", dict)
        self._parse_json(self.settings["accelerators"], "accelerators", list)
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._machine_types: dict[tuple[str, str, str], tuple[int, int]] = {}
        self._debug_executor: RemoteExecutor | None = None
        # remote id of a single job -> its execution label, so one list call polls a run.
        self._executions: dict[str, str] = {}

    # -- clients (imported on first use) ------------------------------------------

    def _client(self, kind: str) -> Any:
        with self._clients_lock:
            client = self._clients.get(kind)
            if client is None:
                client = self._clients[kind] = self._make_client(kind)
            return client

    def _make_client(self, kind: str) -> Any:
        from google.api_core.client_options import ClientOptions

        try:
            credentials = resolve_credentials(self.settings["credentials"], self.api_endpoint)
        except CredentialsError as error:
            raise GCPBatchError(f"[{self.section}] {error}") from None
        options = ClientOptions(api_endpoint=self.api_endpoint) if self.api_endpoint else None
        if kind == "batch":
            from google.cloud import batch_v1

            return batch_v1.BatchServiceClient(
                transport=self.transport, credentials=credentials, client_options=options
            )
        if kind == "compute":
            from google.cloud import compute_v1

            # The Compute library speaks REST only.
            return compute_v1.MachineTypesClient(
                transport="rest", credentials=credentials, client_options=options
            )
        from google.cloud import logging as cloud_logging

        return cloud_logging.Client(
            project=self.project,
            credentials=credentials,
            client_options=options,
            _use_grpc=self.transport == "grpc",
        )

    def _call(self, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one API call; Google's errors become one line saying what to do."""
        from google.api_core import exceptions as gexc

        try:
            return call(*args, **kwargs)
        except gexc.NotFound:
            raise
        except (gexc.Forbidden, gexc.Unauthorized) as error:
            raise GCPBatchError(
                f"GCP refused to {what} ({error.code} {_api_error_message(error)}); check that "
                f"project {self.project!r} exists and the credentials have roles/batch.jobsEditor"
            ) from None
        except gexc.BadRequest as error:
            raise GCPBatchError(
                f"GCP Batch rejected the request to {what}: {_api_error_message(error)}"
            ) from None
        except gexc.GoogleAPICallError as error:
            raise GCPBatchError(
                f"Could not {what}: {error.code} {_api_error_message(error)}"
            ) from None

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    # -- per-job settings ---------------------------------------------------------------

    def _timeout(self, job: Job) -> float | None:
        """``max_duration`` (redun's key) or ``timeout``: GCP's maxRunDuration."""
        raw = job.get_option("max_duration", None)
        if raw in (None, ""):
            raw = job.get_option("timeout", None)
        if raw in (None, ""):
            raw = self.settings["max_duration"] or self.settings.get("timeout", "")
        if raw in (None, ""):
            return None
        try:
            seconds = float(raw)
        except (TypeError, ValueError):
            raise ExecutorError(
                f"task {job.task.fullname}: max_duration = {raw!r} is not a number of seconds"
            ) from None
        return seconds if seconds > 0 else None

    def _int_setting(self, job: Job, key: str) -> int:
        raw = self.job_setting(job, key)
        if raw in (None, ""):
            return 0
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ExecutorError(
                f"task {job.task.fullname} on executor {self.name}: {key} = {raw!r} "
                "is not an integer"
            ) from None

    def machine_limits(self, project: str, region: str, machine_type: str) -> tuple[int, int]:
        """(vCPUs, memory MiB) of a machine type, from the Compute API (cached)."""
        from google.api_core import exceptions as gexc

        key = (project, region, machine_type)
        if key not in self._machine_types:
            client = self._client("compute")
            for suffix in ZONE_SUFFIXES:
                zone = f"{region}-{suffix}"
                try:
                    found = self._call(
                        f"look up machine type {machine_type}",
                        client.get,
                        project=project,
                        zone=zone,
                        machine_type=machine_type,
                    )
                except gexc.NotFound:
                    continue
                self._machine_types[key] = (int(found.guest_cpus), int(found.memory_mb))
                break
            else:
                raise GCPBatchError(
                    f"[{self.section}] machine_type = {machine_type!r} does not exist in region "
                    f"{region} (see `gcloud compute machine-types list --filter zone~{region}`)"
                )
        return self._machine_types[key]

    def _accelerators(self, job: Job) -> list[tuple[str, int]]:
        raw = self.job_setting(job, "accelerators")
        value = json.loads(raw) if isinstance(raw, str) else raw
        accelerators = []
        for item in value or []:
            if not (isinstance(item, (list, tuple)) and len(item) == 2):
                raise ExecutorError(
                    f"task {job.task.fullname}: accelerators must be [[type, count], ...]"
                )
            accelerators.append((str(item[0]), int(item[1])))
        return accelerators

    def build_spec(self, job: Job, command: list[str], name: str) -> GCPSpec:
        spec = super().build_spec(job, command, name)
        project = str(self.job_setting(job, "project"))
        region = str(self.job_setting(job, "region"))
        machine_type = str(self.job_setting(job, "machine_type"))
        max_cpus, max_memory_mib = self.machine_limits(project, region, machine_type)
        # Missing or <= 0 means the whole machine; more than it has is clamped to it.
        cpu_milli = max_cpus * 1000
        if spec.vcpus > 0:
            cpu_milli = min(cpu_milli, int(spec.vcpus * 1000))
        memory_mib = max_memory_mib
        if spec.memory > 0:
            memory_mib = min(memory_mib, int(spec.memory * 1024))
        labels = dict(self.user_labels)
        option_labels = job.get_option("labels")
        if isinstance(option_labels, dict):
            labels.update(option_labels)
        gcp_spec = GCPSpec(
            **asdict(spec),
            project=project,
            region=region,
            machine_type=machine_type,
            cpu_milli=cpu_milli,
            memory_mib=memory_mib,
            boot_disk_gb=self._int_setting(job, "boot_disk_size"),
            min_cpu_platform=str(self.job_setting(job, "min_cpu_platform") or ""),
            accelerators=self._accelerators(job),
            service_account=str(self.job_setting(job, "service_account_email") or ""),
            priority=self._int_setting(job, "priority"),
            user_labels={str(k): str(v) for k, v in labels.items()},
            task_count=max(1, self._int_setting(job, "task_count")),
        )
        if job.task.script:
            self._stage_script(job, gcp_spec)
        return gcp_spec

    def _stage_script(self, job: Job, spec: GCPSpec) -> None:
        """Like redun: the script lives in scratch and runs from the mounted bucket."""
        from redun.scripting import prepare_command

        wrapper = spec.command[-1]
        args, kwargs = job.args or ((), {})
        user_script = prepare_command(job.task.func(*args, **kwargs))
        script_url = scratch.get_job_scratch_file(self.scratch_prefix, job, scratch.SCRATCH_SCRIPT)
        scratch.write_bytes(script_url, to_mount_paths(wrapper).encode("utf8"))
        spec.buckets = buckets_in(wrapper + "\n" + user_script)
        spec.command = ["bash", mount_path(script_url)]
        spec.job_type = "script"

    # -- the Batch job ----------------------------------------------------------------------

    def _labels(self, spec: GCPSpec, array_uuid: str | None) -> dict[str, str]:
        labels = encode_user_labels(spec.user_labels)
        for key, value in spec.labels.items():
            if key in LABEL_KEYS and value:
                labels[LABEL_KEYS[key]] = encode_value(value)
        # redun's own labels, so tools written for redun's jobs still find ours.
        labels["redun_hash"] = encode_value(array_uuid or spec.labels.get(LABEL_EVAL_HASH, ""))
        labels["redun_job_type"] = spec.job_type
        return labels

    def _job(self, spec: GCPSpec, task_count: int, array_uuid: str | None) -> Any:
        from google.cloud import batch_v1

        policy = batch_v1.AllocationPolicy.InstancePolicy(machine_type=spec.machine_type)
        if spec.min_cpu_platform:
            policy.min_cpu_platform = spec.min_cpu_platform
        if spec.boot_disk_gb > 0:
            policy.boot_disk = batch_v1.AllocationPolicy.Disk(size_gb=spec.boot_disk_gb)
        for kind, count in spec.accelerators:
            policy.accelerators.append(
                batch_v1.AllocationPolicy.Accelerator(type_=kind, count=count)
            )
        allocation = batch_v1.AllocationPolicy(
            instances=[batch_v1.AllocationPolicy.InstancePolicyOrTemplate(policy=policy)]
        )
        if spec.service_account:
            allocation.service_account = batch_v1.ServiceAccount(email=spec.service_account)
        mounts = [(bucket, f"/mnt/disks/{bucket}") for bucket in spec.buckets]
        container = batch_v1.Runnable.Container(
            image_uri=spec.image,
            commands=list(spec.command),
            volumes=[f"{path}:{path}" for _, path in mounts],
        )
        task_spec = batch_v1.TaskSpec(
            runnables=[batch_v1.Runnable(container=container)],
            compute_resource=batch_v1.ComputeResource(
                cpu_milli=spec.cpu_milli, memory_mib=spec.memory_mib
            ),
            max_retry_count=spec.retries,
            environment=batch_v1.Environment(variables=dict(spec.env)),
            volumes=[
                batch_v1.Volume(gcs=batch_v1.GCS(remote_path=bucket), mount_path=path)
                for bucket, path in mounts
            ],
            # A task that ran out of time would run out again: do not retry it.
            lifecycle_policies=[
                batch_v1.LifecyclePolicy(
                    action=batch_v1.LifecyclePolicy.Action.FAIL_TASK,
                    action_condition=batch_v1.LifecyclePolicy.ActionCondition(
                        exit_codes=[TIMEOUT_EXIT_CODE]
                    ),
                )
            ],
        )
        if spec.timeout:
            task_spec.max_run_duration = f"{max(1, round(spec.timeout))}s"
        return batch_v1.Job(
            priority=spec.priority,
            task_groups=[batch_v1.TaskGroup(task_count=task_count, task_spec=task_spec)],
            allocation_policy=allocation,
            labels=self._labels(spec, array_uuid),
            logs_policy=batch_v1.LogsPolicy(
                destination=batch_v1.LogsPolicy.Destination.CLOUD_LOGGING
            ),
        )

    def _create(self, spec: GCPSpec, job_id: str, task_count: int, array_uuid: str | None) -> str:
        job = self._job(spec, task_count, array_uuid)
        parent = f"projects/{spec.project}/locations/{spec.region}"
        created = self._call(
            f"create job {job_id} in {parent}",
            self._client("batch").create_job,
            parent=parent,
            job=job,
            job_id=job_id,
        )
        return created.name

    def submit_command(self, spec: RemoteSpec) -> str:
        if not isinstance(spec, GCPSpec):
            raise ExecutorError("gcp_batch jobs are built by GCPBatchExecutor.build_spec")
        job_id = f"redun-{spec.labels[LABEL_JOB_ID]}"
        remote_id = self._create(spec, job_id, spec.task_count, None)
        self._executions[remote_id] = spec.labels.get(LABEL_EXECUTION, "")
        return remote_id

    def submit_array_command(self, spec: RemoteSpec, size: int) -> list[str]:
        if not isinstance(spec, GCPSpec):
            raise ExecutorError("gcp_batch jobs are built by GCPBatchExecutor.build_spec")
        array_uuid = spec.labels[LABEL_ARRAY]
        name = self._create(spec, f"redun-array-{array_uuid}", size, array_uuid)
        return [self._task_name(name, index) for index in range(size)]

    @staticmethod
    def _task_name(job_name: str, index: int) -> str:
        return f"{job_name}/taskGroups/{TASK_GROUP}/tasks/{index}"

    @staticmethod
    def _split(remote_id: str) -> tuple[str, int | None]:
        """(job name, task index or None for a whole job)."""
        job_name, marker, index = remote_id.partition(f"/taskGroups/{TASK_GROUP}/tasks/")
        return job_name, (int(index) if marker else None)

    # -- status ----------------------------------------------------------------------------

    @staticmethod
    def _last_exit(events: Any) -> tuple[int | None, str]:
        exit_code, description = None, ""
        for event in events:
            description = event.description or description
            if "task_execution" in event:
                exit_code = event.task_execution.exit_code
        return exit_code, description

    def _status(self, state: str, events: Any) -> RemoteStatus:
        if state in ("QUEUED", "SCHEDULED", "PENDING", "ASSIGNED", "STATE_UNSPECIFIED"):
            return RemoteStatus(RemoteState.PENDING)
        if state == "RUNNING":
            return RemoteStatus(RemoteState.RUNNING)
        if state == "SUCCEEDED":
            return RemoteStatus(RemoteState.SUCCEEDED)
        exit_code, description = self._last_exit(events)
        if exit_code == TIMEOUT_EXIT_CODE:
            return RemoteStatus(RemoteState.FAILED, description, timed_out=True)
        if state == "UNEXECUTED":
            description = "the task never ran (its job failed or was deleted first)"
        elif state in ("DELETION_IN_PROGRESS", "CANCELLATION_IN_PROGRESS", "CANCELLED"):
            description = f"the job was {state.lower().replace('_', ' ')}"
        return RemoteStatus(RemoteState.FAILED, description or f"GCP Batch state {state}")

    def poll(self, remote_ids: list[str]) -> dict[str, RemoteStatus]:
        from google.cloud import batch_v1

        singles: dict[str, list[str]] = defaultdict(list)
        arrays: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for remote_id in remote_ids:
            job_name, index = self._split(remote_id)
            if index is None:
                singles[self._executions.get(remote_id, "")].append(remote_id)
            else:
                arrays[job_name].append((remote_id, index))
        statuses: dict[str, RemoteStatus] = {}
        client = self._client("batch")
        for execution, names in singles.items():
            for job in self._jobs_by_name(execution, names):
                state = batch_v1.JobStatus.State(job.status.state).name
                statuses[job.name] = self._status(state, job.status.status_events)
        for job_name, members in arrays.items():
            tasks = self._list_tasks(client, job_name)
            for remote_id, index in members:
                task = tasks.get(index)
                if task is not None:
                    state = batch_v1.TaskStatus.State(task.status.state).name
                    statuses[remote_id] = self._status(state, task.status.status_events)
        return statuses

    def _jobs_by_name(self, execution: str, names: list[str]) -> list[Any]:
        """The jobs `names`: one listing for a run's jobs, else one GET each."""
        from google.api_core import exceptions as gexc
        from google.cloud import batch_v1

        client = self._client("batch")
        wanted = set(names)
        if execution and len(names) > 1:
            label_filter = (
                f'{self._own_filter()} AND labels.redun_execution_id="{encode_value(execution)}"'
            )
            request = batch_v1.ListJobsRequest(
                parent=self.parent, filter=label_filter, page_size=1000
            )
            listed = self._call("list jobs", client.list_jobs, request=request)
            return [job for job in listed if job.name in wanted]
        jobs = []
        for name in names:
            try:
                jobs.append(self._call(f"get job {name}", client.get_job, name=name))
            except gexc.NotFound:
                continue
        return jobs

    def _list_tasks(self, client: Any, job_name: str) -> dict[int, Any]:
        from google.api_core import exceptions as gexc
        from google.cloud import batch_v1

        request = batch_v1.ListTasksRequest(
            parent=f"{job_name}/taskGroups/{TASK_GROUP}", page_size=1000
        )
        try:
            listed = self._call(f"list tasks of {job_name}", client.list_tasks, request=request)
            return {int(task.name.rsplit("/", 1)[1]): task for task in listed}
        except gexc.NotFound:
            return {}

    def _own_filter(self) -> str:
        return (
            f'labels.redun_executor="{encode_value(self.name)}" AND '
            f'labels.redun_scratch="{encode_value(self.scratch_prefix)}"'
        )

    def list_jobs(self) -> dict[str, dict[str, str]]:
        """This executor's jobs still queued or running: one id per job, or per array task."""
        from google.cloud import batch_v1

        states = " OR ".join(f'status.state="{state}"' for state in ACTIVE_JOB_STATES)
        request = batch_v1.ListJobsRequest(
            parent=self.parent, filter=f"{self._own_filter()} AND ({states})", page_size=1000
        )
        listed = self._call("list jobs", self._client("batch").list_jobs, request=request)
        found: dict[str, dict[str, str]] = {}
        for job in listed:
            labels = {
                LABEL_EXECUTOR: self.name,
                LABEL_SCRATCH: self.scratch_prefix,
                LABEL_EXECUTION: job.labels.get("redun_execution_id", ""),
            }
            array_uuid = job.labels.get("redun_array_uuid")
            if not array_uuid:
                found[job.name] = {**labels, LABEL_EVAL_HASH: job.labels.get("redun_eval_hash", "")}
                self._executions[job.name] = labels[LABEL_EXECUTION]
                continue
            hashes_path = scratch.get_array_scratch_file(
                self.scratch_prefix, array_uuid, scratch.SCRATCH_HASHES
            )
            try:
                hashes = scratch.read_bytes(hashes_path).decode().split("\n")
            except OSError:
                continue
            for index, eval_hash in enumerate(hashes):
                found[self._task_name(job.name, index)] = {**labels, LABEL_EVAL_HASH: eval_hash}
        return found

    def cancel(self, remote_ids: list[str]) -> None:
        """Delete the jobs (an array's job once for all of its tasks)."""
        from google.api_core import exceptions as gexc

        client = self._client("batch")
        for job_name in dict.fromkeys(self._split(remote_id)[0] for remote_id in remote_ids):
            try:
                self._call(f"delete job {job_name}", client.delete_job, name=job_name)
            except gexc.NotFound:
                pass
            self._executions.pop(job_name, None)

    def logs(self, remote_id: str, tail: int = LOG_TAIL_LINES) -> list[str]:
        """The task's last lines from Cloud Logging (redun shows none)."""
        from google.api_core import exceptions as gexc
        from google.cloud import logging as cloud_logging

        job_name, index = self._split(remote_id)
        try:
            job = self._call(f"get job {job_name}", self._client("batch").get_job, name=job_name)
            log_filter = (
                f'logName="projects/{self.project}/logs/{TASK_LOG}" AND labels.job_uid="{job.uid}"'
            )
            if index is not None:
                log_filter += f' AND labels.task_id:"-{TASK_GROUP}-{index}/"'
            entries = self._client("logging").list_entries(
                resource_names=[f"projects/{self.project}"],
                filter_=log_filter,
                order_by=cloud_logging.DESCENDING,
                max_results=tail,
            )
            lines = [f"{entry.payload}".rstrip("\n") + "\n" for entry in entries]
        except (gexc.GoogleAPIError, GCPBatchError) as error:
            return [f"(task logs unavailable: {error})\n"]
        return lines[::-1]

    def job_tags(self, remote_id: str) -> list[tuple[str, str]]:
        job_name, index = self._split(remote_id)
        tags = [("gcp_batch_job", job_name)]
        if index is not None:
            tags.append(("gcp_batch_task_index", str(index)))
        return tags

    # -- debug mode: the same job on the docker executor -------------------------------------

    def _is_debug(self, job: Job) -> bool:
        raw = job.get_option("debug", self.settings["debug"])
        return raw if isinstance(raw, bool) else str2bool(str(raw))

    def _debug(self) -> RemoteExecutor:
        if self._debug_executor is None:
            try:
                from redun_docker.executor import DockerExecutor
            except ImportError:
                raise ExecutorError(
                    f"[{self.section}] debug = true runs jobs on the docker executor: "
                    "pip install redun-docker"
                ) from None
            env = {key: os.environ[key] for key in DEBUG_ENV_VARS if key in os.environ}
            env.update(self.env)
            debug_scratch = self.settings["debug_scratch"]
            if not os.path.isabs(debug_scratch):
                debug_scratch = os.path.join(self.config_dir or os.getcwd(), debug_scratch)
            config = {
                "image": self.settings["image"],
                "scratch": debug_scratch,
                "interactive": self.settings["interactive"],
                "env": json.dumps(env),
                "code_package": self.settings.get("code_package", "true"),
                "code_includes": self.settings.get("code_includes", ""),
                "code_excludes": self.settings.get("code_excludes", ""),
            }
            self._debug_executor = DockerExecutor(
                f"{self.name}_debug", scheduler=self._scheduler, config=config
            )
        return self._debug_executor

    def submit(self, job: Job) -> None:
        if self._is_debug(job):
            self._debug().submit(job)
        else:
            super().submit(job)

    def submit_script(self, job: Job) -> None:
        if self._is_debug(job):
            self._debug().submit_script(job)
        else:
            super().submit_script(job)

    def stop(self) -> None:
        super().stop()
        if self._debug_executor is not None:
            self._debug_executor.stop()
