"""The emulator through the official client: discovery, errors, lists, and Jobs that really run."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.plugins.k8s.conftest import K8sEmulator

pytestmark = pytest.mark.container


@pytest.fixture
def api(k8s: K8sEmulator) -> Any:
    from kubernetes import client, config

    api_client = config.new_client_from_config(config_file=k8s.kubeconfig)
    return client, client.CoreV1Api(api_client), client.BatchV1Api(api_client), api_client


def error_of(call: Any) -> tuple[int, dict[str, Any]]:
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as caught:
        call()
    return caught.value.status, json.loads(caught.value.body)


def make_job(client: Any, name: str, script: str, **spec: Any) -> Any:
    container = client.V1Container(
        name="main",
        image="localhost/redun:test",
        command=["sh", "-c", script],
        resources=client.V1ResourceRequirements(requests={"cpu": "100m", "memory": "64Mi"}),
    )
    template = client.V1PodTemplateSpec(
        spec=client.V1PodSpec(containers=[container], restart_policy="Never")
    )
    return client.V1Job(
        metadata=client.V1ObjectMeta(name=name, labels={"suite": "emulator"}),
        spec=client.V1JobSpec(template=template, **spec),
    )


def wait_job(batch: Any, name: str, timeout: float = 60) -> dict[str, Any]:
    """The Job's JSON once it has a Complete or Failed condition."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = batch.read_namespaced_job(name=name, namespace="default", _preload_content=False)
        job = json.loads(response.data)
        types = {c["type"] for c in job["status"].get("conditions") or [] if c["status"] == "True"}
        if types & {"Complete", "Failed"}:
            return job
        time.sleep(0.1)
    pytest.fail(f"job {name} did not finish in {timeout} s")


def pods_of(core: Any, name: str) -> list[dict[str, Any]]:
    response = core.list_namespaced_pod(
        namespace="default", label_selector=f"job-name={name}", _preload_content=False
    )
    return json.loads(response.data)["items"]


def test_discovery_and_version(api: Any) -> None:
    client, core, batch, api_client = api
    version = client.VersionApi(api_client).get_code()
    assert (version.major, version.minor) == ("1", "31") and version.build_date
    groups = client.ApisApi(api_client).get_api_versions()
    assert [g.name for g in groups.groups] == ["batch"]
    resources = client.BatchV1Api(api_client).get_api_resources()
    assert "jobs" in [r.name for r in resources.resources]
    assert {"default", "kube-system"} <= {n.metadata.name for n in core.list_namespace().items}


def test_status_objects_for_conflicts_missing_and_invalid(api: Any) -> None:
    client, core, batch, _ = api
    secret = client.V1Secret(metadata=client.V1ObjectMeta(name="s1"), string_data={"k": "v"})
    core.create_namespaced_secret(namespace="default", body=secret)
    code, body = error_of(lambda: core.create_namespaced_secret(namespace="default", body=secret))
    assert (code, body["reason"], body["message"]) == (
        409,
        "AlreadyExists",
        'secrets "s1" already exists',
    )
    code, body = error_of(lambda: batch.read_namespaced_job(name="nope", namespace="default"))
    assert (code, body["reason"], body["details"]["kind"]) == (404, "NotFound", "jobs")
    code, body = error_of(lambda: core.list_namespaced_secret(namespace="no-such-ns"))
    assert (code, body["message"]) == (404, 'namespaces "no-such-ns" not found')
    bad = make_job(client, "Bad_Name", "true")
    code, body = error_of(lambda: batch.create_namespaced_job(namespace="default", body=bad))
    assert (code, body["reason"], body["kind"]) == (422, "Invalid", "Status")
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    assert k_has_no_jobs(batch)


def k_has_no_jobs(batch: Any) -> bool:
    return batch.list_namespaced_job(namespace="default").items == []


def test_lists_page_and_filter(api: Any) -> None:
    client, core, _, _ = api
    for index in range(5):
        meta = client.V1ObjectMeta(
            name=f"page-{index}", labels={"group": "odd" if index % 2 else "even"}
        )
        core.create_namespaced_secret(namespace="default", body=client.V1Secret(metadata=meta))
    first = core.list_namespaced_secret(namespace="default", limit=2)
    assert len(first.items) == 2 and first.metadata.remaining_item_count == 3
    rest = core.list_namespaced_secret(
        namespace="default", limit=10, _continue=first.metadata._continue
    )
    names = [s.metadata.name for s in first.items + rest.items]
    assert names == [f"page-{index}" for index in range(5)] and not rest.metadata._continue
    odd = core.list_namespaced_secret(namespace="default", label_selector="group in (odd)")
    assert [s.metadata.name for s in odd.items] == ["page-1", "page-3"]
    code, body = error_of(
        lambda: core.list_namespaced_secret(namespace="default", label_selector="a in ()")
    )
    assert code == 400 and body["reason"] == "BadRequest"


