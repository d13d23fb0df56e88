"""What the API server rejects in the objects the emulator accepts.

Each `validate_*` returns a list of causes, ``(reason, field, message)``; any
cause makes the request a 422 Invalid, as on a real cluster. A quantity that
does not parse is a decode error, a 400 BadRequest (`QuantityError`). The
rules and messages follow the API server's validation for batch/v1 Jobs,
Secrets and Namespaces; only the fields the emulator serves are checked.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

Cause = tuple[str, str, str]

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = QUALIFIED_NAME
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
QUANTITY_REGEX_TEXT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
SUFFIXES = {
    "": 1,
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
STANDARD_RESOURCES = {"cpu", "memory", "ephemeral-storage", "storage"}
VOLUME_SOURCES = {
    "hostPath",
    "emptyDir",
    "secret",
    "configMap",
    "persistentVolumeClaim",
    "nfs",
    "csi",
    "projected",
}
SELECTOR_OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"}
ANNOTATIONS_MAX_BYTES = 256 * 1024
DNS_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
DNS_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character"
)
LABEL_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character"
)
NAME_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character"
)


class QuantityError(ValueError):
    """A resource quantity that does not parse (the API server's decode error, a 400)."""


def parse_quantity(value: Any) -> float:
    """A quantity's value; JSON numbers are accepted, as the API server accepts them."""
    if isinstance(value, bool):
        raise QuantityError("quantities must be strings or numbers")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    match = QUANTITY.match(text)
    if not match:
        raise QuantityError(f"quantities must match the regular expression '{QUANTITY_REGEX_TEXT}'")
    number, suffix = match.groups()
    try:
        base = float(number)
    except ValueError:
        raise QuantityError("unable to parse quantity's suffix") from None
    if suffix in SUFFIXES:
        return base * SUFFIXES[suffix]
    exponent = re.fullmatch(r"[eE]([-+]?[0-9]+)", suffix)
    if exponent:
        return base * 10 ** int(exponent.group(1))
    raise QuantityError("unable to parse quantity's suffix")


def invalid(field: str, value: Any, message: str) -> Cause:
    shown = f'"{value}"' if isinstance(value, str) else str(value)
    return ("FieldValueInvalid", field, f"Invalid value: {shown}: {message}")


def required(field: str) -> Cause:
    return ("FieldValueRequired", field, "Required value")


def not_supported(field: str, value: Any, supported: list[str]) -> Cause:
    choices = ", ".join(f'"{choice}"' for choice in supported)
    return (
        "FieldValueNotSupported",
        field,
        f'Unsupported value: "{value}": supported values: {choices}',
    )


def dns_label_problem(name: str) -> str | None:
    if len(name) > 63:
        return "must be no more than 63 characters"
    if not DNS1123_LABEL.match(name):
        return DNS_LABEL_MESSAGE + " (e.g. 'my-name',  or '123-abc')"
    return None


def dns_subdomain_problem(name: str) -> str | None:
    if len(name) > 253:
        return "must be no more than 253 characters"
    if not DNS1123_SUBDOMAIN.match(name):
        return DNS_SUBDOMAIN_MESSAGE + " (e.g. 'example.com')"
    return None


def label_key_problem(key: str) -> str | None:
    prefix, slash, name = key.rpartition("/")
    if slash:
        if not prefix:
            return "prefix part must be non-empty"
        problem = dns_subdomain_problem(prefix)
        if problem:
            return f"prefix part {problem}"
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not QUALIFIED_NAME.match(name):
        return NAME_MESSAGE
    return None


def label_value_problem(value: str) -> str | None:
    if value == "":
        return None
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not LABEL_VALUE.match(value):
        return LABEL_VALUE_MESSAGE
    return None


def validate_metadata(
    meta: Any, field: str = "metadata", name_rule: str = "subdomain"
) -> list[Cause]:
    causes: list[Cause] = []
    if not isinstance(meta, dict):
        return [required(field)]
    name = meta.get("name") or ""
    if not name and not meta.get("generateName"):
        causes.append(
            (
                "FieldValueRequired",
                f"{field}.name",
                "Required value: name or generateName is required",
            )
        )
    elif name:
        problem = dns_label_problem(name) if name_rule == "label" else dns_subdomain_problem(name)
        if problem:
            causes.append(invalid(f"{field}.name", name, problem))
    causes += validate_labels(meta.get("labels"), f"{field}.labels")
    annotations = meta.get("annotations") or {}
    if not isinstance(annotations, dict):
        causes.append(invalid(f"{field}.annotations", str(annotations), "must be a map"))
    else:
        for key, value in annotations.items():
            problem = label_key_problem(key)
            if problem:
                causes.append(invalid(f"{field}.annotations", key, problem))
            if not isinstance(value, str):
                causes.append(invalid(f"{field}.annotations", key, "values must be strings"))
        size = sum(len(k) + len(str(v)) for k, v in annotations.items())
        if size > ANNOTATIONS_MAX_BYTES:
            causes.append(
                (
                    "FieldValueTooLong",
                    f"{field}.annotations",
                    f"Too long: must have at most {ANNOTATIONS_MAX_BYTES} bytes",
                )
            )
    return causes


def validate_labels(labels: Any, field: str) -> list[Cause]:
    causes: list[Cause] = []
    if labels is None:
        return causes
    if not isinstance(labels, dict):
        return [invalid(field, str(labels), "must be a map")]
    for key, value in labels.items():
        problem = label_key_problem(key)
        if problem:
            causes.append(invalid(field, key, problem))
        if not isinstance(value, str):
            causes.append(invalid(field, str(value), "label values must be strings"))
            continue
        problem = label_value_problem(value)
        if problem:
            causes.append(invalid(field, value, problem))
    return causes


def validate_namespace(obj: dict[str, Any]) -> list[Cause]:
    return validate_metadata(obj.get("metadata"), name_rule="label")


def validate_secret(obj: dict[str, Any]) -> list[Cause]:
    causes = validate_metadata(obj.get("metadata"))
    for section in ("data", "stringData"):
        data = obj.get(section) or {}
        if not isinstance(data, dict):
            causes.append(invalid(section, str(data), "must be a map"))
            continue
        for key, value in data.items():
            if not SECRET_KEY.match(key):
                causes.append(
                    invalid(
                        f"{section}[{key}]",
                        key,
                        "a valid config key must consist of alphanumeric characters, "
                        "'-', '_' or '.'",
                    )
                )
            if section == "data":
                try:
                    base64.b64decode(str(value), validate=True)
                except (binascii.Error, ValueError):
                    causes.append(invalid(f"data[{key}]", "<secret>", "must be base64-encoded"))
    return causes


def _resources(resources: Any, field: str) -> list[Cause]:
    causes: list[Cause] = []
    if resources is None:
        return causes
    parsed: dict[str, dict[str, float]] = {}
    for kind in ("limits", "requests"):
        values = resources.get(kind) or {}
        parsed[kind] = {}
        for name, raw in values.items():
            where = f"{field}.{kind}[{name}]"
            if "/" in name:
                problem = label_key_problem(name)
                if problem:
                    causes.append(invalid(where, name, problem))
            elif name not in STANDARD_RESOURCES and not name.startswith("hugepages-"):
                causes.append(
                    invalid(where, name, "must be a standard resource type or fully qualified")
                )
            value = parse_quantity(raw)
            parsed[kind][name] = value
            if value < 0:
                causes.append(invalid(where, str(raw), "must be greater than or equal to 0"))
            if "/" in name and not name.startswith("kubernetes.io/") and value != int(value):
                causes.append(invalid(where, str(raw), "must be an integer"))
    for name, request in parsed["requests"].items():
        limit = parsed["limits"].get(name)
        if "/" in name:
            if limit is None:
                causes.append(
                    (
                        "FieldValueRequired",
                        f"{field}.limits",
                        "Required value: Limit must be set for non overcommitable resources",
                    )
                )
            elif limit != request:
                causes.append(
                    invalid(
                        f"{field}.requests[{name}]",
                        str(request),
                        "must be equal to " + name + " limit",
                    )
                )
        elif limit is not None and request > limit:
            causes.append(
                invalid(
                    f"{field}.requests[{name}]",
                    str(resources["requests"][name]),
                    f"must be less than or equal to {name} limit of {resources['limits'][name]}",
                )
            )
    return causes


def _env(env: Any, field: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, var in enumerate(env or []):
        where = f"{field}[{i}]"
        name = var.get("name") or ""
        if not name:
            causes.append(required(f"{where}.name"))
        elif not ENV_NAME.match(name):
            causes.append(
                invalid(
                    f"{where}.name",
                    name,
                    "a valid environment variable name must consist of alphabetic "
                    "characters, digits, '_', '-', or '.', and must not start with a digit",
                )
            )
        source = var.get("valueFrom")
        if source is not None:
            if var.get("value"):
                causes.append(
                    invalid(
                        f"{where}.valueFrom", "", "may not be specified when `value` is not empty"
                    )
                )
            ref = source.get("secretKeyRef")
            if ref is not None:
                if not ref.get("name"):
                    causes.append(required(f"{where}.valueFrom.secretKeyRef.name"))
                if not ref.get("key"):
                    causes.append(required(f"{where}.valueFrom.secretKeyRef.key"))
            elif not (
                source.get("fieldRef")
                or source.get("configMapKeyRef")
                or source.get("resourceFieldRef")
            ):
                causes.append(
                    invalid(
                        f"{where}.valueFrom",
                        "",
                        "must specify one of: `fieldRef`, `resourceFieldRef`, "
                        "`configMapKeyRef` or `secretKeyRef`",
                    )
                )
    return causes


def _affinity(affinity: Any, field: str) -> list[Cause]:
    causes: list[Cause] = []
    node = (affinity or {}).get("nodeAffinity")
    if not node:
        return causes
    required_terms = node.get("requiredDuringSchedulingIgnoredDuringExecution")
    terms: list[tuple[str, Any]] = []
    if required_terms is not None:
        where = (
            f"{field}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
        )
        selector_terms = required_terms.get("nodeSelectorTerms") or []
        if not selector_terms:
            causes.append(
                (
                    "FieldValueRequired",
                    where,
                    "Required value: must have at least one node selector term",
                )
            )
        terms += [(f"{where}[{i}]", term) for i, term in enumerate(selector_terms)]
    for i, preferred in enumerate(
        node.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    ):
        where = f"{field}.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
        weight = preferred.get("weight")
        if not isinstance(weight, int) or not 1 <= weight <= 100:
            causes.append(invalid(f"{where}.weight", weight, "must be in the range 1-100"))
        terms.append((f"{where}.preference", preferred.get("preference") or {}))
    for where, term in terms:
        for j, expression in enumerate(term.get("matchExpressions") or []):
            at = f"{where}.matchExpressions[{j}]"
            key = expression.get("key") or ""
            problem = label_key_problem(key) if key else "Required value"
            if problem:
                causes.append(invalid(f"{at}.key", key, problem))
            operator = expression.get("operator")
            values = expression.get("values") or []
            if operator not in SELECTOR_OPERATORS:
                causes.append(not_supported(f"{at}.operator", operator, sorted(SELECTOR_OPERATORS)))
            elif operator in ("In", "NotIn") and not values:
                causes.append(
                    (
                        "FieldValueRequired",
                        f"{at}.values",
                        "Required value: must be specified when `operator` is 'In' or 'NotIn'",
                    )
                )
            elif operator in ("Exists", "DoesNotExist") and values:
                causes.append(
                    (
                        "FieldValueForbidden",
                        f"{at}.values",
                        "Forbidden: may not be specified when `operator` is "
                        "'Exists' or 'DoesNotExist'",
                    )
                )
    return causes


def _volumes(spec: dict[str, Any], field: str) -> tuple[list[Cause], set[str]]:
    causes: list[Cause] = []
    names: set[str] = set()
    for i, volume in enumerate(spec.get("volumes") or []):
        where = f"{field}.volumes[{i}]"
        name = volume.get("name") or ""
        problem = dns_label_problem(name) if name else "Required value"
        if problem:
            causes.append(invalid(f"{where}.name", name, problem))
        if name in names:
            causes.append(("FieldValueDuplicate", f"{where}.name", f'Duplicate value: "{name}"'))
        names.add(name)
        sources = [key for key in volume if key in VOLUME_SOURCES]
        if len(sources) != 1:
            causes.append(
                (
                    "FieldValueRequired" if not sources else "FieldValueForbidden",
                    where,
                    "must specify exactly one volume type",
                )
            )
        elif sources[0] == "hostPath" and not (volume["hostPath"] or {}).get("path"):
            causes.append(required(f"{where}.hostPath.path"))
    return causes, names


def validate_pod_spec(spec: Any, field: str, restart_policies: list[str]) -> list[Cause]:
    if not isinstance(spec, dict):
        return [required(field)]
    causes, volume_names = _volumes(spec, field)
    containers = spec.get("containers") or []
    if not containers:
        causes.append(required(f"{field}.containers"))
    seen: set[str] = set()
    for i, container in enumerate(containers):
        where = f"{field}.containers[{i}]"
        name = container.get("name") or ""
        problem = dns_label_problem(name) if name else None
        if not name:
            causes.append(required(f"{where}.name"))
        elif problem:
            causes.append(invalid(f"{where}.name", name, problem))
        if name in seen:
            causes.append(("FieldValueDuplicate", f"{where}.name", f'Duplicate value: "{name}"'))
        seen.add(name)
        if not container.get("image"):
            causes.append(required(f"{where}.image"))
        causes += _env(container.get("env"), f"{where}.env")
        causes += _resources(container.get("resources"), f"{where}.resources")
        mount_paths: set[str] = set()
        for j, mount in enumerate(container.get("volumeMounts") or []):
            at = f"{where}.volumeMounts[{j}]"
            if mount.get("name") not in volume_names:
                causes.append(
                    ("FieldValueNotFound", f"{at}.name", f'Not found: "{mount.get("name")}"')
                )
            path = mount.get("mountPath") or ""
            if not path:
                causes.append(required(f"{at}.mountPath"))
            elif path in mount_paths:
                causes.append(invalid(f"{at}.mountPath", path, "must be unique"))
            mount_paths.add(path)
    policy = spec.get("restartPolicy")
    if policy not in restart_policies:
        if policy is None:
            causes.append(("FieldValueRequired", f"{field}.restartPolicy", "Required value"))
        else:
            causes.append(not_supported(f"{field}.restartPolicy", policy, restart_policies))
    account = spec.get("serviceAccountName")
    if account:
        problem = dns_subdomain_problem(account)
        if problem:
            causes.append(invalid(f"{field}.serviceAccountName", account, problem))
    causes += _affinity(spec.get("affinity"), f"{field}.affinity")
    for i, secret in enumerate(spec.get("imagePullSecrets") or []):
        if not secret.get("name"):
            causes.append(required(f"{field}.imagePullSecrets[{i}].name"))
    return causes


def _non_negative(
    spec: dict[str, Any], key: str, causes: list[Cause], positive: bool = False
) -> None:
    value = spec.get(key)
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        causes.append(invalid(f"spec.{key}", value, "must be an integer"))
    elif positive and value <= 0:
        causes.append(invalid(f"spec.{key}", value, "must be greater than 0"))
    elif value < 0:
        causes.append(invalid(f"spec.{key}", value, "must be greater than or equal to 0"))


def validate_job(obj: dict[str, Any]) -> list[Cause]:
    # Job names become the `job-name` label of its pods: a DNS label, at most 63 characters.
    causes = validate_metadata(obj.get("metadata"), name_rule="label")
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return causes + [required("spec")]
    for key in ("parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished"):
        _non_negative(spec, key, causes)
    _non_negative(spec, "activeDeadlineSeconds", causes, positive=True)
    _non_negative(spec, "backoffLimitPerIndex", causes)
    mode = spec.get("completionMode", "NonIndexed")
    if mode not in ("NonIndexed", "Indexed"):
        causes.append(not_supported("spec.completionMode", mode, ["NonIndexed", "Indexed"]))
    if mode == "Indexed":
        if spec.get("completions") is None:
            causes.append(
                (
                    "FieldValueRequired",
                    "spec.completions",
                    "Required value: when completion mode is Indexed",
                )
            )
        elif isinstance(spec["completions"], int) and spec["completions"] > 100000:
            causes.append(
                invalid(
                    "spec.completions",
                    spec["completions"],
                    "must be less than or equal to 100000 when completion mode is Indexed",
                )
            )
    elif spec.get("backoffLimitPerIndex") is not None:
        causes.append(
            invalid(
                "spec.backoffLimitPerIndex",
                spec["backoffLimitPerIndex"],
                "requires indexed completion mode",
            )
        )
    if spec.get("maxFailedIndexes") is not None and spec.get("backoffLimitPerIndex") is None:
        causes.append(
            (
                "FieldValueRequired",
                "spec.backoffLimitPerIndex",
                "Required value: when maxFailedIndexes is specified",
            )
        )
    if spec.get("selector") is not None and not spec.get("manualSelector"):
        causes.append(invalid("spec.selector", "", "`selector` will be auto-generated"))
    template = spec.get("template")
    if not isinstance(template, dict):
        return causes + [required("spec.template")]
    template_meta = template.get("metadata") or {}
    causes += validate_labels(template_meta.get("labels"), "spec.template.metadata.labels")
    causes += validate_pod_spec(template.get("spec"), "spec.template.spec", ["OnFailure", "Never"])
    return causes


def describe(kind: str, name: str, causes: list[Cause]) -> str:
    """The API server's message for a 422: ``Job.batch "x" is invalid: field: message``."""
    parts = [f"{field}: {message}" for _, field, message in causes]
    text = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return f'{kind} "{name}" is invalid: {text}'
