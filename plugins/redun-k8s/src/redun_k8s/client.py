"""The official `kubernetes` client, imported on first use, and its errors in one line.

Writes use the typed models with keyword arguments and string quantities
(kubernetes 37's pydantic models reject positional arguments and integer
quantities). Reads that the executor parses itself (job lists, pod logs) use
``_preload_content=False`` and decode the body: that sidesteps model
differences between client versions and kubernetes 36's pod-log bug, which
returns the repr of bytes instead of the text.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from redun.executors.base import ExecutorError

REQUEST_TIMEOUT = 30.0


class K8SError(ExecutorError):
    """The cluster could not be reached or refused a request; the message says what to do."""


@dataclass
class Cluster:
    """A connected client: the API objects and how to name the cluster in messages."""

    api_client: Any
    core: Any
    batch: Any
    host: str
    context: str

    def describe(self) -> str:
        return f"cluster {self.host}" + (f" (context {self.context})" if self.context else "")


def kubernetes_module() -> Any:
    try:
        import kubernetes
    except ImportError:
        raise K8SError(
            "The k8s executor needs the kubernetes client: pip install redun-k8s"
        ) from None
    return kubernetes


def connect(kubeconfig: str = "", context: str = "") -> Cluster:
    """A client for the kubeconfig (or in-cluster service account); one-line errors."""
    kubernetes = kubernetes_module()
    from kubernetes import client, config

    path = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    path = os.path.expanduser(path or "~/.kube/config")
    configuration = client.Configuration()
    in_cluster = (
        not os.path.exists(path) and not kubeconfig and os.environ.get("KUBERNETES_SERVICE_HOST")
    )
    try:
        if in_cluster:
            config.load_incluster_config(client_configuration=configuration)
        elif not os.path.exists(path):
            raise K8SError(
                f"No kubeconfig at {path}: set KUBECONFIG, put one at ~/.kube/config, or set "
                "`kubeconfig =` in the executor's section of redun.ini"
            )
        else:
            config.load_kube_config(
                config_file=path, context=context or None, client_configuration=configuration
            )
    except config.ConfigException as error:
        where = "in-cluster service account" if in_cluster else f"kubeconfig {path}"
        raise K8SError(f"Cannot load the {where}: {error}") from None
    api_client = client.ApiClient(configuration)
    del kubernetes
    return Cluster(
        api_client=api_client,
        core=client.CoreV1Api(api_client),
        batch=client.BatchV1Api(api_client),
        host=configuration.host,
        context=context,
    )


def status_message(error: Any) -> str:
    """The message of the API's Status body, else the HTTP reason."""
    body = getattr(error, "body", None)
    if body:
        try:
            return json.loads(body).get("message") or str(body)
        except (ValueError, AttributeError):
            return str(body)[:300]
    return f"{getattr(error, 'status', '')} {getattr(error, 'reason', '')}".strip()


HINTS = {
    401: "check the credentials of your kubeconfig",
    403: "ask for access to that namespace, or set `namespace =` to one you may use",
    404: "check `namespace =` (or set create_namespace = true)",
    422: "a value in redun.ini or the task options is not valid for Kubernetes",
}


def call(
    cluster: Cluster,
    scope: str,
    what: str,
    function: Any,
    *args: Any,
    allow: tuple[int, ...] = (),
    **kwargs: Any,
) -> Any:
    """Run one API call; connection problems and refusals become one-line `K8SError`s.

    A refusal whose HTTP status is in `allow` (404 for "may not exist", 409 for
    "may exist already") returns None instead. `scope` is the namespace, for messages.
    """
    from kubernetes.client.exceptions import ApiException

    kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
    try:
        return function(*args, **kwargs)
    except ApiException as error:
        if error.status in allow:
            return None
        if error.status in (None, 0):
            raise unreachable(cluster, scope, error) from None
        hint = HINTS.get(error.status, "")
        raise K8SError(
            f"Kubernetes {cluster.describe()} refused to {what} in namespace {scope!r} "
            f"({error.status}): {status_message(error)}" + (f"; {hint}" if hint else "")
        ) from None
    except K8SError:
        raise
    except Exception as error:
        if _is_connection_error(error):
            raise unreachable(cluster, scope, error) from None
        raise


def _is_connection_error(error: BaseException) -> bool:
    import urllib3.exceptions

    return isinstance(error, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError, OSError))


def unreachable(cluster: Cluster, namespace: str, error: BaseException) -> K8SError:
    reason = getattr(error, "reason", None) or error
    return K8SError(
        f"Kubernetes {cluster.describe()} is unreachable (namespace {namespace!r}): {reason}; "
        "check that the cluster is up and that your kubeconfig points at it"
    )


def read_json(response: Any) -> Any:
    """The decoded body of a ``_preload_content=False`` response."""
    data = response.data
    return json.loads(data.decode("utf8") if isinstance(data, bytes) else data)


def read_text(response: Any) -> str:
    data = response.data
    return data.decode("utf8", "replace") if isinstance(data, bytes) else str(data)
