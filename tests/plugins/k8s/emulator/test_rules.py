"""The emulator's validation and selectors reject what a real API server rejects."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.plugins.k8s.emulator.controller import affinity_matches, compress_indexes
from tests.plugins.k8s.emulator.selectors import (
    SelectorError,
    matches_labels,
    parse_field_selector,
    parse_label_selector,
)
from tests.plugins.k8s.emulator.validation import (
    QuantityError,
    describe,
    parse_quantity,
    validate_job,
    validate_secret,
)

JOB: dict[str, Any] = {
    "metadata": {"name": "ok-job", "labels": {"app": "redun"}},
    "spec": {
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": "img", "command": ["true"]}],
            }
        }
    },
}


def job(**changes: Any) -> dict[str, Any]:
    """JOB with dotted-path changes: ``job(**{"spec.backoffLimit": -1})``."""
    body = copy.deepcopy(JOB)
    for path, value in changes.items():
        node = body
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        node[last] = value
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [field for _, field, _ in validate_job(body)]


def test_a_valid_job_passes() -> None:
    assert validate_job(job()) == []


C0 = "spec.template.spec.containers.0"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"metadata.name": "Upper_Case"}, "metadata.name"),
        ({"metadata.name": "x" * 64}, "metadata.name"),
        ({"metadata.labels": {"scratch": "s3://bucket/key"}}, "metadata.labels"),
        ({"metadata.labels": {"v": "x" * 64}}, "metadata.labels"),
        ({"metadata.labels": {"bad/prefix/key": "v"}}, "metadata.labels"),
        ({"metadata.annotations": {"a b": "v"}}, "metadata.annotations"),
        ({"spec.backoffLimit": -1}, "spec.backoffLimit"),
        ({"spec.activeDeadlineSeconds": 0}, "spec.activeDeadlineSeconds"),
        ({"spec.completionMode": "Indexed"}, "spec.completions"),
        ({"spec.backoffLimitPerIndex": 1}, "spec.backoffLimitPerIndex"),
        ({"spec.template.spec.restartPolicy": "Always"}, "spec.template.spec.restartPolicy"),
        ({"spec.template.spec.containers": []}, "spec.template.spec.containers"),
        ({f"{C0}.image": ""}, "spec.template.spec.containers[0].image"),
        ({f"{C0}.name": "Main"}, "spec.template.spec.containers[0].name"),
        (
            {f"{C0}.env": [{"name": "1X", "value": "v"}]},
            "spec.template.spec.containers[0].env[0].name",
        ),
        (
            {f"{C0}.env": [{"name": "S", "valueFrom": {"secretKeyRef": {"name": "s"}}}]},
            "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.key",
        ),
        (
            {f"{C0}.resources": {"requests": {"memory": "2G"}, "limits": {"memory": "1G"}}},
            "spec.template.spec.containers[0].resources.requests[memory]",
        ),
        (
            {f"{C0}.resources": {"requests": {"nvidia.com/gpu": "1"}}},
            "spec.template.spec.containers[0].resources.limits",
        ),
        (
            {f"{C0}.resources": {"limits": {"nvidia.com/gpu": "0.5"}}},
            "spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]",
        ),
        (
            {f"{C0}.volumeMounts": [{"name": "missing", "mountPath": "/m"}]},
            "spec.template.spec.containers[0].volumeMounts[0].name",
        ),
        (
            {
                "spec.template.spec.affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}
                    }
                }
            },
            "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
        ),
    ],
)
def test_invalid_jobs_are_rejected_with_the_field(changes: dict[str, Any], field: str) -> None:
    assert field in fields(job(**changes))


def test_unparsable_quantities_are_decode_errors() -> None:
    body = job(**{f"{C0}.resources": {"requests": {"cpu": "one"}}})
    with pytest.raises(QuantityError, match="quantities must match the regular expression"):
        validate_job(body)
    assert parse_quantity("1.5Gi") == 1.5 * 2**30
    assert parse_quantity("250m") == 0.25
    assert parse_quantity(2) == 2.0
    assert parse_quantity("1e3") == 1000.0


def test_invalid_message_names_kind_name_and_causes() -> None:
    causes = validate_job(job(**{"metadata.name": "Bad", "spec.backoffLimit": -2}))
    message = describe("Job.batch", "Bad", causes)
    assert message.startswith('Job.batch "Bad" is invalid: [metadata.name: Invalid value: "Bad"')
    assert "spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0" in message


def test_secret_data_must_be_base64() -> None:
    secret = {"metadata": {"name": "s"}, "data": {"key": "not base64!"}}
    assert [field for _, field, _ in validate_secret(secret)] == ["data[key]"]
    assert validate_secret({"metadata": {"name": "s"}, "stringData": {"key": "plain"}}) == []


@pytest.mark.parametrize(
    "selector, labels, expected",
    [
        ("a=1", {"a": "1"}, True),
        ("a==1,b!=2", {"a": "1", "b": "3"}, True),
        ("a in (1, 2),c", {"a": "2", "c": ""}, True),
        ("a notin (1,2)", {"a": "1"}, False),
        ("!a", {"b": "1"}, True),
        ("a", {}, False),
        ("redun.insitro.com/unit in (x-1,x-2)", {"redun.insitro.com/unit": "x-2"}, True),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert matches_labels(parse_label_selector(selector), labels) is expected


@pytest.mark.parametrize("selector", ["a in ()", "a=s3://x", "a b", "=x", "!a=1"])
def test_bad_label_selectors(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(selector)


def test_field_selectors_know_their_fields() -> None:
    pod = {"metadata": {"name": "p", "namespace": "n"}, "spec": {}, "status": {"phase": "Failed"}}
    assert all(r(pod) for r in parse_field_selector("status.phase=Failed,metadata.name=p", "Pod"))
    with pytest.raises(SelectorError, match='"status.phase" is not a known field selector'):
        parse_field_selector("status.phase=Failed", "Secret")


def test_completed_indexes_are_compressed_like_the_api() -> None:
    assert compress_indexes({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8"
    assert compress_indexes(set()) == ""


def test_node_affinity_matching() -> None:
    def pod(operator: str, values: list[str]) -> dict[str, Any]:
        term = {
            "matchExpressions": [
                {"key": "kubernetes.io/os", "operator": operator, "values": values}
            ]
        }
        required = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
        return {"spec": {"affinity": {"nodeAffinity": required}}}

    labels = {"kubernetes.io/os": "linux"}
    assert affinity_matches(pod("In", ["linux"]), labels)
    assert not affinity_matches(pod("In", ["windows"]), labels)
    assert affinity_matches(pod("NotIn", ["windows"]), labels)
