"""Turn ``--arg value`` words into a task's arguments, typed by its signature.

Mirrors redun: each parameter ``p_name`` becomes ``--p-name``; the value is
parsed by the annotation through the type registry (int, float, str, bool,
Enum, File, Dir, any Value with ``parse_arg``); ``list[T]`` takes one or more
words; ``Optional[T]`` parses as T; no annotation means str.
"""

from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from redun.errors import RedunError


class TaskArgumentError(RedunError):
    """A task argument on the command line is unknown, missing or malformed."""


@dataclass(frozen=True)
class ParamSpec:
    """How one task parameter is read from the command line."""

    name: str
    option: str
    value_type: Any
    is_list: bool
    required: bool
    default: Any
    kind: inspect._ParameterKind

    @property
    def type_label(self) -> str:
        label = getattr(self.value_type, "__name__", str(self.value_type))
        if isinstance(self.value_type, type) and issubclass(self.value_type, Enum):
            label = f"one of {', '.join(m.name for m in self.value_type)}"
        return f"list of {label}" if self.is_list else label


def _unwrap_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _param_type(annotation: Any) -> tuple[Any, bool]:
    """(element type, is_list) for an annotation."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return str, False
    annotation = _unwrap_optional(annotation)
    if annotation is list:
        return str, True
    if typing.get_origin(annotation) in (list, typing.List):  # noqa: UP006
        args = typing.get_args(annotation)
        return (_unwrap_optional(args[0]) if args else str), True
    return annotation, False


def task_params(task: Any) -> list[ParamSpec]:
    """The command-line view of a task's signature (JobInfo and *args excluded)."""
    signature = task.signature
    func = getattr(task, "func", None)
    try:
        hints = typing.get_type_hints(func) if func is not None else {}
    except Exception:
        hints = {}
    params = []
    for name, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(name, param.annotation)
        if getattr(annotation, "__name__", "") == "JobInfo":
            continue
        value_type, is_list = _param_type(annotation)
        params.append(
            ParamSpec(
                name=name,
                option="--" + name.replace("_", "-"),
                value_type=value_type,
                is_list=is_list,
                required=param.default is inspect.Parameter.empty,
                default=param.default,
                kind=param.kind,
            )
        )
    return params


def parse_value(task_name: str, spec: ParamSpec, word: str) -> Any:
    from redun.value import get_type_registry

    value_type = spec.value_type
    try:
        if value_type is str:
            return word
        if not callable(value_type):
            raise TypeError(f"cannot parse arguments of type {value_type!r}")
        return get_type_registry().parse_arg(value_type, word)
    except Exception as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise TaskArgumentError(
            f"task '{task_name}': invalid value {word!r} for {spec.option}: expected "
            f"{spec.type_label} ({detail})"
        ) from None


def parse_task_args(
    task_name: str,
    params: list[ParamSpec],
    words: list[str],
    defaults_given: set[str] = frozenset(),
) -> dict[str, Any]:
    """Parse words into keyword arguments; `defaults_given` names args supplied elsewhere."""
    by_option = {p.option: p for p in params}
    values: dict[str, Any] = {}
    index = 0
    while index < len(words):
        word = words[index]
        option, eq, inline = word.partition("=")
        spec = by_option.get(option)
        if spec is None:
            known = ", ".join(by_option) or "none"
            raise TaskArgumentError(
                f"task '{task_name}' has no argument {option!r} (arguments: {known})"
            )
        index += 1
        raw: list[str] = [inline] if eq else []
        while not eq and index < len(words) and not words[index].startswith("--"):
            raw.append(words[index])
            index += 1
            if not spec.is_list:
                break
        if not raw:
            if spec.value_type is bool and not spec.is_list:
                raw = ["true"]
            else:
                raise TaskArgumentError(
                    f"task '{task_name}': {spec.option} needs a value ({spec.type_label})"
                )
        if spec.is_list:
            values[spec.name] = [parse_value(task_name, spec, w) for w in raw]
        else:
            values[spec.name] = parse_value(task_name, spec, raw[0])
    missing = [
        p.option
        for p in params
        if p.required and p.name not in values and p.name not in defaults_given
    ]
    if missing:
        raise TaskArgumentError(
            f"task '{task_name}' needs {', '.join(missing)} (see 'redun run FILE {task_name} help')"
        )
    return values


def split_call_args(params: list[ParamSpec], values: dict[str, Any]) -> tuple[list, dict]:
    """Positional-only parameters go positionally; the rest by keyword."""
    args = []
    kwargs = {}
    for spec in params:
        if spec.name not in values:
            continue
        if spec.kind == inspect.Parameter.POSITIONAL_ONLY:
            args.append(values[spec.name])
        else:
            kwargs[spec.name] = values[spec.name]
    return args, kwargs


def format_task_help(task: Any) -> str:
    """Usage, docstring and arguments of a task, for ``redun run FILE TASK help``."""
    params = task_params(task)
    usage = " ".join(
        f"{p.option} {p.name.upper()}{' ...' if p.is_list else ''}"
        if p.required
        else f"[{p.option} {p.name.upper()}{' ...' if p.is_list else ''}]"
        for p in params
    )
    lines = [f"Usage: redun run FILE {task.fullname} {usage}".rstrip(), ""]
    doc = inspect.getdoc(task.func) if getattr(task, "func", None) else None
    if doc:
        lines += [doc, ""]
    if params:
        lines.append("Arguments:")
        for p in params:
            default = "" if p.required else f" (default: {p.default!r})"
            lines.append(f"  {p.option} {p.type_label}{default}")
    return "\n".join(lines)
