"""The HTTP face of the emulator: the Kubernetes REST paths the executor and kubeconfig use.

Served: ``/version``, discovery (``/api``, ``/api/v1``, ``/apis``,
``/apis/batch``, ``/apis/batch/v1``), namespaces, secrets, pods (read,
list, delete, ``/log``) and batch/v1 jobs (create, read, list, patch,
delete, deletecollection, ``/status``), in one namespace or across all.
Errors are Status objects with the real codes and reasons. Two paths outside
the Kubernetes API drive the emulator from tests: ``/emulator/reset`` and
``/emulator/stats``, ``/emulator/history`` (every Job as created),
``/emulator/containers`` and ``/emulator/config``.
"""

from __future__ import annotations

import copy
import json
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.plugins.k8s.emulator.cluster import RESOURCES, ApiError, Cluster, now_iso
from tests.plugins.k8s.emulator.controller import Controller
from tests.plugins.k8s.emulator.selectors import SelectorError

VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.4-emulator",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-12-10T00:00:00Z",
    "goVersion": "go1.22.9",
    "compiler": "gc",
    "platform": "linux/amd64",
}

PATH = re.compile(
    r"^/(?:api/v1|apis/(?P<group>batch)/v1)"
    r"(?:/namespaces/(?P<ns>[^/]+))?"
    r"/(?P<plural>[a-z]+)"
    r"(?:/(?P<name>[^/]+))?"
    r"(?:/(?P<sub>status|log))?$"
)


