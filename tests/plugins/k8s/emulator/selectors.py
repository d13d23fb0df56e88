"""Label and field selectors as the API server parses them (``?labelSelector=``, ...)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from tests.plugins.k8s.emulator.validation import label_key_problem, label_value_problem


class SelectorError(ValueError):
    """A selector the API server would answer with 400 BadRequest."""


Requirement = Callable[[Mapping[str, str]], bool]

_SET = re.compile(r"^\s*(!?)\s*([^\s!=(),]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_EQ = re.compile(r"^\s*([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)\s*$")


def _split(selector: str) -> list[str]:
    """Split on commas outside parentheses (``a in (x,y),b`` is two requirements)."""
    parts, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part for part in parts if part.strip()]


def _check_key(key: str) -> None:
    problem = label_key_problem(key)
    if problem:
        raise SelectorError(f"unable to parse requirement: invalid label key {key!r}: {problem}")


def _check_value(value: str) -> None:
    problem = label_value_problem(value)
    if problem:
        raise SelectorError(
            f"unable to parse requirement: invalid label value: {value!r}: {problem}"
        )


def parse_label_selector(selector: str) -> list[Requirement]:
    requirements: list[Requirement] = []
    for part in _split(selector or ""):
        match = _EQ.match(part)
        if match:
            key, op, value = match.groups()
            _check_key(key)
            _check_value(value)
            if op == "!=":
                requirements.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                requirements.append(lambda labels, k=key, v=value: labels.get(k) == v)
            continue
        match = _SET.match(part)
        if not match:
            raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
        negated, key, op, values = match.groups()
        _check_key(key)
        if op is None:
            if negated:
                requirements.append(lambda labels, k=key: k not in labels)
            else:
                requirements.append(lambda labels, k=key: k in labels)
            continue
        if negated:
            raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
        members = {value.strip() for value in values.split(",") if value.strip()}
        if not members:
            raise SelectorError(f"for '{op}' operator, values set can't be empty")
        for member in members:
            _check_value(member)
        if op == "in":
            requirements.append(lambda labels, k=key, m=members: labels.get(k) in m)
        else:
            requirements.append(lambda labels, k=key, m=members: labels.get(k) not in m)
    return requirements


def matches_labels(requirements: list[Requirement], labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(requirement(labels) for requirement in requirements)


# Fields each kind may be selected by (the API server's field label conversion funcs).
FIELDS: dict[str, dict[str, Callable[[dict[str, Any]], str]]] = {
    "common": {
        "metadata.name": lambda obj: obj["metadata"].get("name", ""),
        "metadata.namespace": lambda obj: obj["metadata"].get("namespace", ""),
    },
    "Job": {
        "status.successful": lambda obj: str(obj.get("status", {}).get("succeeded", 0)),
    },
    "Pod": {
        "status.phase": lambda obj: obj.get("status", {}).get("phase", ""),
        "spec.nodeName": lambda obj: obj["spec"].get("nodeName", ""),
        "spec.restartPolicy": lambda obj: obj["spec"].get("restartPolicy", ""),
        "spec.serviceAccountName": lambda obj: obj["spec"].get("serviceAccountName", ""),
    },
    "Secret": {"type": lambda obj: obj.get("type", "")},
    "Namespace": {"status.phase": lambda obj: obj.get("status", {}).get("phase", "")},
}


def parse_field_selector(selector: str, kind: str) -> list[Callable[[dict[str, Any]], bool]]:
    fields = {**FIELDS["common"], **FIELDS.get(kind, {})}
    requirements = []
    for part in _split(selector or ""):
        match = _EQ.match(part)
        if not match:
            raise SelectorError(f"invalid selector: '{part.strip()}'; can't understand it")
        field, op, value = match.groups()
        getter = fields.get(field)
        if getter is None:
            raise SelectorError(
                f'"{field}" is not a known field selector: only "{", ".join(fields)}"'
            )
        if op == "!=":
            requirements.append(lambda obj, g=getter, v=value: g(obj) != v)
        else:
            requirements.append(lambda obj, g=getter, v=value: g(obj) == v)
    return requirements
