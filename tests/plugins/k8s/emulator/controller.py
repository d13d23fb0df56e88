"""The control loop: job controller, scheduler, pod lifecycle, garbage collector, TTL.

One thread reconciles every `tick` seconds: Jobs get pods (one per index for
Indexed Jobs) up to their parallelism, failed pods are replaced after a short
backoff until ``backoffLimit`` (or ``backoffLimitPerIndex``) is exceeded,
``activeDeadlineSeconds`` is enforced from the Job's ``startTime``, and Job
status (active, ready, succeeded, failed, completedIndexes, failedIndexes,
conditions) is written as the real controller writes it. Pods are bound to
the one emulated node when their requests fit and their node affinity
matches, then run by the kubelet as podman containers.
"""

from __future__ import annotations

import base64
import copy
import threading
import time
from typing import Any

from tests.plugins.k8s.emulator.cluster import Cluster, now_iso, random_suffix
from tests.plugins.k8s.emulator.kubelet import Kubelet, StartError
from tests.plugins.k8s.emulator.validation import parse_quantity

INDEX_KEY = "batch.kubernetes.io/job-completion-index"
NODE_NAME = "emulator-node"
NODE_LABELS = {
    "kubernetes.io/hostname": NODE_NAME,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "node.kubernetes.io/instance-type": "emulated",
}
ACTIVE_PHASES = ("Pending", "Running")


def compress_indexes(indexes: set[int]) -> str:
    """``{0, 1, 2, 5}`` -> ``"0-2,5"``, the format of ``status.completedIndexes``."""
    ranges: list[str] = []
    ordered = sorted(indexes)
    start = prev = None
    for index in ordered + [None]:
        if index is not None and prev is not None and index == prev + 1:
            prev = index
            continue
        if start is not None:
            ranges.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = index
    return ",".join(ranges)


def _owner_uid(pod: dict[str, Any]) -> str | None:
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == "Job" and ref.get("controller"):
            return ref.get("uid")
    return None


