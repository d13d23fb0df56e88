"""The ``k8s`` executor: each job (or array of jobs) is a Kubernetes batch/v1 Job.

Single jobs are Jobs with one pod; arrays are Indexed Jobs whose pods read
their index from ``JOB_COMPLETION_INDEX``. The cluster retries failed pods
(``backoffLimit``, or ``backoffLimitPerIndex`` for arrays) and enforces
timeouts (``activeDeadlineSeconds``). Every Job carries labels that find it
again: its executor, the scheduler session that made it, and its eval hash,
so a restarted scheduler re-attaches to Jobs still running. One paged list
call per session and poll interval follows every Job in flight; finished
Jobs are deleted in batches once their results are read.
"""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
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

from redun_k8s import names
from redun_k8s.client import Cluster, K8SError, call, connect, read_json, read_text

if TYPE_CHECKING:
    from redun.scheduler import Scheduler

PREFIX = "redun.insitro.com/"
K8S_JOB_ID = PREFIX + "job_id"
K8S_JOB_HASH = PREFIX + "job_hash"
K8S_EXECUTION_ID = PREFIX + "execution_id"
K8S_EXECUTOR_NAME = PREFIX + "executor_name"
K8S_EXECUTOR_TYPE = PREFIX + "executor_type"
K8S_SESSION = PREFIX + "session"
K8S_UNIT = PREFIX + "unit"
K8S_ARRAY_UUID = PREFIX + "array_uuid"
K8S_TASK_NAME = PREFIX + "task_name"
K8S_PROJECT = PREFIX + "project"
K8S_SCRATCH = PREFIX + "scratch"
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
CONTAINER_NAME = "redun-job"
SCRATCH_VOLUME = "redun-scratch"
# Credentials that go to pods only through the Secret, never as plain env.
AWS_SECRET_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
LIST_PAGE = 500
DELETE_BATCH = 40
MAX_PREFIX = 20
# Kubernetes minor version from which Indexed Jobs have backoffLimitPerIndex (beta, on).
PER_INDEX_BACKOFF_MINOR = 29
SUCCESS_CONDITIONS = ("Complete", "SuccessCriteriaMet")
FAILURE_CONDITIONS = ("Failed", "FailureTarget")


class K8STimeoutExceeded(RemoteJobTimeoutError):
    """A Job ran past its timeout (``activeDeadlineSeconds``) and Kubernetes stopped it."""


def parse_indexes(text: str | None) -> set[int]:
    """``"0-2,5"`` (``completedIndexes``, ``failedIndexes``) -> ``{0, 1, 2, 5}``."""
    found: set[int] = set()
    for part in (text or "").split(","):
        if not part:
            continue
        start, _, end = part.partition("-")
        found.update(range(int(start), int(end or start) + 1))
    return found


def quantity(number: float, suffix: str = "") -> str:
    """A Kubernetes quantity string (no exponent notation, which the API rejects)."""
    text = format(Decimal(str(number)).normalize(), "f")
    return f"{text}{suffix}"


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# Fields whose keys are user data (label keys, attributes), not API field names.
MAP_FIELDS = {"matchLabels", "volumeAttributes", "labels", "annotations", "nodeSelector"}


def camel_keys(value: Any) -> Any:
    """redun.ini JSON in snake_case (the Python client's names) or camelCase -> API JSON."""
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            name = _camel(key) if "_" in key else key
            result[name] = item if name in MAP_FIELDS else camel_keys(item)
        return result
    return value


def job_condition(job: Mapping[str, Any], kinds: tuple[str, ...]) -> dict[str, Any] | None:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") in kinds and condition.get("status") == "True":
            return condition
    return None


def job_state(job: Mapping[str, Any]) -> str:
    """One word for a Job: Succeeded, Failed, Running or Pending."""
    if job_condition(job, SUCCESS_CONDITIONS):
        return "Succeeded"
    if job_condition(job, FAILURE_CONDITIONS):
        return "Failed"
    status = job.get("status") or {}
    return "Running" if status.get("ready") or status.get("active") else "Pending"


