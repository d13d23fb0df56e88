"""The emulated cluster's object store: resources, defaults, versions, listing.

Every object gets what the API server gives it (uid, resourceVersion,
creationTimestamp, generation, the Job defaults and generated selector), and
lists are filtered by label and field selectors and paged with
``limit``/``continue`` as the real server does.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.plugins.k8s.emulator import validation
from tests.plugins.k8s.emulator.selectors import (
    matches_labels,
    parse_field_selector,
    parse_label_selector,
)


@dataclass(frozen=True)
class Resource:
    plural: str
    kind: str
    group: str  # "" for the core group
    namespaced: bool
    validate: Callable[[dict[str, Any]], list[validation.Cause]]

    @property
    def api_version(self) -> str:
        return f"{self.group}/v1" if self.group else "v1"

    @property
    def qualified_kind(self) -> str:
        """How error messages name the kind: ``Job.batch``, ``Secret``."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def group_resource(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES = {
    "namespaces": Resource("namespaces", "Namespace", "", False, validation.validate_namespace),
    "secrets": Resource("secrets", "Secret", "", True, validation.validate_secret),
    "pods": Resource("pods", "Pod", "", True, lambda obj: []),
    "jobs": Resource("jobs", "Job", "batch", True, validation.validate_job),
}
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public")


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class ApiError(Exception):
    """An error answered as a Status object."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def status(self) -> dict[str, Any]:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def not_found(resource: Resource, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{resource.group_resource} "{name}" not found',
        {"name": name, "group": resource.group, "kind": resource.plural},
    )


def random_suffix(length: int = 5) -> str:
    # The API server's generated names avoid vowels and look-alike digits.
    return "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=length))


class Cluster:
    """Objects by (plural, namespace, name); one lock guards everything."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.revision = 0
        self.requests: Counter[str] = Counter()
        self.forbidden_namespaces: set[str] = set()
        # Every Job as created (tests read specs of Jobs already deleted).
        self.history: list[dict[str, Any]] = []
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.objects.clear()
            self.requests.clear()
            self.forbidden_namespaces.clear()
            self.history.clear()
            for name in INITIAL_NAMESPACES:
                self.create("namespaces", "", {"metadata": {"name": name}})

    # -- helpers -----------------------------------------------------------------

    def _next_revision(self) -> str:
        self.revision += 1
        return str(self.revision)

    def check_namespace(self, namespace: str) -> None:
        if ("namespaces", "", namespace) not in self.objects:
            raise ApiError(
                404,
                "NotFound",
                f'namespaces "{namespace}" not found',
                {"name": namespace, "kind": "namespaces"},
            )

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any]:
        with self.lock:
            obj = self.objects.get((plural, namespace, name))
            if obj is None:
                raise not_found(RESOURCES[plural], name)
            return obj

    def find(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            return self.objects.get((plural, namespace, name))

    def items(self, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                obj
                for (kind, ns, _), obj in self.objects.items()
                if kind == plural and (namespace is None or ns == namespace)
            ]

    # -- writes --------------------------------------------------------------------

    def create(self, plural: str, namespace: str, body: Any) -> dict[str, Any]:
        resource = RESOURCES[plural]
        if not isinstance(body, dict):
            raise ApiError(
                400,
                "BadRequest",
                f'{resource.kind} in version "v1" cannot be handled: body is not an object',
            )
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {}) or {}
        obj["metadata"] = meta
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + random_suffix()
        for key in ("kind", "apiVersion"):
            given = obj.get(key)
            expected = resource.kind if key == "kind" else resource.api_version
            if given not in (None, expected):
                raise ApiError(
                    400,
                    "BadRequest",
                    f"the API version in the data ({obj.get('apiVersion')}) does not match the "
                    f"expected API version ({resource.api_version})"
                    if key == "apiVersion"
                    else f"{key} {given!r} does not match the resource {resource.kind}",
                )
        if resource.namespaced:
            if meta.get("namespace") not in (None, namespace):
                raise ApiError(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request",
                )
        try:
            causes = resource.validate(obj)
        except validation.QuantityError as error:
            raise ApiError(
                400,
                "BadRequest",
                f'{resource.kind} in version "v1" cannot be handled as a {resource.kind}: {error}',
            ) from None
        name = meta.get("name") or ""
        if causes:
            raise ApiError(
                422,
                "Invalid",
                validation.describe(resource.qualified_kind, name, causes),
                {
                    "name": name,
                    "group": resource.group,
                    "kind": resource.kind,
                    "causes": [
                        {"reason": reason, "message": message, "field": field}
                        for reason, field, message in causes
                    ],
                },
            )
        with self.lock:
            if resource.namespaced:
                self.check_namespace(namespace)
                namespace_obj = self.objects[("namespaces", "", namespace)]
                if namespace_obj.get("status", {}).get("phase") == "Terminating":
                    raise ApiError(
                        403,
                        "Forbidden",
                        f'{plural} "{name}" is forbidden: unable to create new content in '
                        f"namespace {namespace} because it is being terminated",
                    )
            key = (plural, namespace if resource.namespaced else "", name)
            if key in self.objects:
                raise ApiError(
                    409,
                    "AlreadyExists",
                    f'{resource.group_resource} "{name}" already exists',
                    {"name": name, "group": resource.group, "kind": resource.plural},
                )
            meta.update(
                uid=str(uuid.uuid4()),
                resourceVersion=self._next_revision(),
                creationTimestamp=now_iso(),
                generation=1,
            )
            if resource.namespaced:
                meta["namespace"] = namespace
            obj["kind"] = resource.kind
            obj["apiVersion"] = resource.api_version
            getattr(self, f"_default_{plural}", lambda o: None)(obj)
            self.objects[key] = obj
            if plural == "jobs":
                self.history.append(copy.deepcopy(obj))
            return obj

    def _default_namespaces(self, obj: dict[str, Any]) -> None:
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"][
            "name"
        ]
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}

    def _default_secrets(self, obj: dict[str, Any]) -> None:
        obj.setdefault("type", "Opaque")
        data = obj.setdefault("data", {}) or {}
        obj["data"] = data
        for key, value in (obj.pop("stringData", None) or {}).items():
            data[key] = base64.b64encode(str(value).encode()).decode()

    def _default_jobs(self, obj: dict[str, Any]) -> None:
        meta, spec = obj["metadata"], obj["spec"]
        uid, name = meta["uid"], meta["name"]
        spec.setdefault("completionMode", "NonIndexed")
        if spec.get("completions") is None and spec.get("parallelism") is None:
            spec["completions"] = 1
        spec.setdefault("parallelism", 1)
        spec.setdefault(
            "backoffLimit", 6 if spec.get("backoffLimitPerIndex") is None else 2147483647
        )
        spec.setdefault("suspend", False)
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
        spec.setdefault("manualSelector", None)
        if spec["manualSelector"] is None:
            spec.pop("manualSelector")
        generated = {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": uid,
            "job-name": name,
        }
        spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
        template = spec["template"]
        template_meta = template.setdefault("metadata", {}) or {}
        template["metadata"] = template_meta
        template_meta.setdefault("labels", {}).update(generated)
        # A Job without labels gets its pod template's (the generated ones included).
        if not meta.get("labels"):
            meta["labels"] = dict(template_meta["labels"])
        pod_spec = template["spec"]
        pod_spec.setdefault("dnsPolicy", "ClusterFirst")
        pod_spec.setdefault("schedulerName", "default-scheduler")
        pod_spec.setdefault("terminationGracePeriodSeconds", 30)
        pod_spec.setdefault("securityContext", {})
        for container in pod_spec["containers"]:
            container.setdefault("resources", {})
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            latest = ":" not in container["image"].rsplit("/", 1)[-1] or container[
                "image"
            ].endswith(":latest")
            container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
        obj["status"] = {}

    def update(
        self, plural: str, namespace: str, name: str, change: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        """Apply `change` to a stored object (controllers, patches) and bump its version."""
        with self.lock:
            obj = self.get(plural, namespace, name)
            change(obj)
            obj["metadata"]["resourceVersion"] = self._next_revision()
            return obj

    def replace(
        self, plural: str, namespace: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        resource = RESOURCES[plural]
        with self.lock:
            current = self.get(plural, namespace, name)
            given = (body.get("metadata") or {}).get("resourceVersion")
            if given and given != current["metadata"]["resourceVersion"]:
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {resource.group_resource} "{name}": the '
                    "object has been modified; please apply your changes to the latest version "
                    "and try again",
                    {"name": name, "group": resource.group, "kind": resource.plural},
                )
            causes = resource.validate(body)
            if causes:
                raise ApiError(
                    422, "Invalid", validation.describe(resource.qualified_kind, name, causes)
                )
            obj = copy.deepcopy(body)
            for key in ("uid", "creationTimestamp", "namespace", "name"):
                obj["metadata"][key] = current["metadata"].get(key)
            obj["metadata"]["resourceVersion"] = self._next_revision()
            obj["kind"], obj["apiVersion"] = resource.kind, resource.api_version
            if plural == "secrets":
                self._default_secrets(obj)
            self.objects[(plural, namespace, name)] = obj
            return obj

    def remove(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            return self.objects.pop((plural, namespace, name), None)

    # -- reads --------------------------------------------------------------------------

    def list(
        self,
        plural: str,
        namespace: str | None,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_token: str = "",
    ) -> dict[str, Any]:
        resource = RESOURCES[plural]
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, resource.kind)
        start = ""
        if continue_token:
            try:
                start = json.loads(base64.urlsafe_b64decode(continue_token.encode()))["start"]
            except (ValueError, KeyError, TypeError):
                raise ApiError(
                    400, "BadRequest", "continue key is not valid: illegal base64 data"
                ) from None
        with self.lock:
            if namespace is not None and resource.namespaced:
                self.check_namespace(namespace)
            matching = sorted(
                (
                    (f"{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}", obj)
                    for obj in self.items(plural, namespace if resource.namespaced else None)
                    if matches_labels(labels, obj["metadata"].get("labels"))
                    and all(field(obj) for field in fields)
                ),
                key=lambda pair: pair[0],
            )
            matching = [pair for pair in matching if pair[0] > start]
            page = matching[:limit] if limit > 0 else matching
            metadata: dict[str, Any] = {"resourceVersion": str(self.revision)}
            if limit > 0 and len(matching) > limit:
                metadata["continue"] = base64.urlsafe_b64encode(
                    json.dumps({"start": page[-1][0]}).encode()
                ).decode()
                metadata["remainingItemCount"] = len(matching) - limit
            items = []
            for _, obj in page:
                item = copy.deepcopy(obj)
                item.pop("kind", None)
                item.pop("apiVersion", None)
                items.append(item)
            return {
                "kind": f"{resource.kind}List",
                "apiVersion": resource.api_version,
                "metadata": metadata,
                "items": items,
            }
