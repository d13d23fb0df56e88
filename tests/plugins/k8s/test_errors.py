"""What the user sees when the cluster or the config is wrong: one line saying what to do."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from redun.executors.base import ExecutorError
from redun.scheduler import Scheduler

from tests.plugins.k8s.conftest import KUBECONFIG, K8sEmulator
from tests.plugins.k8s.workflow import write_workflow


@pytest.fixture
def wf(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Any:
    return write_workflow(tmp_path_factory.mktemp("k8serr"), monkeypatch)


def make(tmp_path: Path, **section: str) -> Scheduler:
    base = {"type": "k8s", "image": "localhost/redun:test", "scratch": str(tmp_path / "s")}
    return Scheduler(
        config={
            "backend": {"db_uri": "sqlite:///:memory:"},
            "executors.k8s": {**base, "job_monitor_interval": "0.2", **section},
        }
    )


@pytest.mark.parametrize(
    "section, message",
    [
        ({"namespace": "Team_A"}, "namespace = 'Team_A' is not a valid namespace name"),
        ({"job_name_prefix": "My_Jobs"}, "job_name_prefix = 'My_Jobs' is not a DNS-1123 label"),
        ({"ephemeral_storage": "lots"}, "ephemeral_storage = 'lots' is not a quantity"),
        (
            {"k8s_labels": json.dumps({"scratch": "s3://bucket/path"})},
            "put longer text in `annotations`",
        ),
        ({"k8s_labels": json.dumps({"bad key!": "x"})}, "key 'bad key!' is not valid"),
        ({"annotations": "{not json"}, r"\[executors.k8s\] annotations is not valid JSON"),
        ({"create_namespace": "perhaps"}, "create_namespace = 'perhaps' is not a boolean"),
        ({"scratch": "", "s3_scratch": ""}, r"\[executors.k8s\] needs `scratch`"),
    ],
)
def test_bad_config_is_a_one_line_error(
    tmp_path: Path, section: dict[str, str], message: str
) -> None:
    with pytest.raises(ExecutorError, match=message) as caught:
        make(tmp_path, **section)
    assert "\n" not in str(caught.value)


def test_s3_scratch_is_redun_s_name_for_scratch(tmp_path: Path) -> None:
    sched = make(tmp_path, scratch="", s3_scratch="s3://bucket/redun/")
    assert sched.executors["k8s"].scratch_root() == "s3://bucket/redun"


def test_missing_kubeconfig(tmp_path: Path, wf: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nowhere"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ExecutorError, match="No kubeconfig at .*nowhere: set KUBECONFIG"):
        make(tmp_path).run(wf.square.options(executor="k8s")(2))


def test_unreachable_cluster(tmp_path: Path, wf: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG.format(port=port))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    with pytest.raises(ExecutorError) as caught:
        make(tmp_path, namespace="lab").run(wf.square.options(executor="k8s")(2))
    message = str(caught.value)
    assert f"cluster http://127.0.0.1:{port}" in message and "is unreachable" in message
    assert "namespace 'lab'" in message and "check that the cluster is up" in message


@pytest.mark.container
def test_forbidden_namespace(k8s: K8sEmulator, tmp_path: Path, wf: Any) -> None:
    k8s.configure(forbidden_namespaces=["locked"])
    with pytest.raises(ExecutorError) as caught:
        make(tmp_path, namespace="locked").run(wf.square.options(executor="k8s")(2))
    message = str(caught.value)
    assert f"cluster http://127.0.0.1:{k8s.port}" in message
    assert "namespace 'locked' (403)" in message and 'cannot list resource "jobs"' in message
    assert "ask for access to that namespace" in message


@pytest.mark.container
def test_missing_namespace_when_not_to_be_created(
    k8s: K8sEmulator, tmp_path: Path, wf: Any
) -> None:
    with pytest.raises(
        ExecutorError,
        match="Namespace 'absent' does not exist on cluster .*create_namespace = true",
    ):
        make(tmp_path, namespace="absent", create_namespace="false").run(
            wf.square.options(executor="k8s")(2)
        )
    assert k8s.history() == []