def _requests(pod: dict[str, Any]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for container in pod["spec"]["containers"]:
        resources = container.get("resources") or {}
        # Requests default to limits when only limits are given.
        merged = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        for name, value in merged.items():
            totals[name] = totals.get(name, 0.0) + parse_quantity(value)
    return totals


def _expression_matches(expression: dict[str, Any], labels: dict[str, str]) -> bool:
    key, operator = expression.get("key"), expression.get("operator")
    values = expression.get("values") or []
    value = labels.get(key)
    if operator == "In":
        return value in values
    if operator == "NotIn":
        return value not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    try:
        number = int(value or "")
    except ValueError:
        return False
    return number > int(values[0]) if operator == "Gt" else number < int(values[0])


def affinity_matches(pod: dict[str, Any], labels: dict[str, str]) -> bool:
    node_affinity = ((pod["spec"].get("affinity") or {}).get("nodeAffinity")) or {}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    selector = pod["spec"].get("nodeSelector") or {}
    if any(labels.get(key) != value for key, value in selector.items()):
        return False
    if not required:
        return True
    fields = {"metadata.name": NODE_NAME}
    for term in required.get("nodeSelectorTerms") or []:
        expressions = term.get("matchExpressions") or []
        field_expressions = term.get("matchFields") or []
        if not expressions and not field_expressions:
            continue
        if all(_expression_matches(e, labels) for e in expressions) and all(
            _expression_matches(e, fields) for e in field_expressions
        ):
            return True
    return False


class Controller:
    def __init__(
        self,
        cluster: Cluster,
        kubelet: Kubelet,
        tick: float = 0.1,
        backoff: float = 0.2,
        allocatable: dict[str, str] | None = None,
    ) -> None:
        self.cluster = cluster
        self.kubelet = kubelet
        self.tick = tick
        self.backoff = backoff
        self.allocatable = {
            name: parse_quantity(value)
            for name, value in (
                allocatable
                or {"cpu": "8", "memory": "32Gi", "ephemeral-storage": "100Gi", "pods": "110"}
            ).items()
        }
        # pod uid -> what the kubelet knows of its container
        self.containers: dict[str, dict[str, Any]] = {}
        # job uid -> when the controller first saw it and when it finished (epoch seconds)
        self.job_times: dict[str, dict[str, float]] = {}
        # (started, finished) of every container that ran to its end, for benchmarks
        self.container_times: list[tuple[float, float]] = []
        self._to_kill: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="k8s-emulator-controller", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                self.reconcile()
            except Exception as error:  # keep serving; a bad object must not stop the loop
                print(f"k8s emulator controller error: {error!r}", flush=True)

    def reset(self) -> None:
        with self.cluster.lock:
            self.containers.clear()
            self.job_times.clear()
            self.container_times.clear()
            self._to_kill.clear()
        self.kubelet.remove_all()

    # -- one round ----------------------------------------------------------------------

    def reconcile(self) -> None:
        snapshot = time.time()
        states = self.kubelet.states()
        with self.cluster.lock:
            now = time.time()
            for pod in self.cluster.items("pods"):
                self._sync_pod(pod, states, snapshot, now)
            for job in self.cluster.items("jobs"):
                self._reconcile_job(job, now)
            self._collect_garbage(now)
            to_kill, self._to_kill = self._to_kill, []
        self.kubelet.kill(to_kill)

    # -- pods ------------------------------------------------------------------------------

    def delete_pod(self, pod: dict[str, Any]) -> None:
        """Remove a pod and its containers (API deletes, GC, finished deadlines)."""
        meta = pod["metadata"]
        self.cluster.remove("pods", meta["namespace"], meta["name"])
        entry = self.containers.pop(meta["uid"], None)
        if entry:
            self._to_kill += entry["names"]

    def _set_pod(self, pod: dict[str, Any], **status: Any) -> None:
        meta = pod["metadata"]
        current = pod.setdefault("status", {})
        if all(current.get(key) == value for key, value in status.items()):
            return

        def change(obj: dict[str, Any]) -> None:
            obj["status"].update(status)

        self.cluster.update("pods", meta["namespace"], meta["name"], change)

    def _schedule(self, pod: dict[str, Any]) -> str | None:
        """Bind `pod` to the node, or say why it cannot be."""
        if len(pod["spec"]["containers"]) != 1:
            return "the emulator runs single-container pods only"
        if not affinity_matches(pod, NODE_LABELS):
            return "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
        used: dict[str, float] = {"pods": 0.0}
        for other in self.cluster.items("pods"):
            if other["spec"].get("nodeName") and other["status"].get("phase") in ACTIVE_PHASES:
                used["pods"] += 1
                for name, value in _requests(other).items():
                    used[name] = used.get(name, 0.0) + value
        wanted = {**_requests(pod), "pods": 1.0}
        short = [
            name
            for name, value in sorted(wanted.items())
            if value > 0 and used.get(name, 0.0) + value > self.allocatable.get(name, 0.0)
        ]
        if short:
            return (
                "0/1 nodes are available: "
                + ", ".join(f"1 Insufficient {name}" for name in short)
                + "."
            )
        return None

    def _sync_pod(
        self, pod: dict[str, Any], states: dict[str, dict[str, Any]], snapshot: float, now: float
    ) -> None:
        status = pod["status"]
        phase = status.get("phase")
        if phase in ("Succeeded", "Failed"):
            return
        meta, spec = pod["metadata"], pod["spec"]
        if not spec.get("nodeName"):
            problem = self._schedule(pod)
            if problem:
                self._set_pod(
                    pod,
                    phase="Pending",
                    conditions=[
                        {
                            "type": "PodScheduled",
                            "status": "False",
                            "reason": "Unschedulable",
                            "message": problem,
                            "lastTransitionTime": now_iso(),
                        }
                    ],
                )
                return
            self.cluster.update(
                "pods",
                meta["namespace"],
                meta["name"],
                lambda obj: obj["spec"].update(nodeName=NODE_NAME),
            )
            self._set_pod(
                pod,
                phase="Pending",
                hostIP="127.0.0.1",
                podIP="127.0.0.1",
                startTime=now_iso(),
                conditions=[
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": now_iso()}
                ],
            )
        entry = self.containers.setdefault(
            meta["uid"],
            {
                "names": [],
                "restarts": 0,
                "starting": False,
                "started_at": 0.0,
                "restart": False,
                "not_before": 0.0,
                "failed_at": 0.0,
                "error": None,
            },
        )
        container = spec["containers"][0]
        current = entry["names"][-1] if entry["names"] else None
        state = states.get(current) if current else None
        if entry["error"] is not None:
            error: StartError = entry["error"]
            entry["error"] = None
            if error.reason == "ContainerCreating":
                self._waiting(pod, container, error.reason, error.message)
                return
            self._terminated(pod, container, entry, 128, error.reason, error.message, now)
            return
        if entry["starting"]:
            return
        if entry["restart"]:
            if now >= entry["not_before"]:
                entry["restart"] = False
                self._start(pod, container, entry)
            return
        if state is None:
            if current is None:
                self._start(pod, container, entry)
            elif entry["started_at"] < snapshot:
                # Started before the snapshot, yet gone from podman: removed behind our back.
                self._terminated(pod, container, entry, 137, "Error", "container disappeared", now)
            return
        if state["State"] in ("running", "paused", "stopping"):
            self._set_pod(
                pod,
                phase="Running",
                containerStatuses=[
                    self._container_status(
                        container, entry, {"running": {"startedAt": now_iso()}}, ready=True
                    )
                ],
            )
            return
        if state["State"] in ("created", "configured", "initialized"):
            return
        code = int(state.get("ExitCode") or 0)
        reason = "Completed" if code == 0 else "Error"
        if code == 137 and self.kubelet.oom_killed(current):
            reason = "OOMKilled"
        self._terminated(pod, container, entry, code, reason, "", now)

    def _container_status(
        self,
        container: dict[str, Any],
        entry: dict[str, Any],
        state: dict[str, Any],
        ready: bool = False,
    ) -> dict[str, Any]:
        return {
            "name": container["name"],
            "image": container["image"],
            "imageID": "",
            "containerID": f"podman://{entry['names'][-1]}" if entry["names"] else "",
            "ready": ready,
            "started": ready,
            "restartCount": entry["restarts"],
            "state": state,
        }

    def _waiting(
        self, pod: dict[str, Any], container: dict[str, Any], reason: str, message: str
    ) -> None:
        entry = self.containers[pod["metadata"]["uid"]]
        self._set_pod(
            pod,
            phase="Pending",
            containerStatuses=[
                self._container_status(
                    container, entry, {"waiting": {"reason": reason, "message": message}}
                )
            ],
        )

    def _terminated(
        self,
        pod: dict[str, Any],
        container: dict[str, Any],
        entry: dict[str, Any],
        code: int,
        reason: str,
        message: str,
        now: float,
    ) -> None:
        terminated = {"exitCode": code, "reason": reason, "finishedAt": now_iso()}
        if entry["started_at"]:
            self.container_times.append((entry["started_at"], now))
        if message:
            terminated["message"] = message
        if code != 0 and pod["spec"].get("restartPolicy") == "OnFailure":
            # Restarted in place, after a backoff that doubles (CrashLoopBackOff, shortened).
            entry["restarts"] += 1
            entry["restart"] = True
            entry["not_before"] = now + min(self.backoff * 2 ** (entry["restarts"] - 1), 5.0)
            status = self._container_status(
                container, entry, {"waiting": {"reason": "CrashLoopBackOff"}}
            )
            status["lastState"] = {"terminated": terminated}
            self._set_pod(pod, phase="Running", containerStatuses=[status])
            return
        phase = "Succeeded" if code == 0 else "Failed"
        if code != 0:
            entry["failed_at"] = now
        self._set_pod(
            pod,
            phase=phase,
            containerStatuses=[
                self._container_status(container, entry, {"terminated": terminated})
            ],
        )

    def _resolve_env(self, pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
        env: dict[str, str] = {}
        meta = pod["metadata"]
        for var in container.get("env") or []:
            source = var.get("valueFrom")
            if source is None:
                env[var["name"]] = str(var.get("value", ""))
                continue
            ref = source.get("secretKeyRef")
            if ref is not None:
                secret = self.cluster.find("secrets", meta["namespace"], ref["name"])
                if secret is None or ref["key"] not in (secret.get("data") or {}):
                    if ref.get("optional"):
                        continue
                    what = (
                        f'secret "{ref["name"]}" not found'
                        if secret is None
                        else (
                            f"couldn't find key {ref['key']} in Secret "
                            f"{meta['namespace']}/{ref['name']}"
                        )
                    )
                    raise StartError("CreateContainerConfigError", what)
                env[var["name"]] = base64.b64decode(secret["data"][ref["key"]]).decode()
                continue
            field = (source.get("fieldRef") or {}).get("fieldPath", "")
            env[var["name"]] = self._field(pod, field)
        return env

    def _field(self, pod: dict[str, Any], path: str) -> str:
        meta = pod["metadata"]
        for prefix, mapping in (
            ("metadata.annotations", "annotations"),
            ("metadata.labels", "labels"),
        ):
            if path.startswith(prefix + "['"):
                return str((meta.get(mapping) or {}).get(path[len(prefix) + 2 : -2], ""))
        simple = {
            "metadata.name": meta["name"],
            "metadata.namespace": meta["namespace"],
            "metadata.uid": meta["uid"],
            "spec.nodeName": NODE_NAME,
            "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default"),
            "status.hostIP": "127.0.0.1",
            "status.podIP": "127.0.0.1",
        }
        return simple.get(path, "")

    def _start(self, pod: dict[str, Any], container: dict[str, Any], entry: dict[str, Any]) -> None:
        meta = pod["metadata"]
        try:
            env = self._resolve_env(pod, container)
            if not self.kubelet.image_present(container["image"]):
                raise StartError(
                    "ErrImagePull",
                    f'Failed to pull image "{container["image"]}": the emulator has no registry; '
                    "only images in the local podman store run",
                )
            name = self.kubelet.container_name(
                meta["namespace"], meta["name"], container["name"], entry["restarts"]
            )
            args = self.kubelet.run_args(pod, container, env, name)
        except StartError as error:
            self._waiting(pod, container, error.reason, error.message)
            return
        entry["starting"] = True
        entry["names"].append(name)
        self._waiting(pod, container, "ContainerCreating", "")
        self.kubelet.pool.submit(self._start_container, meta["uid"], name, args)

    def _start_container(self, uid: str, name: str, args: list[str]) -> None:
        try:
            self.kubelet.start(args)
            error = None
        except StartError as start_error:
            error = start_error
        with self.cluster.lock:
            entry = self.containers.get(uid)
            if entry is None:  # the pod was deleted while its container started
                self._to_kill.append(name)
                return
            entry["starting"] = False
            entry["started_at"] = time.time()
            entry["error"] = error

    # -- jobs ------------------------------------------------------------------------------

    def _owned_pods(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        uid = job["metadata"]["uid"]
        return [
            pod
            for pod in self.cluster.items("pods", job["metadata"]["namespace"])
            if _owner_uid(pod) == uid
        ]

    def _failures(self, pods: list[dict[str, Any]]) -> int:
        failed = sum(1 for pod in pods if pod["status"].get("phase") == "Failed")
        restarts = sum(
            self.containers.get(pod["metadata"]["uid"], {}).get("restarts", 0) for pod in pods
        )
        return failed + restarts

    def _reconcile_job(self, job: dict[str, Any], now: float) -> None:
        meta, spec = job["metadata"], job["spec"]
        status = job.setdefault("status", {})
        if meta.get("deletionTimestamp") or spec.get("suspend"):
            return
        if any(
            c["type"] in ("Complete", "Failed") and c["status"] == "True"
            for c in status.get("conditions") or []
        ):
            return
        start = status.get("startTime")
        times = self.job_times.setdefault(meta["uid"], {"started": now})
        started_at = times["started"]
        pods = self._owned_pods(job)
        active = [pod for pod in pods if pod["status"].get("phase") in ACTIVE_PHASES]
        succeeded = [pod for pod in pods if pod["status"].get("phase") == "Succeeded"]
        failures = self._failures(pods)
        new_status: dict[str, Any] = {"startTime": start or now_iso()}
        indexed = spec.get("completionMode") == "Indexed"
        completions = spec.get("completions")
        deadline = spec.get("activeDeadlineSeconds")
        outcome: tuple[str, str, str] | None = None
        to_create: list[int | None] = []
        if deadline is not None and now - started_at >= deadline:
            outcome = (
                "Failed",
                "DeadlineExceeded",
                "Job was active longer than specified deadline",
            )
        elif indexed:
            done = {int(pod["metadata"]["annotations"][INDEX_KEY]) for pod in succeeded}
            per_index_limit = spec.get("backoffLimitPerIndex")
            failed_indexes: set[int] = set()
            if per_index_limit is not None:
                for index in range(completions):
                    index_pods = [
                        p for p in pods if p["metadata"]["annotations"][INDEX_KEY] == str(index)
                    ]
                    if index not in done and self._failures(index_pods) > per_index_limit:
                        failed_indexes.add(index)
                new_status["failedIndexes"] = compress_indexes(failed_indexes)
            new_status["completedIndexes"] = compress_indexes(done)
            max_failed = spec.get("maxFailedIndexes")
            if failures > spec["backoffLimit"]:
                outcome = (
                    "Failed",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                )
            elif max_failed is not None and len(failed_indexes) > max_failed:
                outcome = (
                    "Failed",
                    "MaxFailedIndexesExceeded",
                    "Job has exceeded the specified maximal number of failed indexes",
                )
            elif len(done | failed_indexes) >= completions:
                outcome = (
                    ("Failed", "FailedIndexes", "Job has failed indexes")
                    if failed_indexes
                    else ("Complete", "", "")
                )
            else:
                busy = {pod["metadata"]["annotations"][INDEX_KEY] for pod in active}
                room = spec["parallelism"] - len(active)
                for index in range(completions):
                    if room <= 0:
                        break
                    if index in done or index in failed_indexes or str(index) in busy:
                        continue
                    if self._backing_off(
                        job,
                        [p for p in pods if p["metadata"]["annotations"][INDEX_KEY] == str(index)],
                        now,
                    ):
                        continue
                    to_create.append(index)
                    room -= 1
        else:
            target = completions if completions is not None else 1
            if len(succeeded) >= target:
                outcome = ("Complete", "", "")
            elif failures > spec["backoffLimit"]:
                outcome = (
                    "Failed",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                )
            elif not self._backing_off(job, pods, now):
                want = min(spec["parallelism"], target - len(succeeded)) - len(active)
                to_create = [None] * max(want, 0)
        for index in to_create:
            active.append(self._create_pod(job, index))
        new_status.update(
            active=0 if outcome else len(active),
            ready=sum(1 for pod in active if pod["status"].get("phase") == "Running"),
            succeeded=len(succeeded),
            failed=failures,
            terminating=0,
            uncountedTerminatedPods={},
        )
        if outcome:
            kind, reason, message = outcome
            for pod in active:
                self.delete_pod(pod)
            stamp = now_iso()
            first = "SuccessCriteriaMet" if kind == "Complete" else "FailureTarget"
            conditions = []
            for condition_type in (first, kind):
                condition = {
                    "type": condition_type,
                    "status": "True",
                    "lastProbeTime": stamp,
                    "lastTransitionTime": stamp,
                }
                if reason:
                    condition.update(reason=reason, message=message)
                elif kind == "Complete":
                    condition.update(
                        reason="CompletionsReached",
                        message="Reached expected number of succeeded pods",
                    )
                conditions.append(condition)
            new_status["conditions"] = conditions
            if kind == "Complete":
                new_status["completionTime"] = stamp
            times["finished"] = now
        if any(status.get(key) != value for key, value in new_status.items()):
            self.cluster.update(
                "jobs",
                meta["namespace"],
                meta["name"],
                lambda obj: obj["status"].update(new_status),
            )

    def _backing_off(self, job: dict[str, Any], pods: list[dict[str, Any]], now: float) -> bool:
        """A failed pod is replaced only after the backoff (doubling per failure)."""
        failed = [pod for pod in pods if pod["status"].get("phase") == "Failed"]
        if not failed:
            return False
        last = max(
            self.containers.get(pod["metadata"]["uid"], {}).get("failed_at", 0.0) for pod in failed
        )
        delay = min(self.backoff * 2 ** (len(failed) - 1), 6.0)
        return now - last < delay

    def _create_pod(self, job: dict[str, Any], index: int | None) -> dict[str, Any]:
        meta, spec = job["metadata"], job["spec"]
        template = copy.deepcopy(spec["template"])
        labels = dict(template["metadata"].get("labels") or {})
        annotations = dict(template["metadata"].get("annotations") or {})
        name = f"{meta['name']}-{random_suffix()}"
        pod_spec = template["spec"]
        if index is not None:
            labels[INDEX_KEY] = str(index)
            annotations[INDEX_KEY] = str(index)
            name = f"{meta['name']}-{index}-{random_suffix()}"
            pod_spec.setdefault("hostname", f"{meta['name']}-{index}")
            for container in pod_spec["containers"]:
                container.setdefault("env", []).insert(
                    0,
                    {
                        "name": "JOB_COMPLETION_INDEX",
                        "valueFrom": {
                            "fieldRef": {"fieldPath": f"metadata.annotations['{INDEX_KEY}']"}
                        },
                    },
                )
        pod_spec.setdefault("serviceAccountName", pod_spec.get("serviceAccount") or "default")
        pod = {
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": annotations,
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "name": meta["name"],
                        "uid": meta["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
                "finalizers": ["batch.kubernetes.io/job-tracking"],
            },
            "spec": pod_spec,
            "status": {"phase": "Pending", "qosClass": "Burstable"},
        }
        return self.cluster.create("pods", meta["namespace"], pod)

    # -- garbage collection --------------------------------------------------------------

    def _collect_garbage(self, now: float) -> None:
        jobs = {job["metadata"]["uid"]: job for job in self.cluster.items("jobs")}
        for pod in self.cluster.items("pods"):
            owner = _owner_uid(pod)
            if owner is not None and owner not in jobs:
                self.delete_pod(pod)
        for job in jobs.values():
            meta = job["metadata"]
            if meta.get("deletionTimestamp"):
                # Foreground deletion: the Job goes once its pods are gone.
                for pod in self._owned_pods(job):
                    self.delete_pod(pod)
                self.cluster.remove("jobs", meta["namespace"], meta["name"])
                continue
            ttl = job["spec"].get("ttlSecondsAfterFinished")
            finished = self.job_times.get(meta["uid"], {}).get("finished")
            if ttl is not None and finished is not None and now - finished >= ttl:
                self.cluster.remove("jobs", meta["namespace"], meta["name"])
        for namespace in self.cluster.items("namespaces"):
            if namespace.get("status", {}).get("phase") == "Terminating":
                name = namespace["metadata"]["name"]
                for plural in ("jobs", "secrets"):
                    for obj in self.cluster.items(plural, name):
                        self.cluster.remove(plural, name, obj["metadata"]["name"])
                for pod in self.cluster.items("pods", name):
                    self.delete_pod(pod)
                self.cluster.remove("namespaces", "", name)
