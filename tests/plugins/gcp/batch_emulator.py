"""A strict emulator of the GCP Batch control plane, whose tasks are real podman containers.

No GCP Batch emulator exists, so this serves the REST endpoints the real
``google-cloud-batch`` client (``transport="rest"``) calls, plus the Compute
machine-type lookup and the Cloud Logging ``entries:list`` the executor uses:

    POST   /v1/projects/P/locations/R/jobs?jobId=ID      create (validated like GCP)
    GET    /v1/projects/P/locations/R/jobs[?filter=]     list (AIP-160 filter subset, paged)
    GET    /v1/projects/P/locations/R/jobs/ID            get
    DELETE /v1/projects/P/locations/R/jobs/ID            delete (long-running operation)
    GET    .../jobs/ID/taskGroups/group0/tasks[/N]       list / get tasks
    GET    /compute/v1/projects/P/zones/Z/machineTypes/T machine type
    POST   /v2/entries:list                              task logs (batch_task_logs)

It rejects what GCP rejects: job ids outside ``^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$``,
duplicate ids, invalid label keys/values (lowercase ``[a-z0-9_-]``, at most 63
characters, keys starting with a letter, at most 64 labels), unknown machine
types and zones, resources larger than the machine type, priority outside
[0, 100), more than 10 retries, malformed durations, unknown JSON fields, a
project other than its own (403, as for a project one has no access to).

Each task attempt is one ``docker run --rm`` (podman) of the runnable's image and
commands with host networking, ``BATCH_TASK_INDEX``, ``BATCH_TASK_COUNT``,
``BATCH_JOB_UID``, ``BATCH_TASK_RETRY_ATTEMPT`` and the task environment;
``maxRetryCount`` retries and ``maxRunDuration`` kills (exit code 50005, which
a FAIL_TASK lifecycle policy can exempt from retries) happen here, as on GCP.
Container output becomes Cloud Logging entries (``labels.job_uid``,
``labels.task_id = task/<uid>-group0-<index>/<attempt>/0``).

Deviations from GCP, on purpose:
- One project and one region; no VMs: the containers run on this machine,
  at most `max_parallel` at a time, with cpu limits capped at its cores.
- GCS volumes are stood in for by a copy: before an attempt the bucket's
  objects are downloaded into a directory mounted at the volume's mount
  path, and new or changed files are uploaded after it (deletions are not
  propagated; two tasks do not see each other's writes while running).
- Container volumes must be task volumes (or the test's `host_volumes`,
  mounted into every container, as an NFS volume would be).
- Only container runnables; no barriers, scripts, notifications or
  instance templates. Tasks of a job all run even after one fails.
- Deleting a job kills its containers before answering; the job then
  disappears once its tasks have stopped.
- Log entries exist once an attempt's container has exited (GCP streams
  them, with some delay).
- The logging filter understands ``=``, ``:`` (substring), ``>=``/``<=`` on
  ``logName``, ``labels.*``, ``resource.*``, ``severity`` and ``timestamp``;
  the jobs filter ``=`` on ``labels.*``, ``status.state``, ``name`` and
  ``uid``, joined by AND/OR with parentheses. Anything else is a 400.
- Accelerators and min CPU platform are validated and recorded, not provided.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import itertools
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

TIMEOUT_EXIT_CODE = 50005
JOB_ID = re.compile(r"\A[a-z]([a-z0-9-]{0,61}[a-z0-9])?\Z")
LABEL_KEY = re.compile(r"\A[a-z][a-z0-9_-]{0,62}\Z")
LABEL_VALUE = re.compile(r"\A[a-z0-9_-]{0,63}\Z")
DURATION = re.compile(r"\A(\d+)(\.\d+)?s\Z")
BUCKET = re.compile(r"\A[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]\Z")
MAX_LABELS = 64
MAX_RETRIES = 10
# name -> (vCPUs, memory MiB), as the Compute API reports them.
MACHINE_TYPES = {
    "e2-micro": (2, 1024),
    "e2-small": (2, 2048),
    "e2-medium": (2, 4096),
    "e2-standard-2": (2, 8192),
    "e2-standard-4": (4, 16384),
    "e2-standard-8": (8, 32768),
    "e2-standard-16": (16, 65536),
    "e2-highmem-2": (2, 16384),
    "e2-highmem-4": (4, 32768),
    "n1-standard-1": (1, 3840),
    "n1-standard-2": (2, 7680),
    "n1-standard-4": (4, 15360),
    "n2-standard-2": (2, 8192),
    "n2-standard-4": (4, 16384),
    "n2-standard-8": (8, 32768),
    "g2-standard-4": (4, 16384),
}
ACCELERATORS = ("nvidia-tesla-t4", "nvidia-l4", "nvidia-tesla-v100", "nvidia-tesla-a100")
CPU_PLATFORMS = (
    "Automatic",
    "Intel Skylake",
    "Intel Cascade Lake",
    "Intel Ice Lake",
    "AMD Rome",
    "AMD Milan",
)
ZONE_SUFFIXES = ("a", "b", "c")
# Enum numbers the client sends with `$alt=json;enum-encoding=int`.
LIFECYCLE_ACTIONS = {0: "ACTION_UNSPECIFIED", 1: "RETRY_TASK", 2: "FAIL_TASK"}
LOG_DESTINATIONS = {0: "DESTINATION_UNSPECIFIED", 1: "CLOUD_LOGGING", 2: "PATH"}

JOB_FIELDS = {
    "name", "uid", "priority", "taskGroups", "allocationPolicy", "labels", "status",
    "createTime", "updateTime", "logsPolicy", "notifications",
}  # fmt: skip
TASK_GROUP_FIELDS = {
    "name", "taskSpec", "taskCount", "parallelism", "schedulingPolicy", "taskEnvironments",
    "taskCountPerNode", "requireHostsFile", "permissiveSsh", "runAsNonRoot",
}  # fmt: skip
TASK_SPEC_FIELDS = {
    "runnables", "computeResource", "maxRunDuration", "maxRetryCount", "lifecyclePolicies",
    "environments", "volumes", "environment",
}  # fmt: skip
CONTAINER_FIELDS = {
    "imageUri", "commands", "entrypoint", "volumes", "options", "blockExternalNetwork",
    "username", "password", "enableImageStreaming",
}  # fmt: skip


class ApiError(Exception):
    """An error answer, in Google's JSON error format."""

    STATUS = {
        400: "INVALID_ARGUMENT",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        409: "ALREADY_EXISTS",
    }

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def body(self) -> dict:
        return {
            "error": {"code": self.code, "message": self.message, "status": self.STATUS[self.code]}
        }


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def invalid(message: str) -> ApiError:
    return ApiError(400, message)