def _resource_list(group_version: str, plurals: list[str]) -> dict[str, Any]:
    resources = []
    for plural in plurals:
        resource = RESOURCES[plural]
        resources.append(
            {
                "name": plural,
                "singularName": resource.kind.lower(),
                "namespaced": resource.namespaced,
                "kind": resource.kind,
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update"],
            }
        )
        if plural in ("jobs", "pods"):
            resources.append(
                {
                    "name": f"{plural}/status",
                    "singularName": "",
                    "namespaced": True,
                    "kind": resource.kind,
                    "verbs": ["get"],
                }
            )
        if plural == "pods":
            resources.append(
                {
                    "name": "pods/log",
                    "singularName": "",
                    "namespaced": True,
                    "kind": "Pod",
                    "verbs": ["get"],
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (strategic merge patches are applied the same way)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class Emulator:
    """The cluster, its controller and the request router, shared by every handler thread."""

    def __init__(self, cluster: Cluster, controller: Controller, address: str) -> None:
        self.cluster = cluster
        self.controller = controller
        self.address = address
        self.version = dict(VERSION)

    # -- routing ----------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, body: Any, content_type: str
    ) -> tuple[int, Any, str]:
        """(status code, body, content type) for one request."""
        url = urlsplit(raw_path)
        path = url.path.rstrip("/") or "/"
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        if path.startswith("/emulator/"):
            return 200, self._emulator(method, path, body), "application/json"
        self.cluster.requests[f"{method} {self._kind_of(path)}"] += 1
        try:
            if method == "GET" and path in (
                "/version",
                "/api",
                "/apis",
                "/api/v1",
                "/apis/batch",
                "/apis/batch/v1",
            ):
                return 200, self._discovery(path), "application/json"
            match = PATH.match(path)
            if not match or match["plural"] not in RESOURCES:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self._resource(method, match, query, body, content_type)
        except ApiError as error:
            return error.code, error.status(), "application/json"
        except SelectorError as error:
            return 400, ApiError(400, "BadRequest", str(error)).status(), "application/json"

    @staticmethod
    def _kind_of(path: str) -> str:
        match = PATH.match(path.rstrip("/"))
        if not match:
            return path
        kind = match["plural"] + ("/" + match["sub"] if match["sub"] else "")
        return kind + ("" if match["name"] else " (collection)")

    def _discovery(self, path: str) -> Any:
        if path == "/version":
            return self.version
        if path == "/api":
            return {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": self.address}
                ],
            }
        batch = {"groupVersion": "batch/v1", "version": "v1"}
        group = {"name": "batch", "versions": [batch], "preferredVersion": batch}
        if path == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]}
        if path == "/apis/batch":
            return {"kind": "APIGroup", "apiVersion": "v1", **group}
        if path == "/api/v1":
            return _resource_list("v1", ["namespaces", "secrets", "pods"])
        return _resource_list("batch/v1", ["jobs"])

    def _emulator(self, method: str, path: str, body: Any) -> Any:
        if path == "/emulator/reset" and method == "POST":
            self.controller.reset()
            self.cluster.reset()
            return {"reset": True}
        if path == "/emulator/stats":
            times = self.controller.container_times
            if method == "DELETE":
                self.cluster.requests.clear()
                times.clear()
            span = [min(t[0] for t in times), max(t[1] for t in times)] if times else None
            return {
                "requests": dict(self.cluster.requests),
                "total": sum(self.cluster.requests.values()),
                "containers_run": len(times),
                "container_span": span,
            }
        if path == "/emulator/config" and method == "POST":
            body = body or {}
            if "forbidden_namespaces" in body:
                self.cluster.forbidden_namespaces = set(body["forbidden_namespaces"])
            if "minor" in body:
                self.version["minor"] = str(body["minor"])
                self.version["gitVersion"] = f"v1.{body['minor']}.0-emulator"
            return {"ok": True}
        if path == "/emulator/history":
            return {"jobs": self.cluster.history}
        if path == "/emulator/containers":
            return {"containers": sorted(self.controller.kubelet.states())}
        return {"error": f"unknown emulator path {path}"}

    # -- resources ------------------------------------------------------------------------

    def _forbid(self, method: str, plural: str, namespace: str | None, collection: bool) -> None:
        if namespace is None and plural == "namespaces":
            return
        if namespace in self.cluster.forbidden_namespaces:
            verbs = {"GET": "get", "POST": "create", "DELETE": "delete", "PATCH": "patch"}
            verb = verbs.get(method, "update")
            if collection and method in ("GET", "DELETE"):
                verb = "list" if method == "GET" else "deletecollection"
            resource = RESOURCES[plural]
            group = f' in API group "{resource.group}"' if resource.group else ' in API group ""'
            raise ApiError(
                403,
                "Forbidden",
                f'{resource.group_resource} is forbidden: User "system:anonymous" cannot {verb} '
                f'resource "{plural}"{group} in the namespace "{namespace}"',
                {"kind": plural, "group": resource.group},
            )

    def _resource(
        self, method: str, match: re.Match, query: dict[str, str], body: Any, content_type: str
    ) -> tuple[int, Any, str]:
        plural, namespace, name, sub = match["plural"], match["ns"], match["name"], match["sub"]
        resource = RESOURCES[plural]
        expected_group = "batch" if plural == "jobs" else None
        if match["group"] != expected_group:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if plural == "namespaces" and namespace is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if resource.namespaced and namespace is None and (name or method != "GET"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        self._forbid(method, plural, namespace if resource.namespaced else name, name is None)
        if query.get("watch") in ("true", "1"):
            raise ApiError(
                405, "MethodNotAllowed", "the emulator does not serve watches; poll with list"
            )
        ns = namespace or ""
        if name is None:
            if method == "GET":
                limit = int(query.get("limit", "0") or 0)
                listing = self.cluster.list(
                    plural,
                    namespace if resource.namespaced else None,
                    query.get("labelSelector", ""),
                    query.get("fieldSelector", ""),
                    limit,
                    query.get("continue", ""),
                )
                return 200, listing, "application/json"
            if method == "POST":
                if query.get("dryRun") == "All":
                    return 201, self._dry_run(plural, ns, body), "application/json"
                return 201, self.cluster.create(plural, ns, body), "application/json"
            if method == "DELETE":
                return 200, self._delete_collection(plural, ns, query, body), "application/json"
            raise ApiError(
                405, "MethodNotAllowed", f"{method} is not supported on the {plural} collection"
            )
        if sub == "log":
            if method != "GET" or plural != "pods":
                raise ApiError(405, "MethodNotAllowed", "logs are read with GET on pods")
            return 200, self._log(ns, name, query), "text/plain"
        if method == "GET":
            return 200, self.cluster.get(plural, ns, name), "application/json"
        if sub == "status":
            raise ApiError(
                405, "MethodNotAllowed", "the emulator serves status subresources read-only"
            )
        if method == "DELETE":
            return 200, self._delete(plural, ns, name, query, body), "application/json"
        if method == "PATCH":
            return 200, self._patch(plural, ns, name, body, content_type), "application/json"
        if method == "PUT":
            if plural != "secrets":
                raise ApiError(405, "MethodNotAllowed", f"the emulator does not replace {plural}")
            return 200, self.cluster.replace(plural, ns, name, body), "application/json"
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported")

    def _dry_run(self, plural: str, namespace: str, body: Any) -> Any:
        created = self.cluster.create(plural, namespace, body)
        meta = created["metadata"]
        self.cluster.remove(plural, namespace if RESOURCES[plural].namespaced else "", meta["name"])
        return created

    def _log(self, namespace: str, name: str, query: dict[str, str]) -> str:
        pod = self.cluster.get("pods", namespace, name)
        containers = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container") or containers[0]
        if container not in containers:
            raise ApiError(
                400,
                "BadRequest",
                f"container {container} is not valid for pod {name}",
            )
        with self.cluster.lock:
            entry = self.controller.containers.get(pod["metadata"]["uid"])
            names = list(entry["names"]) if entry else []
        previous = query.get("previous") in ("true", "1")
        if previous:
            names = names[:-1]
        if not names:
            state = (pod["status"].get("containerStatuses") or [{}])[0].get("state", {})
            reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
            what = "previous terminated container" if previous else "container"
            raise ApiError(
                400,
                "BadRequest",
                f'{what} "{container}" in pod "{name}" is waiting to start: {reason}',
            )
        tail = query.get("tailLines")
        return self.controller.kubelet.logs(names[-1], int(tail) if tail else None)

    def _propagation(self, plural: str, query: dict[str, str], body: Any) -> str:
        policy = query.get("propagationPolicy") or (body or {}).get("propagationPolicy")
        if policy is None and (body or {}).get("orphanDependents") is not None:
            policy = "Orphan" if body["orphanDependents"] else "Background"
        if policy is None:
            # batch/v1 Jobs keep their legacy default: deleting a Job orphans its pods.
            policy = "Orphan" if plural == "jobs" else "Background"
        if policy not in ("Orphan", "Background", "Foreground"):
            raise ApiError(
                422,
                "Invalid",
                'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: '
                f'Unsupported value: "{policy}": '
                'supported values: "Foreground", "Background", "Orphan"',
            )
        return policy

    def _delete(
        self, plural: str, namespace: str, name: str, query: dict[str, str], body: Any
    ) -> Any:
        policy = self._propagation(plural, query, body)
        resource = RESOURCES[plural]
        with self.cluster.lock:
            obj = self.cluster.get(plural, namespace, name)
            meta = obj["metadata"]
            if plural == "namespaces":
                if name in ("default", "kube-system", "kube-public"):
                    raise ApiError(
                        403,
                        "Forbidden",
                        f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                    )
                self.cluster.update(
                    plural, "", name, lambda o: o["status"].update(phase="Terminating")
                )
                meta["deletionTimestamp"] = now_iso()
                return obj
            if plural == "pods":
                # A pod delete answers with the pod, now terminating (a Job or Secret: Status).
                self.controller.delete_pod(obj)
                terminating = copy.deepcopy(obj)
                terminating["metadata"].update(
                    deletionTimestamp=now_iso(), deletionGracePeriodSeconds=0
                )
                return terminating
            elif plural == "jobs":
                self._delete_job(obj, policy)
                if policy == "Foreground":
                    return obj
            else:
                self.cluster.remove(plural, namespace, name)
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"name": name, "group": resource.group, "kind": plural, "uid": meta["uid"]},
        }

    def _delete_job(self, job: dict[str, Any], policy: str) -> None:
        meta = job["metadata"]
        if policy == "Orphan":
            for pod in self.cluster.items("pods", meta["namespace"]):
                refs = pod["metadata"].get("ownerReferences") or []
                if any(ref.get("uid") == meta["uid"] for ref in refs):
                    pod["metadata"]["ownerReferences"] = [
                        r for r in refs if r.get("uid") != meta["uid"]
                    ]
        if policy == "Foreground":
            meta["deletionTimestamp"] = now_iso()
            meta.setdefault("finalizers", []).append("foregroundDeletion")
            return
        # Background: the Job goes now; the garbage collector deletes its pods next.
        self.cluster.remove("jobs", meta["namespace"], meta["name"])

    def _delete_collection(
        self, plural: str, namespace: str, query: dict[str, str], body: Any
    ) -> Any:
        resource = RESOURCES[plural]
        if plural == "namespaces":
            raise ApiError(405, "MethodNotAllowed", "namespaces cannot be deleted as a collection")
        listing = self.cluster.list(
            plural, namespace, query.get("labelSelector", ""), query.get("fieldSelector", "")
        )
        for item in listing["items"]:
            self._delete(plural, namespace, item["metadata"]["name"], query, body)
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"group": resource.group, "kind": plural},
        }

    def _patch(self, plural: str, namespace: str, name: str, body: Any, content_type: str) -> Any:
        if "json-patch" in content_type:
            raise ApiError(415, "UnsupportedMediaType", "the emulator applies merge patches only")
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "a merge patch must be a JSON object")
        resource = RESOURCES[plural]
        with self.cluster.lock:
            current = self.cluster.get(plural, namespace, name)
            patched = merge_patch(current, body)
            if plural == "jobs":
                immutable = (
                    "template",
                    "completions",
                    "completionMode",
                    "selector",
                    "backoffLimitPerIndex",
                )
                changed = [
                    key for key in immutable if patched["spec"].get(key) != current["spec"].get(key)
                ]
                if changed:
                    raise ApiError(
                        422,
                        "Invalid",
                        f'{resource.qualified_kind} "{name}" is invalid: '
                        f"spec.{changed[0]}: Invalid value: "
                        "field is immutable",
                    )
            causes = resource.validate(patched)
            if causes:
                from tests.plugins.k8s.emulator.validation import describe

                raise ApiError(422, "Invalid", describe(resource.qualified_kind, name, causes))
            keep = {
                key: current["metadata"][key]
                for key in ("uid", "creationTimestamp", "name")
                if key in current["metadata"]
            }

            def change(obj: dict[str, Any]) -> None:
                obj.clear()
                obj.update(patched)
                obj["metadata"].update(keep)

            return self.cluster.update(plural, namespace, name, change)