class K8SExecutor(RemoteExecutor):
    """Runs jobs as Kubernetes Jobs through the official client."""

    DEFAULTS: Mapping[str, str] = {
        **RemoteExecutor.DEFAULTS,
        "job_monitor_interval": "5.0",
        "job_stale_time": "3.0",
        "min_array_size": "5",
        "max_array_size": "1000",
        "namespace": "default",
        "create_namespace": "true",
        "secret_name": "redun-secret",
        "import_aws_secrets": "true",
        "secret_env_vars": "",
        "service_account_name": "default",
        "job_name_prefix": "redun-job",
        "ephemeral_storage": "",
        "annotations": "{}",
        "k8s_labels": "{}",
        "default_k8s_labels": "true",
        "node_affinity": "",
        "volumes": "[]",
        "volume_mounts": "[]",
        "image_pull_secrets": "regcred",
        "ttl_seconds_after_finished": "86400",
        "kubeconfig": "",
        "context": "",
    }
    engine_retries = True
    array_index_env = "JOB_COMPLETION_INDEX"
    # activeDeadlineSeconds ends a Job; the executor's own timer is only a backstop.
    timeout_grace = 30.0
    timeout_error = K8STimeoutExceeded

    def __init__(
        self,
        name: str,
        scheduler: Scheduler | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        config = dict(config or {})
        # redun's k8s examples name the scratch `s3_scratch`.
        if not config.get("scratch") and config.get("s3_scratch"):
            config["scratch"] = config["s3_scratch"]
        super().__init__(name, scheduler=scheduler, config=config)
        settings = self.settings
        self.namespace = settings["namespace"]
        if not names.is_dns_label(self.namespace):
            raise ExecutorError(
                f"[{self.section}] namespace = {self.namespace!r} is not a valid namespace name "
                "(lowercase letters, digits and '-', at most 63 characters)"
            )
        self.create_namespace = self._bool("create_namespace")
        self.import_aws_secrets = self._bool("import_aws_secrets")
        self.default_labels = self._bool("default_k8s_labels")
        self.secret_name = settings["secret_name"]
        if self.secret_name and not names.DNS1123_SUBDOMAIN.match(self.secret_name):
            raise ExecutorError(
                f"[{self.section}] secret_name = {self.secret_name!r} is not a valid name"
            )
        raw_vars = settings["secret_env_vars"].strip()
        self.secret_env_vars = (
            self._parse_json(raw_vars, "secret_env_vars", list)
            if raw_vars.startswith("[")
            else raw_vars.split()
        )
        prefix = settings["job_name_prefix"]
        self.job_prefix = names.dns_label(prefix, MAX_PREFIX)
        if prefix and not names.is_dns_label(prefix):
            raise ExecutorError(
                f"[{self.section}] job_name_prefix = {prefix!r} is not a DNS-1123 label "
                f"(lowercase letters, digits and '-'); try {self.job_prefix!r}"
            )
        self.service_account = settings["service_account_name"]
        self.ephemeral_storage = settings["ephemeral_storage"].strip()
        if self.ephemeral_storage and not names.is_quantity(self.ephemeral_storage):
            raise ExecutorError(
                f"[{self.section}] ephemeral_storage = {self.ephemeral_storage!r} "
                "is not a quantity "
                "(e.g. 10Gi)"
            )
        self.annotations = self._string_map("annotations", settings["annotations"], labels=False)
        self.k8s_labels = self._string_map("k8s_labels", settings["k8s_labels"], labels=True)
        raw_affinity = settings["node_affinity"].strip()
        self.node_affinity = (
            camel_keys(self._parse_json(raw_affinity, "node_affinity", dict))
            if raw_affinity
            else None
        )
        self.volumes = camel_keys(self._parse_json(settings["volumes"], "volumes", list))
        self.volume_mounts = camel_keys(
            self._parse_json(settings["volume_mounts"], "volume_mounts", list)
        )
        self.pull_secrets = settings["image_pull_secrets"].replace(",", " ").split()
        ttl = settings["ttl_seconds_after_finished"].strip()
        self.ttl = int(ttl) if ttl else None
        self.session = uuid.uuid4().hex[:16]
        self._cluster: Cluster | None = None
        self._server_minor = 0
        self._secret_keys: list[str] = []
        self._sessions: dict[str, str] = {}  # job name -> session label (re-attached jobs)
        self._open: dict[str, set[int | None]] = {}  # job name -> members still followed
        self._to_delete: list[str] = []

    # -- configuration -------------------------------------------------------------------

    def _bool(self, key: str) -> bool:
        raw = self.settings[key].strip()
        try:
            return str2bool(raw)
        except ValueError:
            raise ExecutorError(
                f"[{self.section}] {key} = {raw!r} is not a boolean; use true or false"
            ) from None

    def _string_map(self, key: str, raw: str, labels: bool) -> dict[str, str]:
        value = self._parse_json(raw or "{}", key, dict)
        return self._check_map(key, value, labels, where=f"[{self.section}] {key}")

    @staticmethod
    def _check_map(key: str, value: Mapping[str, Any], labels: bool, where: str) -> dict[str, str]:
        result = {}
        for item_key, item in value.items():
            problem = names.label_key_problem(str(item_key))
            if problem:
                raise ExecutorError(f"{where}: key {item_key!r} is not valid: {problem}")
            text = str(item)
            if labels:
                problem = names.label_value_problem(text)
                if problem:
                    raise ExecutorError(
                        f"{where}: value {text!r} of {item_key!r} is not valid: {problem}; "
                        "put longer text in `annotations`"
                    )
            result[str(item_key)] = text
        return result

    # -- the cluster ---------------------------------------------------------------------

    @property
    def cluster(self) -> Cluster:
        if self._cluster is None:
            cluster = connect(self.settings["kubeconfig"], self.settings["context"])
            version = call(
                cluster, self.namespace, "report its version", _version_api(cluster).get_code
            )
            minor = re.match(r"\d+", str(version.minor or "0"))
            self._server_minor = int(minor.group()) if minor else 0
            self._cluster = cluster
        return self._cluster

    def _call(self, what: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        return call(self.cluster, self.namespace, what, function, *args, **kwargs)

    def _prepare(self) -> None:
        if not self._prepared:
            with self._lock:
                if not self._prepared:
                    self._ensure_namespace()
                    self._ensure_secret()
        super()._prepare()

    def _ensure_namespace(self) -> None:
        from kubernetes import client

        core = self.cluster.core
        found = self._call(
            "read the namespace", core.read_namespace, name=self.namespace, allow=(403, 404)
        )
        if found is not None:
            return
        # 403: namespaces are cluster-scoped; a user may run Jobs in one it cannot read.
        exists = self._call(
            "list jobs",
            self.cluster.batch.list_namespaced_job,
            namespace=self.namespace,
            limit=1,
            _preload_content=False,
            allow=(404,),
        )
        if exists is not None:
            return
        if not self.create_namespace:
            raise K8SError(
                f"Namespace {self.namespace!r} does not exist on {self.cluster.describe()}: "
                "create it "
                f"(kubectl create namespace {self.namespace}) or set create_namespace = true"
            )
        body = client.V1Namespace(metadata=client.V1ObjectMeta(name=self.namespace))
        self._call("create the namespace", core.create_namespace, body=body, allow=(409,))

    def _ensure_secret(self) -> None:
        """Put local credentials in the Secret pods read them from (never in the Job spec)."""
        from kubernetes import client

        wanted = list(AWS_SECRET_VARS) if self.import_aws_secrets else []
        wanted += [var for var in self.secret_env_vars if var not in wanted]
        data = {var: os.environ[var] for var in wanted if os.environ.get(var)}
        self._secret_keys = wanted
        if not data or not self.secret_name:
            return
        body = client.V1Secret(
            metadata=client.V1ObjectMeta(name=self.secret_name, labels={K8S_EXECUTOR_TYPE: "k8s"}),
            type="Opaque",
            string_data=data,
        )
        core = self.cluster.core
        created = self._call(
            "create the secret",
            core.create_namespaced_secret,
            namespace=self.namespace,
            body=body,
            allow=(409,),
        )
        if created is None:
            self._call(
                "update the secret",
                core.replace_namespaced_secret,
                name=self.secret_name,
                namespace=self.namespace,
                body=body,
            )

    # -- building Jobs -------------------------------------------------------------------

    def _job_name(self, spec: RemoteSpec) -> str:
        array = spec.labels.get(LABEL_ARRAY)
        if array:
            return f"{self.job_prefix}-array-{array.replace('-', '')[:20]}"
        job_id = spec.labels.get(LABEL_JOB_ID) or uuid.uuid4().hex
        return f"{self.job_prefix}-{job_id}"

    def _labels(self, spec: RemoteSpec, name: str) -> tuple[dict[str, str], dict[str, str]]:
        labels = {
            K8S_EXECUTOR_NAME: names.label_value(self.name),
            K8S_SESSION: self.session,
            K8S_UNIT: name,
        }
        annotations = {K8S_SCRATCH: self.scratch_prefix}
        array = spec.labels.get(LABEL_ARRAY)
        if array:
            annotations[K8S_ARRAY_UUID] = array
        else:
            labels[K8S_JOB_HASH] = names.label_value(spec.labels.get(LABEL_EVAL_HASH, ""))
        if self.default_labels:
            labels[K8S_EXECUTOR_TYPE] = "k8s"
            labels[K8S_EXECUTION_ID] = names.label_value(spec.labels.get(LABEL_EXECUTION, ""))
            if not array:
                labels[K8S_JOB_ID] = names.label_value(spec.labels.get(LABEL_JOB_ID, ""))
            task_name = spec.labels.get(LABEL_TASK, "")
            annotations[K8S_TASK_NAME] = task_name
            annotations[K8S_PROJECT] = task_name.rsplit(".", 1)[0] if "." in task_name else ""
        where = f"task option of {spec.labels.get(LABEL_TASK, 'the task')}"
        labels.update(self.k8s_labels)
        labels.update(
            self._check_map("k8s_labels", spec.options.get("k8s_labels") or {}, True, where)
        )
        annotations.update(self.annotations)
        annotations.update(
            self._check_map("annotations", spec.options.get("annotations") or {}, False, where)
        )
        return labels, annotations

    def _env(self, spec: RemoteSpec) -> list[Any]:
        from kubernetes import client

        explicit = set(json.loads(self.settings.get("env") or "{}")) | set(
            spec.options.get("env") or {}
        )
        secret = (
            [key for key in self._secret_keys if key not in explicit] if self.secret_name else []
        )
        env = [
            client.V1EnvVar(name=key, value=value)
            for key, value in sorted(spec.env.items())
            if key not in secret
        ]
        for key in secret:
            ref = client.V1SecretKeySelector(name=self.secret_name, key=key, optional=True)
            env.append(
                client.V1EnvVar(name=key, value_from=client.V1EnvVarSource(secret_key_ref=ref))
            )
        return env

    def _resources(self, spec: RemoteSpec) -> Any:
        from kubernetes import client

        requests: dict[str, str] = {}
        limits: dict[str, str] = {}
        if spec.vcpus > 0:
            requests["cpu"] = quantity(spec.vcpus)
        if spec.memory > 0:
            requests["memory"] = limits["memory"] = quantity(spec.memory, "G")
        storage = str(spec.options.get("ephemeral_storage") or self.ephemeral_storage)
        if storage:
            if not names.is_quantity(storage):
                raise ExecutorError(
                    f"ephemeral_storage = {storage!r} is not a quantity (e.g. 10Gi)"
                )
            requests["ephemeral-storage"] = limits["ephemeral-storage"] = storage
        if spec.gpus > 0:
            limits["nvidia.com/gpu"] = str(spec.gpus)
        return client.V1ResourceRequirements(requests=requests or None, limits=limits or None)

    def _model(self, data: Any, kind: str) -> Any:
        """API JSON -> a typed model of this client version (36: classes, 37: pydantic)."""
        from kubernetes import client

        model = getattr(client, kind)
        if hasattr(model, "from_dict"):
            return model.from_dict(data)
        return self.cluster.api_client._ApiClient__deserialize(data, kind)

    def _volumes(self, spec: RemoteSpec) -> tuple[list[Any], list[Any]]:
        volumes = list(self.volumes) + camel_keys(list(spec.options.get("volumes") or []))
        mounts = list(self.volume_mounts) + camel_keys(
            list(spec.options.get("volume_mounts") or [])
        )
        if not scratch.is_url(self.scratch_prefix):
            # A local scratch is a path every node mounts (one node, or a shared filesystem).
            path = scratch.local_dir(self.scratch_prefix)
            volumes.append(
                {"name": SCRATCH_VOLUME, "hostPath": {"path": path, "type": "DirectoryOrCreate"}}
            )
            mounts.append({"name": SCRATCH_VOLUME, "mountPath": path})
        return (
            [self._model(volume, "V1Volume") for volume in volumes],
            [self._model(mount, "V1VolumeMount") for mount in mounts],
        )

    def job_body(self, spec: RemoteSpec, size: int | None = None) -> Any:
        """The V1Job for `spec` (an Indexed Job of `size` pods for arrays)."""
        from kubernetes import client

        name = self._job_name(spec)
        labels, annotations = self._labels(spec, name)
        volumes, mounts = self._volumes(spec)
        affinity_json = spec.options.get("node_affinity") or self.node_affinity
        affinity = None
        if affinity_json:
            affinity = client.V1Affinity(
                node_affinity=self._model(camel_keys(affinity_json), "V1NodeAffinity")
            )
        container = client.V1Container(
            name=CONTAINER_NAME,
            image=spec.image,
            command=list(spec.command),
            env=self._env(spec) or None,
            resources=self._resources(spec),
            volume_mounts=mounts or None,
        )
        pod_spec = client.V1PodSpec(
            containers=[container],
            restart_policy="Never",
            service_account_name=self.service_account or None,
            image_pull_secrets=[client.V1LocalObjectReference(name=s) for s in self.pull_secrets]
            or None,
            affinity=affinity,
            volumes=volumes or None,
        )
        job_spec: dict[str, Any] = {
            "template": client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=dict(labels), annotations=dict(annotations)),
                spec=pod_spec,
            ),
            "ttl_seconds_after_finished": self.ttl,
        }
        if spec.timeout:
            job_spec["active_deadline_seconds"] = max(1, math.ceil(spec.timeout))
        if size is None:
            job_spec["backoff_limit"] = spec.retries
        else:
            job_spec.update(completions=size, parallelism=size, completion_mode="Indexed")
            if self._server_minor >= PER_INDEX_BACKOFF_MINOR:
                # One failing index does not stop the others.
                job_spec["backoff_limit_per_index"] = spec.retries
            else:
                job_spec["backoff_limit"] = spec.retries * size
        return client.V1Job(
            api_version="batch/v1",
            kind="Job",
            metadata=client.V1ObjectMeta(name=name, labels=labels, annotations=annotations),
            spec=client.V1JobSpec(**job_spec),
        )

    # -- engine calls --------------------------------------------------------------------

    def _create(self, body: Any) -> str:
        batch = self.cluster.batch
        self._call("create a job", batch.create_namespaced_job, namespace=self.namespace, body=body)
        name = body.metadata.name
        with self._lock:
            self._sessions[name] = self.session
        return name

    def submit_command(self, spec: RemoteSpec) -> str:
        body = self.job_body(spec)
        name = self._create(body)
        with self._lock:
            self._open[name] = {None}
        return name

    def submit_array_command(self, spec: RemoteSpec, size: int) -> list[str]:
        body = self.job_body(spec, size)
        name = self._create(body)
        with self._lock:
            self._open[name] = set(range(size))
        return [f"{name}#{index}" for index in range(size)]

    @staticmethod
    def _split(remote_id: str) -> tuple[str, int | None]:
        name, sep, index = remote_id.partition("#")
        return name, int(index) if sep else None

    def _list(self, label_selector: str) -> list[dict[str, Any]]:
        """Every Job matching `label_selector`, page by page (plain JSON)."""
        batch = self.cluster.batch
        items: list[dict[str, Any]] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"label_selector": label_selector, "limit": LIST_PAGE}
            if token:
                kwargs["_continue"] = token
            response = self._call(
                "list jobs",
                batch.list_namespaced_job,
                namespace=self.namespace,
                _preload_content=False,
                **kwargs,
            )
            page = read_json(response)
            items += page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def poll(self, remote_ids: list[str]) -> dict[str, RemoteStatus]:
        self._flush_deletes()
        with self._lock:
            sessions = {self._sessions.get(self._split(rid)[0], self.session) for rid in remote_ids}
        jobs: dict[str, dict[str, Any]] = {}
        for session in sorted(sessions):
            for job in self._list(f"{K8S_SESSION}={session}"):
                jobs[job["metadata"]["name"]] = job
        statuses = {}
        for remote_id in remote_ids:
            name, index = self._split(remote_id)
            job = jobs.get(name)
            if job is not None:
                statuses[remote_id] = self._unit_status(job, index)
        return statuses

    def _unit_status(self, job: Mapping[str, Any], index: int | None) -> RemoteStatus:
        status = job.get("status") or {}
        if index is not None:
            if index in parse_indexes(status.get("completedIndexes")):
                return RemoteStatus(RemoteState.SUCCEEDED)
            if index in parse_indexes(status.get("failedIndexes")):
                return RemoteStatus(
                    RemoteState.FAILED,
                    f"index {index} failed (its retries, backoffLimitPerIndex, ran out)",
                )
        failed = job_condition(job, FAILURE_CONDITIONS)
        if failed is not None:
            reason = failed.get("reason") or "Failed"
            return RemoteStatus(
                RemoteState.FAILED,
                f"Kubernetes job {job['metadata']['name']} failed: "
                f"{reason}: {failed.get('message', '')}",
                timed_out=reason == "DeadlineExceeded",
            )
        if index is None and job_condition(job, SUCCESS_CONDITIONS):
            return RemoteStatus(RemoteState.SUCCEEDED)
        if status.get("ready") or status.get("active"):
            return RemoteStatus(RemoteState.RUNNING)
        return RemoteStatus(RemoteState.PENDING)

    def cleanup(self, remote_id: str) -> None:
        """A member is done: its Job is deleted (in a batch) once all its members are."""
        name, index = self._split(remote_id)
        with self._lock:
            members = self._open.get(name)
            if members is not None:
                members.discard(index)
                if members:
                    return
                del self._open[name]
            self._sessions.pop(name, None)
            self._to_delete.append(name)

    def _flush_deletes(self) -> None:
        with self._lock:
            pending, self._to_delete = self._to_delete, []
        if pending:
            self.delete_jobs(pending)

    def cancel(self, remote_ids: list[str]) -> None:
        self.delete_jobs(sorted({self._split(remote_id)[0] for remote_id in remote_ids}))

    def delete_jobs(self, job_names: list[str]) -> None:
        """Delete Jobs by name, many per call; their pods go too (background propagation)."""
        batch = self.cluster.batch
        for start in range(0, len(job_names), DELETE_BATCH):
            chunk = job_names[start : start + DELETE_BATCH]
            self._call(
                "delete jobs",
                batch.delete_collection_namespaced_job,
                namespace=self.namespace,
                label_selector=f"{K8S_UNIT} in ({','.join(chunk)})",
                propagation_policy="Background",
            )

    def stop(self) -> None:
        super().stop()
        if self._cluster is not None:
            self._flush_deletes()

    def pods(self, job_name: str, index: int | None = None) -> list[dict[str, Any]]:
        """The pods of a Job (of one index), oldest first (plain JSON)."""
        core = self.cluster.core
        response = self._call(
            "list pods",
            core.list_namespaced_pod,
            namespace=self.namespace,
            label_selector=f"job-name={job_name}",
            _preload_content=False,
        )
        pods = read_json(response).get("items") or []
        if index is not None:
            pods = [
                p
                for p in pods
                if (p["metadata"].get("annotations") or {}).get(INDEX_ANNOTATION) == str(index)
            ]
        return sorted(pods, key=lambda pod: pod["metadata"].get("creationTimestamp") or "")

    def pod_log(self, pod_name: str, tail: int | None = LOG_TAIL_LINES) -> str:
        core = self.cluster.core
        kwargs: dict[str, Any] = {"tail_lines": tail} if tail else {}
        response = self._call(
            "read a pod log",
            core.read_namespaced_pod_log,
            name=pod_name,
            namespace=self.namespace,
            _preload_content=False,
            allow=(400, 404),
            **kwargs,
        )
        return read_text(response) if response is not None else ""

    def logs(self, remote_id: str, tail: int = LOG_TAIL_LINES) -> list[str]:
        name, index = self._split(remote_id)
        try:
            pods = self.pods(name, index)
        except K8SError:
            return []
        failed = [pod for pod in pods if (pod.get("status") or {}).get("phase") == "Failed"]
        chosen = (failed or pods)[-1:]
        lines: list[str] = []
        for pod in chosen:
            lines += [
                line + "\n" for line in self.pod_log(pod["metadata"]["name"], tail).splitlines()
            ]
        return lines[-tail:]

    def list_jobs(self) -> dict[str, dict[str, str]]:
        """Jobs of this executor still on the cluster, one entry per member (for re-attaching)."""
        found: dict[str, dict[str, str]] = {}
        for job in self._list(f"{K8S_EXECUTOR_NAME}={names.label_value(self.name)}"):
            meta = job["metadata"]
            labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
            name = meta["name"]
            base = {
                LABEL_EXECUTOR: self.name,
                LABEL_SCRATCH: annotations.get(K8S_SCRATCH, ""),
                LABEL_EXECUTION: labels.get(K8S_EXECUTION_ID, ""),
            }
            with self._lock:
                self._sessions.setdefault(name, labels.get(K8S_SESSION, ""))
            array = annotations.get(K8S_ARRAY_UUID)
            if not array:
                found[name] = {**base, LABEL_EVAL_HASH: labels.get(K8S_JOB_HASH, "")}
                continue
            if base[LABEL_SCRATCH] != self.scratch_prefix:
                continue
            path = scratch.get_array_scratch_file(
                self.scratch_prefix, array, scratch.SCRATCH_HASHES
            )
            try:
                hashes = scratch.read_bytes(path).decode().split("\n")
            except (OSError, scratch.ScratchError):
                continue
            for index, eval_hash in enumerate(hashes):
                found[f"{name}#{index}"] = {**base, LABEL_EVAL_HASH: eval_hash, LABEL_ARRAY: array}
        return found

    def _reattach(self, job: Any) -> bool:
        attached = super()._reattach(job)
        if attached:
            with self._lock:
                for remote_id, entry in self._tracked.items():
                    if entry.job is job:
                        name, index = self._split(remote_id)
                        self._open.setdefault(name, set()).add(index)
        return attached


def _version_api(cluster: Cluster) -> Any:
    from kubernetes import client

    return client.VersionApi(cluster.api_client)
