"""Why a job missed the cache: the one reason type every consumer shows.

redun's dryrun says only "new task" or "new arguments". Here every miss names
its cause: the previous task hash when the code changed, each argument that
changed (with old and new value), each File input or output that changed or
vanished (with its path), a previous failure, or a call never made before.

A state store finds the reason (``RedunBackend.explain_cache_miss`` for a call
about to run; the SQL store's read model for a recorded job); `redun run
--dryrun`, `redun explain` and the console only print `MissReason.message()`.
This module holds the reason type and what can be learnt from live values
without a store: the arguments of a call, and the Files of a result that
changed since they were hashed.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redun.utils import trim_string

PREVIEW_LENGTH = 60

NEVER_RUN = "never_run"
NEW_TASK = "new_task"
NEW_ARGS = "new_args"
INVALID_RESULT = "invalid_result"
FAILED_BEFORE = "failed_before"
NOT_REUSED = "not_reused"
CACHED = "cached"
NO_RECORD = "no_record"


@dataclass(frozen=True)
class ArgInfo:
    """One argument of a call: its value hash and, for live values, a repr and its Files.

    Recorded arguments carry only the hash; they are described from the
    database when (and only when) they turn out to have changed.
    """

    value_hash: str
    text: str | None = None
    files: Mapping[str, str] | None = None  # path -> file value hash
    missing: frozenset[str] = frozenset()  # paths of Files that no longer exist


@dataclass(frozen=True)
class ArgChange:
    name: str
    old: str | None  # None: the argument was not passed before
    new: str | None  # None: the argument is not passed now
    file_only: bool = False  # a File at the same path whose contents changed


@dataclass(frozen=True)
class FileChange:
    path: str
    role: str  # "input" | "output"
    state: str  # "changed" | "vanished"


@dataclass(frozen=True)
class MissReason:
    """The cause of one cache miss (or, for `redun explain`, of one cache hit)."""

    kind: str
    task_name: str
    task_hash: str
    previous_task_hash: str | None = None
    previous_call_hash: str | None = None
    args: tuple[ArgChange, ...] = ()
    files: tuple[FileChange, ...] = ()
    # The earlier job that made `previous_call_hash`, when the store knows it.
    previous_job_id: str | None = None
    # The arguments hash of the call compared against (for redun's wording).
    previous_args_hash: str | None = None

    def message(self) -> str:
        """One sentence for a log line."""
        if self.kind == NEVER_RUN:
            return f"Never run before: no earlier call of task '{self.task_name}'."
        if self.kind == CACHED:
            made_by = f" made by job {_short(self.previous_job_id)}" if self.previous_job_id else ""
            return f"Cached: reused call {_short(self.previous_call_hash)}{made_by}."
        if self.kind == NO_RECORD:
            return (
                f"Not recorded: job of '{self.task_name}' has no call record "
                "(it did not finish, or it was a dryrun)."
            )
        if self.kind == FAILED_BEFORE:
            return (
                f"Previous identical call {_short(self.previous_call_hash)} failed; "
                "errors are not reused from the cache."
            )
        if self.kind == NOT_REUSED:
            return (
                f"Identical call {_short(self.previous_call_hash)} was recorded before, "
                "but caching was off for this job (--no-cache, cache=False, or cache_scope)."
            )
        parts = []
        if self.kind == NEW_TASK:
            parts.append(
                f"New task code for '{self.task_name}' "
                f"(task_hash {_short(self.previous_task_hash)} --> {_short(self.task_hash)})"
            )
        if self.files:
            parts.extend(_file_text(change) for change in self.files)
        changed_values = [change for change in self.args if not change.file_only]
        if changed_values:
            parts.append("new arguments: " + ", ".join(map(_arg_text, changed_values)))
        elif self.kind == NEW_TASK and not self.files:
            parts.append("same arguments as before")
        if self.kind == INVALID_RESULT:
            prefix = "Cached result is no longer valid"
            return f"{prefix}: {'; '.join(parts)}." if parts else f"{prefix}."
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    def redun_message(self, args_hash: str) -> str | None:
        """The line redun 0.44 logs for this miss, or None where it logs none.

        ``redun run --dryrun`` prints it first, so scripts reading redun's
        lines keep working; `message` follows with the precise reason.
        """
        task, task_hash, args = self.task_name, _short(self.task_hash), _short(args_hash)
        if self.kind == NEW_TASK and not self.args and not self.files:
            return (
                f"New task '{task}()' with previous arguments "
                f"(task_hash={_short(self.previous_task_hash)} --> {task_hash}, args_hash={args})."
            )
        if self.kind == NEW_ARGS and self.previous_args_hash:
            return (
                f"Existing task '{task}()' is called with new arguments (task_hash={task_hash}, "
                f"args_hash={_short(self.previous_args_hash)} --> {args})."
            )
        if self.kind in (NEVER_RUN, NEW_TASK, NEW_ARGS):
            return (
                f"New task '{task}()' is called with new arguments "
                f"(task_hash={task_hash}, args_hash={args})."
            )
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.kind,
            "message": self.message(),
            "task_name": self.task_name,
            "task_hash": self.task_hash,
            "previous_task_hash": self.previous_task_hash,
            "previous_call_hash": self.previous_call_hash,
            "previous_job_id": self.previous_job_id,
            "changed_arguments": [
                {"name": change.name, "old": change.old, "new": change.new} for change in self.args
            ],
            "files": [
                {"path": change.path, "role": change.role, "state": change.state}
                for change in self.files
            ],
        }


def _short(value: str | None) -> str:
    return value[:8] if value else "?"


def _file_text(change: FileChange) -> str:
    return f"File {change.role} '{change.path}' {change.state}"


def _arg_text(change: ArgChange) -> str:
    if change.old is None:
        return f"{change.name} added ({change.new})"
    if change.new is None:
        return f"{change.name} removed (was {change.old})"
    return f"{change.name} changed ({change.old} --> {change.new})"


def preview(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as error:  # a value's own repr must not break an explanation
        text = f"<{type(value).__name__}: repr failed ({type(error).__name__})>"
    return trim_string(text, PREVIEW_LENGTH)


def param_names_from_source(source: str) -> list[str]:
    """Positional parameter names of the task function whose source was recorded."""
    try:
        tree = ast.parse(source.strip() + "\n")
    except SyntaxError:
        return []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return [arg.arg for arg in (*node.args.posonlyargs, *node.args.args)]
    return []


def arg_name(position: int | None, key: str | None, params: Sequence[str]) -> str:
    if key is not None:
        return key
    assert position is not None
    return params[position] if position < len(params) else f"arg{position}"


def invalid_files(result: Any) -> list[FileChange]:
    """Files in a (decoded) result that changed or vanished since they were hashed."""
    from redun.file import File as FileValue
    from redun.utils import iter_nested_value

    changes = []
    for item in iter_nested_value(result):
        if isinstance(item, FileValue) and not item.is_valid():
            state = "changed" if item.exists() else "vanished"
            changes.append(FileChange(item.path, "output", state))
    return changes


def _live_arg(value: Any, type_registry: Any) -> ArgInfo:
    from redun.file import File as FileValue
    from redun.utils import iter_nested_value

    files: dict[str, str] = {}
    missing = set()
    for item in iter_nested_value(value):
        if isinstance(item, FileValue):
            files[item.path] = type_registry.get_hash(item)
            if not item.exists():
                missing.add(item.path)
    return ArgInfo(type_registry.get_hash(value), preview(value), files, frozenset(missing))


def live_call_args(
    task: Any, args: Sequence[Any], kwargs: Mapping[str, Any], type_registry: Any
) -> tuple[dict[str, ArgInfo], list[str]]:
    """Arguments of a call about to run, named by the task's signature, and those names."""
    params = [
        p.name
        for p in task.signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    named = {
        arg_name(position, None, params): _live_arg(value, type_registry)
        for position, value in enumerate(args)
    }
    named.update({key: _live_arg(value, type_registry) for key, value in kwargs.items()})
    return named, params


def explain_invalid_result(task: Any, result: Any, call_hash: str | None = None) -> MissReason:
    """Why a cached `result` of `task` cannot be reused: the Files in it that changed."""
    return MissReason(
        INVALID_RESULT,
        task.fullname,
        task.hash,
        previous_call_hash=call_hash,
        files=tuple(invalid_files(result)),
    )