def check_fields(value: Any, allowed: set[str], where: str) -> dict:
    if not isinstance(value, dict):
        raise invalid(f"Invalid value at '{where}': expected an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise invalid(f"Invalid JSON payload received. Unknown name \"{unknown[0]}\" at '{where}'")
    return value


def as_int(value: Any, where: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid value at '{where}' ({value!r}): not an integer") from None


def enum_name(value: Any, names: dict[int, str]) -> str:
    return names.get(value, str(value)) if isinstance(value, int) else str(value)


# -- filters (a subset of AIP-160 / the Logging query language) -------------------

_TOKEN = re.compile(r'\s*(\(|\)|"(?:[^"\\]|\\.)*"|>=|<=|!=|[=:<>]|[^\s()=:<>!"]+)')


def tokenize(text: str) -> list[str]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise invalid(f"Invalid filter {text!r} at position {position}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def parse_filter(
    text: str, fields: Callable[[str], bool], operators: tuple[str, ...]
) -> Callable[[Callable[[str], Any]], bool]:
    """A predicate over a field getter; unsupported fields or operators are 400s."""
    tokens = tokenize(text or "")
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise invalid(f"Invalid filter {text!r}: unexpected end")
        position += 1
        return tokens[position - 1]

    def term() -> Callable:
        if peek() == "(":
            take()
            inner = disjunction()
            if take() != ")":
                raise invalid(f"Invalid filter {text!r}: missing )")
            return inner
        field, operator, raw = take(), take(), take()
        if not fields(field):
            raise invalid(f"Invalid filter {text!r}: field {field!r} is not supported")
        if operator not in operators:
            raise invalid(f"Invalid filter {text!r}: operator {operator!r} is not supported")
        value = json.loads(raw) if raw.startswith('"') else raw

        def compare(get: Callable[[str], Any]) -> bool:
            actual = get(field)
            if actual is None:
                return False
            actual = str(actual)
            if operator == "=":
                return actual == value
            if operator == "!=":
                return actual != value
            if operator == ":":
                return value in actual
            if operator == ">=":
                return actual >= value
            if operator == "<=":
                return actual <= value
            if operator == ">":
                return actual > value
            return actual < value

        return compare

    def conjunction() -> Callable:
        parts = [term()]
        while peek() == "AND":
            take()
            parts.append(term())
        return lambda get: all(part(get) for part in parts)

    def disjunction() -> Callable:
        parts = [conjunction()]
        while peek() == "OR":
            take()
            parts.append(conjunction())
        return lambda get: any(part(get) for part in parts)

    if not tokens:
        return lambda get: True
    predicate = disjunction()
    if position != len(tokens):
        raise invalid(f"Invalid filter {text!r}: unexpected {tokens[position]!r}")
    return predicate


def dotted(record: dict) -> Callable[[str], Any]:
    def get(path: str) -> Any:
        value: Any = record
        for part in path.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    return get


def page(items: list, query: dict, key: str, default_size: int = 100) -> dict:
    size = as_int((query.get("pageSize") or [default_size])[0], "pageSize") or default_size
    start = as_int((query.get("pageToken") or ["0"])[0] or 0, "pageToken")
    chunk = items[start : start + size]
    answer: dict = {key: chunk}
    if start + size < len(items):
        answer["nextPageToken"] = str(start + size)
    return answer


# -- the emulator ---------------------------------------------------------------------


class Task:
    def __init__(self, job: Job, index: int) -> None:
        self.job = job
        self.index = index
        self.state = "PENDING"
        self.events: list[dict] = []
        self.attempts = 0

    @property
    def name(self) -> str:
        return f"{self.job.name}/taskGroups/group0/tasks/{self.index}"

    def set_state(self, state: str, description: str, exit_code: int | None = None) -> None:
        event: dict = {"type": "STATUS_CHANGED", "description": description, "eventTime": now()}
        if exit_code is not None:
            event["taskExecution"] = {"exitCode": exit_code}
        self.events.append(event)
        self.state = state

    def resource(self) -> dict:
        return {"name": self.name, "status": {"state": self.state, "statusEvents": self.events}}


class Job:
    def __init__(self, name: str, body: dict) -> None:
        self.name = name
        self.job_id = name.rsplit("/", 1)[1]
        self.uid = f"{self.job_id[:50]}-{uuid.uuid4().hex[:8]}"
        self.body = body
        self.created = now()
        self.state = "QUEUED"
        self.events: list[dict] = []
        group = body["taskGroups"][0]
        self.task_count = as_int(group.get("taskCount", 1), "taskGroups[0].taskCount")
        self.spec = group["taskSpec"]
        self.tasks = [Task(self, index) for index in range(self.task_count)]
        self.cancelled = threading.Event()
        self.containers: set[str] = set()
        self.runner: threading.Thread | None = None
        self.lock = threading.Lock()
        self.set_state(
            "QUEUED", f"Job state is set from STATE_UNSPECIFIED to QUEUED for job {name}."
        )

    def set_state(self, state: str, description: str) -> None:
        self.events.append(
            {"type": "STATUS_CHANGED", "description": description, "eventTime": now()}
        )
        self.state = state

    def resource(self) -> dict:
        counts: dict[str, str] = {}
        for task in self.tasks:
            counts[task.state] = str(int(counts.get(task.state, "0")) + 1)
        events = list(self.events)
        for task in self.tasks:
            events += [event for event in task.events if "taskExecution" in event]
        return {
            **self.body,
            "name": self.name,
            "uid": self.uid,
            "createTime": self.created,
            "updateTime": now(),
            "status": {
                "state": self.state,
                "statusEvents": events,
                "taskGroups": {"group0": {"counts": counts}},
            },
        }


class BatchEmulator:
    """The emulator: an HTTP server on 127.0.0.1 and a thread per running job."""

    def __init__(
        self,
        project: str,
        region: str,
        task_env: dict[str, str] | None = None,
        host_volumes: list[str] | None = None,
        max_parallel: int = 4,
        docker: str = "docker",
    ) -> None:
        self.project = project
        self.region = region
        self.task_env = dict(task_env or {})
        self.host_volumes = list(host_volumes or [])
        self.docker = docker
        self.instance = uuid.uuid4().hex[:12]
        self.jobs: dict[str, Job] = {}
        self.log_entries: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.RLock()
        self.slots = threading.Semaphore(max_parallel)
        self._insert_ids = itertools.count()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    def start(self) -> BatchEmulator:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.reset()
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        """Delete every job (killing its containers) and forget logs and requests."""
        with self.lock:
            jobs = list(self.jobs.values())
        for job in jobs:
            self._delete(job)
        for job in jobs:
            if job.runner is not None:
                job.runner.join(timeout=30)
        with self.lock:
            self.jobs.clear()
            self.log_entries.clear()
            self.requests.clear()

    def containers(self) -> list[str]:
        """Containers this emulator started that still exist (running or not)."""
        proc = subprocess.run(
            [
                self.docker,
                "ps",
                "--all",
                "--quiet",
                "--filter",
                f"label=gcp-batch-emulator={self.instance}",
            ],
            capture_output=True,
            text=True,
        )
        return proc.stdout.split()

    # -- HTTP --------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with emulator.lock:
                    emulator.requests.append((self.command, url.path))
                try:
                    body = json.loads(raw) if raw else {}
                    code, answer = 200, emulator.route(self.command, url.path, query, body)
                except ApiError as error:
                    code, answer = error.code, error.body()
                except json.JSONDecodeError as error:
                    code, answer = 400, invalid(f"Invalid JSON payload: {error}").body()
                data = json.dumps(answer).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def route(self, method: str, path: str, query: dict, body: dict) -> dict:
        if method == "POST" and path == "/v2/entries:list":
            return self.list_entries(body)
        match = re.fullmatch(
            r"/compute/v1/projects/([^/]+)/zones/([^/]+)/machineTypes/([^/]+)", path
        )
        if match and method == "GET":
            return self.machine_type(*match.groups())
        match = re.fullmatch(
            r"/v1/projects/([^/]+)/locations/([^/]+)/jobs"
            r"(?:/([^/]+)(?:/taskGroups/([^/]+)/tasks(?:/([^/]+))?)?)?",
            path,
        )
        if not match:
            raise ApiError(404, f"The emulator does not serve {method} {path}")
        project, region, job_id, group, task = match.groups()
        self._check_location(project, region)
        if job_id is None:
            if method == "POST":
                return self.create_job(query, body)
            if method == "GET":
                return self.list_jobs(query)
        elif group is None:
            if method == "GET":
                return self._job(job_id).resource()
            if method == "DELETE":
                return self.delete_job(job_id)
        elif method == "GET":
            if group != "group0":
                raise ApiError(404, f"Task group {group} not found")
            tasks = self._job(job_id).tasks
            if task is None:
                return page([t.resource() for t in tasks], query, "tasks")
            index = as_int(task, "task")
            if not 0 <= index < len(tasks):
                raise ApiError(404, f"Task {task} not found")
            return tasks[index].resource()
        raise ApiError(404, f"The emulator does not serve {method} {path}")

    def _check_location(self, project: str, region: str) -> None:
        if project != self.project:
            raise ApiError(
                403, f"Permission denied on resource project {project} (or it may not exist)."
            )
        if region != self.region:
            raise invalid(f"Location {region} is not supported for project {project}.")

    def _job(self, job_id: str) -> Job:
        with self.lock:
            job = self.jobs.get(f"{self.parent}/jobs/{job_id}")
        if job is None:
            raise ApiError(404, f"Job {self.parent}/jobs/{job_id} not found.")
        return job

    # -- Compute and Logging ----------------------------------------------------------

    def machine_type(self, project: str, zone: str, name: str) -> dict:
        if project != self.project:
            raise ApiError(403, f"Permission denied on resource project {project}.")
        if zone not in {f"{self.region}-{suffix}" for suffix in ZONE_SUFFIXES}:
            raise ApiError(404, f"The resource 'projects/{project}/zones/{zone}' was not found")
        if name not in MACHINE_TYPES:
            raise ApiError(
                404,
                f"The resource 'projects/{project}/zones/{zone}/machineTypes/{name}' was not found",
            )
        cpus, memory = MACHINE_TYPES[name]
        return {
            "kind": "compute#machineType",
            "name": name,
            "zone": zone,
            "guestCpus": cpus,
            "memoryMb": memory,
        }

    def list_entries(self, body: dict) -> dict:
        check_fields(
            body, {"resourceNames", "filter", "orderBy", "pageSize", "pageToken", "projectIds"}, ""
        )
        if f"projects/{self.project}" not in body.get("resourceNames", []):
            raise ApiError(403, "The caller does not have permission to read these logs")
        predicate = parse_filter(
            body.get("filter", ""),
            lambda field: (
                field in ("logName", "severity", "timestamp", "textPayload")
                or field.startswith(("labels.", "resource."))
            ),
            ("=", ":", ">=", "<=", ">", "<", "!="),
        )
        with self.lock:
            entries = [entry for entry in self.log_entries if predicate(dotted(entry))]
        order = body.get("orderBy", "timestamp asc")
        if order not in ("timestamp asc", "timestamp desc"):
            raise invalid(f"orderBy {order!r} is not supported")
        entries.sort(key=lambda entry: entry["insertId"], reverse=order.endswith("desc"))
        query = {
            "pageSize": [body.get("pageSize", 1000)],
            "pageToken": [body.get("pageToken") or "0"],
        }
        return page(entries, query, "entries", 1000)

    def _log(self, job: Job, task: Task, attempt: int, text: str, severity: str) -> None:
        task_id = f"task/{job.uid}-group0-{task.index}/{attempt}/0"
        with self.lock:
            for line in text.splitlines():
                self.log_entries.append(
                    {
                        "logName": f"projects/{self.project}/logs/batch_task_logs",
                        "resource": {
                            "type": "generic_task",
                            "labels": {"job_id": job.job_id, "location": self.region},
                        },
                        "labels": {"job_uid": job.uid, "task_id": task_id, "hostname": "emulator"},
                        "textPayload": line,
                        "severity": severity,
                        "timestamp": now(),
                        "insertId": f"{next(self._insert_ids):012d}",
                    }
                )

    # -- jobs --------------------------------------------------------------------------

    def list_jobs(self, query: dict) -> dict:
        predicate = parse_filter(
            (query.get("filter") or [""])[0],
            lambda field: field in ("status.state", "name", "uid") or field.startswith("labels."),
            ("=",),
        )
        with self.lock:
            jobs = [job.resource() for job in self.jobs.values()]
        return page([job for job in jobs if predicate(dotted(job))], query, "jobs")

    def create_job(self, query: dict, body: dict) -> dict:
        job_id = (query.get("jobId") or [f"j-{uuid.uuid4()}"])[0]
        if not JOB_ID.match(job_id):
            raise invalid(
                f"Job id {job_id!r} must match regex '^[a-z]([a-z0-9-]{{0,61}}[a-z0-9])?$'."
            )
        self.validate(body)
        name = f"{self.parent}/jobs/{job_id}"
        with self.lock:
            if name in self.jobs:
                raise ApiError(409, f"Resource '{name}' already exists")
            job = self.jobs[name] = Job(name, body)
        job.runner = threading.Thread(target=self._run_job, args=(job,), daemon=True)
        job.runner.start()
        return job.resource()

    def validate(self, body: dict) -> None:
        check_fields(body, JOB_FIELDS, "job")
        labels = body.get("labels", {})
        if len(labels) > MAX_LABELS:
            raise invalid(f"A job can have at most {MAX_LABELS} labels.")
        for key, value in labels.items():
            if not LABEL_KEY.match(key):
                raise invalid(f"Label key {key!r} violates the label key format.")
            if not LABEL_VALUE.match(value):
                raise invalid(
                    f"Label value {value!r} of key {key!r} violates the label value format."
                )
        priority = as_int(body.get("priority", 0), "job.priority")
        if not 0 <= priority < 100:
            raise invalid(f"Priority {priority} must be in [0, 100).")
        groups = body.get("taskGroups") or []
        if len(groups) != 1:
            raise invalid("Exactly one task group is supported.")
        group = check_fields(groups[0], TASK_GROUP_FIELDS, "job.taskGroups[0]")
        count = as_int(group.get("taskCount", 1), "taskGroups[0].taskCount")
        if not 1 <= count <= 100000:
            raise invalid(f"taskCount {count} must be between 1 and 100000.")
        spec = check_fields(group.get("taskSpec"), TASK_SPEC_FIELDS, "job.taskGroups[0].taskSpec")
        runnables = spec.get("runnables") or []
        if not runnables:
            raise invalid("taskSpec.runnables must not be empty.")
        mount_paths = {volume.get("mountPath") for volume in spec.get("volumes", [])}
        for number, runnable in enumerate(runnables):
            where = f"taskSpec.runnables[{number}]"
            check_fields(
                runnable,
                {
                    "container",
                    "displayName",
                    "environment",
                    "ignoreExitStatus",
                    "background",
                    "alwaysRun",
                    "timeout",
                    "labels",
                },
                where,
            )
            container = runnable.get("container")
            if container is None:
                raise invalid(f"{where}: the emulator runs container runnables only.")
            check_fields(container, CONTAINER_FIELDS, f"{where}.container")
            if not container.get("imageUri"):
                raise invalid(f"{where}.container.imageUri is required.")
            for volume in container.get("volumes", []):
                host = volume.split(":")[0]
                if host not in mount_paths and host not in self.host_volumes:
                    raise invalid(f"{where}: container volume {volume!r} is not a task volume.")
        for number, volume in enumerate(spec.get("volumes", [])):
            check_fields(
                volume,
                {"gcs", "nfs", "deviceName", "mountPath", "mountOptions"},
                f"taskSpec.volumes[{number}]",
            )
            bucket = (volume.get("gcs") or {}).get("remotePath", "").split("/")[0]
            if not BUCKET.match(bucket) or not str(volume.get("mountPath", "")).startswith("/"):
                raise invalid(
                    f"taskSpec.volumes[{number}] needs gcs.remotePath and an absolute mountPath."
                )
        retries = as_int(spec.get("maxRetryCount", 0), "taskSpec.maxRetryCount")
        if not 0 <= retries <= MAX_RETRIES:
            raise invalid(f"maxRetryCount {retries} must be in [0, {MAX_RETRIES}].")
        if "maxRunDuration" in spec and not DURATION.match(str(spec["maxRunDuration"])):
            raise invalid(
                f"Invalid duration {spec['maxRunDuration']!r} at 'taskSpec.maxRunDuration'."
            )
        for policy in spec.get("lifecyclePolicies", []):
            if enum_name(policy.get("action", 0), LIFECYCLE_ACTIONS) not in (
                "RETRY_TASK",
                "FAIL_TASK",
            ):
                raise invalid("lifecyclePolicies[].action must be RETRY_TASK or FAIL_TASK.")
        instances = (body.get("allocationPolicy") or {}).get("instances") or [{}]
        policy = instances[0].get("policy") or {}
        machine = policy.get("machineType", "e2-standard-4")
        if machine not in MACHINE_TYPES:
            raise invalid(f"Machine type {machine!r} is not available in region {self.region}.")
        cpus, memory = MACHINE_TYPES[machine]
        resources = spec.get("computeResource") or {}
        cpu_milli = as_int(resources.get("cpuMilli", 2000), "computeResource.cpuMilli")
        memory_mib = as_int(resources.get("memoryMib", 2000), "computeResource.memoryMib")
        if not 0 < cpu_milli <= cpus * 1000 or not 0 < memory_mib <= memory:
            raise invalid(
                f"Task resources ({cpu_milli} mCPU, {memory_mib} MiB) do not fit machine "
                f"type {machine} ({cpus} vCPUs, {memory} MiB)."
            )
        for accelerator in policy.get("accelerators", []):
            if (
                accelerator.get("type") not in ACCELERATORS
                or as_int(accelerator.get("count", 0), "count") < 1
            ):
                raise invalid(f"Accelerator {accelerator!r} is not available.")
        if "minCpuPlatform" in policy and policy["minCpuPlatform"] not in CPU_PLATFORMS:
            raise invalid(f"Min CPU platform {policy['minCpuPlatform']!r} is not available.")
        disk = policy.get("bootDisk") or {}
        if "sizeGb" in disk and not 10 <= as_int(disk["sizeGb"], "bootDisk.sizeGb") <= 65536:
            raise invalid("bootDisk.sizeGb must be between 10 and 65536.")
        account = ((body.get("allocationPolicy") or {}).get("serviceAccount") or {}).get("email")
        if account is not None and "@" not in account:
            raise invalid(f"Service account {account!r} is not an email address.")
        destination = (body.get("logsPolicy") or {}).get("destination", 0)
        if enum_name(destination, LOG_DESTINATIONS) not in (
            "CLOUD_LOGGING",
            "DESTINATION_UNSPECIFIED",
        ):
            raise invalid("The emulator keeps logs in Cloud Logging only.")

    def delete_job(self, job_id: str) -> dict:
        job = self._job(job_id)
        self._delete(job)
        return {"name": f"{self.parent}/operations/delete-{job.uid}", "done": False}

    def _delete(self, job: Job) -> None:
        with job.lock:
            job.cancelled.set()
            job.set_state("DELETION_IN_PROGRESS", f"Job {job.name} is being deleted.")
            containers = list(job.containers)
        if containers:
            self._kill(containers)

    # -- running tasks -------------------------------------------------------------------

    def _run_job(self, job: Job) -> None:
        job.set_state("SCHEDULED", f"Job state is set from QUEUED to SCHEDULED for job {job.name}.")
        threads = [
            threading.Thread(target=self._run_task, args=(job, task), daemon=True)
            for task in job.tasks
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with self.lock:
            if job.cancelled.is_set():
                self.jobs.pop(job.name, None)
                return
        failed = any(task.state != "SUCCEEDED" for task in job.tasks)
        final = "FAILED" if failed else "SUCCEEDED"
        job.set_state(final, f"Job state is set from RUNNING to {final} for job {job.name}.")

    def _no_retry_codes(self, job: Job) -> set[int]:
        codes: set[int] = set()
        for policy in job.spec.get("lifecyclePolicies", []):
            if enum_name(policy.get("action", 0), LIFECYCLE_ACTIONS) == "FAIL_TASK":
                codes.update(
                    int(code) for code in (policy.get("actionCondition") or {}).get("exitCodes", [])
                )
        return codes

    def _run_task(self, job: Job, task: Task) -> None:
        retries = as_int(job.spec.get("maxRetryCount", 0), "maxRetryCount")
        fail_codes = self._no_retry_codes(job)
        with self.slots:
            for attempt in range(retries + 1):
                if job.cancelled.is_set():
                    task.set_state("UNEXECUTED", "Task was not run: its job was deleted.")
                    return
                task.set_state(
                    "ASSIGNED",
                    f"Task state is updated from PENDING to ASSIGNED on zones/{self.region}-a.",
                )
                if job.state == "SCHEDULED":
                    job.set_state(
                        "RUNNING", f"Job state is set from SCHEDULED to RUNNING for job {job.name}."
                    )
                task.set_state("RUNNING", "Task state is updated from ASSIGNED to RUNNING.")
                exit_code = self._attempt(job, task, attempt)
                if exit_code == 0:
                    task.set_state(
                        "SUCCEEDED", "Task state is updated from RUNNING to SUCCEEDED.", 0
                    )
                    return
                description = (
                    "Task state is updated from RUNNING to FAILED on "
                    f"zones/{self.region}-a/instances/emulator with exit code {exit_code}."
                )
                if exit_code == TIMEOUT_EXIT_CODE:
                    description += " Task exceeded its maxRunDuration."
                task.set_state("FAILED", description, exit_code)
                if exit_code in fail_codes or job.cancelled.is_set():
                    return

    def _attempt(self, job: Job, task: Task, attempt: int) -> int:
        spec = job.spec
        container = spec["runnables"][0]["container"]
        env = {
            **self.task_env,
            **(spec.get("environment") or {}).get("variables", {}),
            **(spec["runnables"][0].get("environment") or {}).get("variables", {}),
            "BATCH_TASK_INDEX": str(task.index),
            "BATCH_TASK_COUNT": str(job.task_count),
            "BATCH_JOB_UID": job.uid,
            "BATCH_JOB_ID": job.job_id,
            "BATCH_TASK_RETRY_ATTEMPT": str(attempt),
        }
        resources = spec.get("computeResource") or {}
        args = [
            self.docker, "run", "--rm", "--network", "host",
            "--name", f"gcp-batch-{job.uid}-{task.index}-{attempt}",
            "--label", f"gcp-batch-emulator={self.instance}",
            "--label", f"gcp-batch-job={job.job_id}",
        ]  # fmt: skip
        cpus = min(int(resources.get("cpuMilli", 2000)) / 1000, os.cpu_count() or 1)
        args += ["--cpus", f"{cpus:g}", "--memory", f"{int(resources.get('memoryMib', 2000))}m"]
        for key, value in sorted(env.items()):
            args += ["--env", f"{key}={value}"]
        for host in self.host_volumes:
            args += ["--volume", f"{host}:{host}"]
        with tempfile.TemporaryDirectory(prefix="gcp-batch-volumes-") as volumes_dir:
            synced = self._download_volumes(spec.get("volumes", []), Path(volumes_dir))
            for local, mount_path, _, _ in synced:
                args += ["--volume", f"{local}:{mount_path}"]
            if container.get("entrypoint"):
                args += ["--entrypoint", container["entrypoint"]]
            args += [container["imageUri"], *container.get("commands", [])]
            exit_code = self._run_container(job, task, attempt, args, spec.get("maxRunDuration"))
            self._upload_volumes(synced)
        return exit_code

    def _run_container(
        self, job: Job, task: Task, attempt: int, args: list[str], duration: str | None
    ) -> int:
        """One attached ``docker run --rm``: a single podman call per attempt."""
        name = args[args.index("--name") + 1]
        with job.lock:
            if job.cancelled.is_set():
                return 1
            job.containers.add(name)
        deadline = None
        if duration:
            deadline = time.monotonic() + float(DURATION.match(duration).group(0)[:-1])
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            exit_code = None
            while exit_code is None:
                try:
                    exit_code = process.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    timed_out = deadline is not None and time.monotonic() > deadline
                    if timed_out or job.cancelled.is_set():
                        # A delete may have come before the container existed: kill it now.
                        self._kill([name])
                        process.wait()
                        exit_code = TIMEOUT_EXIT_CODE if timed_out else 137
            for stream, severity in ((out, "INFO"), (err, "ERROR")):
                stream.seek(0)
                self._log(job, task, attempt, stream.read().decode("utf8", "replace"), severity)
        with job.lock:
            job.containers.discard(name)
        return exit_code

    def _kill(self, names: list[str]) -> None:
        subprocess.run([self.docker, "rm", "--force", "--time", "0", *names], capture_output=True)

    # -- the GCS volume stand-in ------------------------------------------------------------

    def _download_volumes(
        self, volumes: list[dict], root: Path
    ) -> list[tuple[Path, str, Any, dict]]:
        from redun_gcp.gcs import get_client

        synced = []
        for number, volume in enumerate(volumes):
            bucket_name, _, prefix = volume["gcs"]["remotePath"].partition("/")
            bucket = get_client().bucket(bucket_name)
            local = root / str(number)
            local.mkdir()
            seen = {}
            for blob in get_client().list_blobs(bucket_name, prefix=prefix):
                relative = blob.name[len(prefix) :].lstrip("/")
                if not relative or relative.endswith("/"):
                    continue
                target = local / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                blob.download_to_filename(str(target))
                seen[relative] = blob.md5_hash
            synced.append((local, volume["mountPath"], (bucket, prefix), seen))
        return synced

    def _upload_volumes(self, synced: list[tuple[Path, str, Any, dict]]) -> None:
        for local, _, (bucket, prefix), seen in synced:
            for path in sorted(local.rglob("*")):
                if not path.is_file():
                    continue
                relative = path.relative_to(local).as_posix()
                md5 = base64.b64encode(hashlib.md5(path.read_bytes()).digest()).decode()
                if seen.get(relative) != md5:
                    name = f"{prefix.rstrip('/')}/{relative}" if prefix else relative
                    bucket.blob(name).upload_from_filename(str(path))