def make_handler(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "k8s-emulator"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type") or "application/json"
            body = None
            if raw:
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError as error:
                    self._send(
                        400,
                        ApiError(400, "BadRequest", f"invalid JSON: {error}").status(),
                        "application/json",
                    )
                    return
            try:
                code, payload, kind = emulator.handle(self.command, self.path, body, content_type)
            except Exception as error:  # a bug in the emulator: say so, as a 500 Status
                code, kind = 500, "application/json"
                payload = ApiError(500, "InternalError", f"emulator error: {error!r}").status()
            self._send(code, payload, kind)

        def _send(self, code: int, payload: Any, kind: str) -> None:
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Date", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler


def serve(
    port: int = 0,
    processes: bool = False,
    **controller_options: Any,
) -> tuple[ThreadingHTTPServer, Emulator]:
    """Start the API on 127.0.0.1:`port` (0: any free port) with its controller running.

    With `processes`, pods run as host processes (`kubelet.ProcessKubelet`, benchmarks).
    """
    import secrets

    from tests.plugins.k8s.emulator.kubelet import Kubelet, ProcessKubelet

    cluster = Cluster()
    server = ThreadingHTTPServer(("127.0.0.1", port), None)  # type: ignore[arg-type]
    server.daemon_threads = True
    address = f"127.0.0.1:{server.server_address[1]}"
    kind = ProcessKubelet if processes else Kubelet
    kubelet = kind(secrets.token_hex(4), server.server_address[1])
    controller = Controller(cluster, kubelet, **controller_options)
    emulator = Emulator(cluster, controller, address)
    server.RequestHandlerClass = make_handler(emulator)
    controller.start()
    return server, emulator