def test_job_runs_its_pod_and_keeps_its_log(api: Any, k8s: K8sEmulator) -> None:
    client, core, batch, _ = api
    batch.create_namespaced_job(
        namespace="default", body=make_job(client, "ok", "echo from the pod")
    )
    job = wait_job(batch, "ok")
    assert job["status"]["succeeded"] == 1 and job["status"].get("completionTime")
    assert [c["type"] for c in job["status"]["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    (pod,) = pods_of(core, "ok")
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["metadata"]["ownerReferences"][0]["uid"] == job["metadata"]["uid"]
    log = core.read_namespaced_pod_log(
        name=pod["metadata"]["name"], namespace="default", _preload_content=False
    )
    assert log.data == b"from the pod\n"
    # The default propagation for batch/v1 Jobs orphans the pods.
    batch.delete_namespaced_job(name="ok", namespace="default")
    time.sleep(0.5)
    (orphan,) = core.list_namespaced_pod(namespace="default").items
    assert not orphan.metadata.owner_references
    core.delete_namespaced_pod(name=orphan.metadata.name, namespace="default")


def test_backoff_limit_and_indexed_failures(api: Any) -> None:
    client, core, batch, _ = api
    batch.create_namespaced_job(
        namespace="default", body=make_job(client, "flaky", "exit 3", backoff_limit=1)
    )
    indexed = make_job(
        client,
        "idx",
        'echo "index $JOB_COMPLETION_INDEX"; [ "$JOB_COMPLETION_INDEX" != 1 ]',
        completions=3,
        parallelism=3,
        completion_mode="Indexed",
        backoff_limit_per_index=0,
    )
    batch.create_namespaced_job(namespace="default", body=indexed)
    flaky = wait_job(batch, "flaky")
    assert flaky["status"]["failed"] == 2 and len(pods_of(core, "flaky")) == 2
    failed = [c for c in flaky["status"]["conditions"] if c["type"] == "Failed"]
    assert failed[0]["reason"] == "BackoffLimitExceeded"
    job = wait_job(batch, "idx")
    assert (job["status"]["completedIndexes"], job["status"]["failedIndexes"]) == ("0,2", "1")
    assert [c["reason"] for c in job["status"]["conditions"]][-1] == "FailedIndexes"
    logs = sorted(
        core.read_namespaced_pod_log(
            name=p["metadata"]["name"], namespace="default", _preload_content=False
        ).data
        for p in pods_of(core, "idx")
    )
    assert logs == [b"index 0\n", b"index 1\n", b"index 2\n"]
    batch.delete_collection_namespaced_job(
        namespace="default", label_selector="suite=emulator", propagation_policy="Background"
    )


def test_deadline_stops_the_pods(api: Any, k8s: K8sEmulator) -> None:
    client, core, batch, _ = api
    body = make_job(client, "slow", "sleep 60", active_deadline_seconds=1)
    batch.create_namespaced_job(namespace="default", body=body)
    job = wait_job(batch, "slow", timeout=30)
    failed = [c for c in job["status"]["conditions"] if c["type"] == "Failed"]
    assert failed[0]["reason"] == "DeadlineExceeded"
    assert pods_of(core, "slow") == []
    batch.delete_namespaced_job(name="slow", namespace="default", propagation_policy="Foreground")
    k8s.wait_until_empty()


def test_secret_refs_and_scheduling_problems_keep_pods_pending(api: Any, k8s: K8sEmulator) -> None:
    client, core, batch, _ = api
    body = make_job(client, "needs-secret", "true")
    ref = client.V1SecretKeySelector(name="absent", key="k")
    body.spec.template.spec.containers[0].env = [
        client.V1EnvVar(name="S", value_from=client.V1EnvVarSource(secret_key_ref=ref))
    ]
    batch.create_namespaced_job(namespace="default", body=body)
    gpu = make_job(client, "needs-gpu", "true")
    gpu.spec.template.spec.containers[0].resources = client.V1ResourceRequirements(
        limits={"nvidia.com/gpu": "1"}
    )
    batch.create_namespaced_job(namespace="default", body=gpu)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        secret_pods, gpu_pods = pods_of(core, "needs-secret"), pods_of(core, "needs-gpu")
        waiting = [
            s["state"].get("waiting", {}).get("reason")
            for p in secret_pods
            for s in p["status"].get("containerStatuses") or []
        ]
        conditions = [
            c.get("reason") for p in gpu_pods for c in p["status"].get("conditions") or []
        ]
        if "CreateContainerConfigError" in waiting and "Unschedulable" in conditions:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"pods did not wait: {waiting} {conditions}")
    assert "Insufficient nvidia.com/gpu" in gpu_pods[0]["status"]["conditions"][0]["message"]
    # The secret appears: the pod starts and the job completes.
    secret = client.V1Secret(metadata=client.V1ObjectMeta(name="absent"), string_data={"k": "v"})
    core.create_namespaced_secret(namespace="default", body=secret)
    assert wait_job(batch, "needs-secret")["status"]["succeeded"] == 1
    batch.delete_collection_namespaced_job(
        namespace="default", label_selector="suite=emulator", propagation_policy="Background"
    )
    k8s.wait_until_empty()


def test_ttl_after_finished_deletes_the_job(api: Any, k8s: K8sEmulator) -> None:
    client, _, batch, _ = api
    body = make_job(client, "short-lived", "true", ttl_seconds_after_finished=0)
    batch.create_namespaced_job(namespace="default", body=body)
    deadline = time.monotonic() + 30
    while batch.list_namespaced_job(namespace="default").items:
        assert time.monotonic() < deadline, "the TTL controller did not delete the job"
        time.sleep(0.1)
    k8s.wait_until_empty()
