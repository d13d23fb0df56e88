"""k8s executor specifics on the emulated cluster: what the Jobs look like and how they run."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from redun.scheduler import Scheduler

from tests.plugins.k8s.conftest import K8sEmulator
from tests.plugins.k8s.test_conformance import fast_config
from tests.plugins.k8s.workflow import write_workflow

pytestmark = pytest.mark.container


@pytest.fixture
def wf(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Any:
    return write_workflow(tmp_path_factory.mktemp("k8swf"), monkeypatch)


def scheduler(k8s: K8sEmulator, tmp_path: Path, **section: str) -> Scheduler:
    return Scheduler(
        config={
            "backend": {"db_uri": f"sqlite:///{tmp_path / 'redun.db'}"},
            "executors.k8s": {**fast_config(k8s, tmp_path / "scratch"), **section},
        }
    )


def created(k8s: K8sEmulator, method: str = "POST", kind: str = "jobs (collection)") -> int:
    return k8s.stats()["requests"].get(f"{method} {kind}", 0)


def container_of(job: dict[str, Any]) -> dict[str, Any]:
    return job["spec"]["template"]["spec"]["containers"][0]


def test_array_of_20_is_one_indexed_job(k8s: K8sEmulator, tmp_path: Path, wf: Any) -> None:
    sched = scheduler(k8s, tmp_path, min_array_size="5", job_stale_time="1.0")
    assert sched.run([wf.square.options(executor="k8s")(i) for i in range(20)]) == [
        i * i for i in range(20)
    ]
    (job,) = k8s.history()
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == 20
    assert job["spec"]["backoffLimitPerIndex"] == 0
    # One create for the 20 jobs; finished Jobs are deleted in one call too.
    assert created(k8s) == 1
    k8s.wait_until_empty()


def test_failing_array_index_fails_alone(k8s: K8sEmulator, tmp_path: Path, wf: Any) -> None:
    """backoffLimitPerIndex: one failing index does not stop the others."""
    from redun import catch

    sched = scheduler(k8s, tmp_path, min_array_size="3", job_stale_time="1.0")
    tasks = [wf.square_or_fail.options(executor="k8s")(i, 2) for i in range(4)]
    results = sched.run([catch(expr, ValueError, wf.fallback) for expr in tasks])
    assert results == [0, 1, -1, 9]
    assert created(k8s) == 1


def test_failed_array_member_has_its_pod_log(k8s: K8sEmulator, tmp_path: Path, wf: Any) -> None:
    sched = scheduler(k8s, tmp_path, min_array_size="3", job_stale_time="1.0")
    with pytest.raises(ValueError, match="bad input 1"):
        sched.run([wf.square_or_fail.options(executor="k8s")(i, 1) for i in range(3)])
    assert sched.traceback is not None
    assert any("index of 1 fails on purpose" in line for line in sched.traceback.logs)
    (job,) = k8s.history()
    assert job["spec"]["completionMode"] == "Indexed"


def test_secret_path_keeps_credentials_out_of_jobs_and_db(
    k8s: K8sEmulator, tmp_path: Path, wf: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_value = "k8s-secret-path-value-31337"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret_value)
    monkeypatch.setenv("EXTRA_TOKEN", "extra-token-value-4242")
    sched = scheduler(k8s, tmp_path, secret_name="wf-creds", secret_env_vars="EXTRA_TOKEN")
    digests = sched.run(
        [
            wf.secret_digest.options(executor="k8s")("AWS_SECRET_ACCESS_KEY"),
            wf.secret_digest.options(executor="k8s")("EXTRA_TOKEN"),
        ]
    )
    assert digests == [
        hashlib.sha256(secret_value.encode()).hexdigest(),
        hashlib.sha256(b"extra-token-value-4242").hexdigest(),
    ]
    secret = k8s.request("GET", "/api/v1/namespaces/default/secrets/wf-creds")
    assert set(secret["data"]) >= {"AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "EXTRA_TOKEN"}
    for job in k8s.history():
        env = {var["name"]: var for var in container_of(job)["env"]}
        ref = env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "wf-creds", "key": "AWS_SECRET_ACCESS_KEY", "optional": True}
        assert "value" not in env["AWS_SECRET_ACCESS_KEY"]
        assert secret_value not in json.dumps(job)
    assert secret_value.encode() not in (tmp_path / "redun.db").read_bytes()


def test_timeout_is_the_jobs_active_deadline(k8s: K8sEmulator, tmp_path: Path, wf: Any) -> None:
    from redun_k8s.executor import K8STimeoutExceeded

    sched = scheduler(k8s, tmp_path)
    with pytest.raises(K8STimeoutExceeded, match="exceeded its timeout of 2 s"):
        sched.run(wf.nap.options(executor="k8s", timeout=2)(60, str(tmp_path / "marker")))
    (job,) = k8s.history()
    assert job["spec"]["activeDeadlineSeconds"] == 2
    k8s.wait_until_empty()


def test_retries_are_the_jobs_backoff_limit(k8s: K8sEmulator, tmp_path: Path, wf: Any) -> None:
    sched = scheduler(k8s, tmp_path, retries="2")
    with pytest.raises(ValueError, match="bad input 5"):
        sched.run(wf.square_or_fail.options(executor="k8s")(5, 5))
    (job,) = k8s.history()
    assert job["spec"]["backoffLimit"] == 2
    # Kubernetes made the three attempts, one pod each; the executor submitted once.
    assert created(k8s) == 1
    assert any("index of 5 fails on purpose" in line for line in sched.traceback.logs)


def test_job_spec_carries_resources_labels_affinity_and_env(
    k8s: K8sEmulator, tmp_path: Path, wf: Any
) -> None:
    affinity = {
        "required_during_scheduling_ignored_during_execution": {
            "node_selector_terms": [
                {
                    "match_expressions": [
                        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}
                    ]
                }
            ]
        }
    }
    sched = scheduler(
        k8s,
        tmp_path,
        namespace="redun-tests",
        memory="0.75",
        ephemeral_storage="1Gi",
        node_affinity=json.dumps(affinity),
        k8s_labels=json.dumps({"team": "genomics"}),
        annotations=json.dumps({"example.com/owner": "a person, with spaces and a URL http://x/y"}),
        env=json.dumps({"FROM_CONFIG": "c", "SHARED": "config"}),
        service_account_name="runner",
        job_name_prefix="wf",
    )
    env = sched.run(
        wf.getenv.options(executor="k8s", env={"FROM_TASK": "t", "SHARED": "task"})(
            ["FROM_CONFIG", "FROM_TASK", "SHARED", "JOB_COMPLETION_INDEX"]
        )
    )
    assert env == {
        "FROM_CONFIG": "c",
        "FROM_TASK": "t",
        "SHARED": "task",
        "JOB_COMPLETION_INDEX": None,
    }
    (job,) = k8s.history()
    meta, pod = job["metadata"], job["spec"]["template"]["spec"]
    assert meta["namespace"] == "redun-tests" and meta["name"].startswith("wf-")
    assert meta["labels"]["team"] == "genomics"
    assert meta["labels"]["redun.insitro.com/executor_type"] == "k8s"
    assert meta["annotations"]["redun.insitro.com/task_name"] == "k8stest.getenv"
    assert meta["annotations"]["example.com/owner"].startswith("a person")
    assert meta["annotations"]["redun.insitro.com/scratch"] == str(tmp_path / "scratch")
    assert pod["serviceAccountName"] == "runner" and pod["restartPolicy"] == "Never"
    term = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["nodeSelectorTerms"][0]["matchExpressions"][0]["key"] == "kubernetes.io/os"
    resources = container_of(job)["resources"]
    assert resources["requests"] == {"cpu": "0.25", "memory": "0.75G", "ephemeral-storage": "1Gi"}
    assert resources["limits"] == {"memory": "0.75G", "ephemeral-storage": "1Gi"}
    namespace = k8s.request("GET", "/api/v1/namespaces/redun-tests")
    assert namespace["status"]["phase"] == "Active"
    k8s.wait_until_empty("redun-tests")


@pytest.mark.slow
def test_memory_limit_reaches_the_container(k8s: K8sEmulator, tmp_path: Path, wf: Any) -> None:
    sched = scheduler(k8s, tmp_path)
    limit = sched.run(wf.memory_limit.options(executor="k8s", memory=0.3)())
    # 0.3G is 300,000,000 bytes; the kernel rounds the limit down to whole pages.
    assert 300_000_000 - 4096 < limit <= 300_000_000


@pytest.mark.slow
def test_gpu_request_waits_for_a_node_with_gpus(k8s: K8sEmulator, tmp_path: Path, wf: Any) -> None:
    """No emulated node has GPUs: the pod stays Pending (Unschedulable) until the deadline."""
    from redun_k8s.executor import K8STimeoutExceeded

    sched = scheduler(k8s, tmp_path)
    with pytest.raises(K8STimeoutExceeded):
        sched.run(wf.square.options(executor="k8s", gpus=1, timeout=2)(3))
    (job,) = k8s.history()
    assert container_of(job)["resources"]["limits"]["nvidia.com/gpu"] == "1"
