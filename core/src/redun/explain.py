"""Why a job's cache lookup missed, precise enough to act on.

redun's dryrun says only "new task" or "new arguments". Here every miss names
its cause: the previous task hash when the code changed, each argument that
changed (with old and new value), each File input or output that changed or
vanished (with its path), a previous failure, or a call never made before.

Two entry points share one comparison: `explain_call` for a call about to run
(``redun run --dryrun``, from live Python values) and `explain_recorded_job`
for a job in the database (``redun explain``), compared with what was
recorded before that job started.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from redun.backends.db.models import (
    ERROR_VALUE_TYPE,
    Argument,
    CallNode,
    File,
    Job,
    Subvalue,
    Value,
)
from redun.utils import trim_string

# How many earlier calls of a task are compared to find the closest one.
CANDIDATE_CALLS = 50
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
    """One argument of a call: its value hash, a short repr, and the Files inside it."""

    value_hash: str
    text: str
    files: Mapping[str, str] = field(default_factory=dict)  # path -> file value hash
    missing: frozenset[str] = frozenset()  # paths of Files that no longer exist


@dataclass(frozen=True)
class ArgChange:
    name: str
    old: str | None  # None: the argument was not passed before
    new: str | None  # None: the argument is not passed now


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

    def message(self) -> str:
        """One sentence for a log line."""
        if self.kind == NEVER_RUN:
            return f"Never run before: no earlier call of task '{self.task_name}'."
        if self.kind == CACHED:
            return f"Cached: reused call {_short(self.previous_call_hash)}."
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
        changed_values = [
            change for change in self.args if not _file_only_change(change, self.files)
        ]
        if changed_values:
            parts.append("new arguments: " + ", ".join(map(_arg_text, changed_values)))
        elif self.kind == NEW_TASK and not self.files:
            parts.append("same arguments as before")
        if self.kind == INVALID_RESULT:
            prefix = "Cached result is no longer valid"
            return f"{prefix}: {'; '.join(parts)}." if parts else f"{prefix}."
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.kind,
            "message": self.message(),
            "task_name": self.task_name,
            "task_hash": self.task_hash,
            "previous_task_hash": self.previous_task_hash,
            "previous_call_hash": self.previous_call_hash,
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


def _file_only_change(change: ArgChange, files: Sequence[FileChange]) -> bool:
    """An argument that differs only because a File inside it changed is said once."""
    return (
        change.old is not None
        and change.new is not None
        and any(f.role == "input" and f.path in change.new for f in files)
    )


def _preview(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as error:  # a value's own repr must not break an explanation
        text = f"<{type(value).__name__}: repr failed ({type(error).__name__})>"
    return trim_string(text, PREVIEW_LENGTH)


# -- the comparison -------------------------------------------------------------------


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


def _arg_name(position: int | None, key: str | None, params: Sequence[str]) -> str:
    if key is not None:
        return key
    assert position is not None
    return params[position] if position < len(params) else f"arg{position}"


def _recorded_args(session: Session, call_hash: str, params: Sequence[str]) -> dict[str, ArgInfo]:
    """The arguments of a recorded call, by parameter name."""
    rows = session.execute(
        select(Argument.arg_position, Argument.arg_key, Value)
        .join(Value, Value.value_hash == Argument.value_hash)
        .where(Argument.call_hash == call_hash)
    ).all()
    return {
        _arg_name(position, key, params): ArgInfo(
            value.value_hash, _row_preview(value), _recorded_files(session, value.value_hash)
        )
        for position, key, value in rows
    }


def _row_preview(value: Value) -> str:
    try:
        return _preview(value.preview)
    except Exception:  # undecodable values are described by their type
        return f"<{value.type}>"


def _recorded_files(session: Session, value_hash: str) -> dict[str, str]:
    """Files recorded as this value or inside it: path -> file value hash."""
    nested = select(Subvalue.value_hash).where(Subvalue.parent_value_hash == value_hash)
    rows = session.execute(
        select(File.path, File.value_hash).where(
            (File.value_hash == value_hash) | File.value_hash.in_(nested)
        )
    ).all()
    return {path: file_hash for path, file_hash in rows}


def _earlier_calls(
    session: Session, task_name: str, before: datetime | None, exclude: str | None
) -> list[CallNode]:
    stmt = select(CallNode).where(CallNode.task_name == task_name)
    if before is not None:
        stmt = stmt.where(CallNode.timestamp < before)
    if exclude is not None:
        stmt = stmt.where(CallNode.call_hash != exclude)
    stmt = stmt.order_by(CallNode.timestamp.desc()).limit(CANDIDATE_CALLS)
    return list(session.execute(stmt).scalars())


def _arg_changes(
    old: Mapping[str, ArgInfo], new: Mapping[str, ArgInfo]
) -> tuple[list[ArgChange], list[FileChange]]:
    changes = []
    files = []
    for name in sorted(set(old) | set(new)):
        before, now = old.get(name), new.get(name)
        if before is not None and now is not None and before.value_hash == now.value_hash:
            if now.missing:
                files.extend(FileChange(path, "input", "vanished") for path in sorted(now.missing))
            continue
        changes.append(ArgChange(name, before.text if before else None, now.text if now else None))
        if before is not None and now is not None:
            for path, file_hash in sorted(now.files.items()):
                if path in now.missing:
                    files.append(FileChange(path, "input", "vanished"))
                elif path in before.files and before.files[path] != file_hash:
                    files.append(FileChange(path, "input", "changed"))
    return changes, files


def _invalid_files(result: Any) -> list[FileChange]:
    """Files in a (decoded) result that changed or vanished since they were hashed."""
    from redun.file import File as FileValue
    from redun.utils import iter_nested_value

    changes = []
    for item in iter_nested_value(result):
        if isinstance(item, FileValue) and not item.is_valid():
            state = "changed" if item.exists() else "vanished"
            changes.append(FileChange(item.path, "output", state))
    return changes


def _result_file_changes(
    session: Session, previous: CallNode, current_result_hash: str | None
) -> list[FileChange]:
    """Files of a previous result that differ in the current result (or on disk, if none)."""
    if current_result_hash is None:
        try:
            return _invalid_files(previous.value.value_parsed)
        except Exception:  # a result that cannot be decoded here cannot be checked
            return []
    old_files = _recorded_files(session, previous.value_hash)
    new_files = _recorded_files(session, current_result_hash)
    return [
        FileChange(path, "output", "changed")
        for path, file_hash in sorted(old_files.items())
        if path in new_files and new_files[path] != file_hash
    ]


def compare_call(
    session: Session,
    task_name: str,
    task_hash: str,
    args_hash: str,
    args: Mapping[str, ArgInfo],
    params: Sequence[str],
    before: datetime | None = None,
    exclude_call: str | None = None,
    result_hash: str | None = None,
) -> MissReason:
    """Why this call was not served from the calls recorded earlier.

    The previous call compared against is the closest one: an identical call
    first, then one with the same arguments (so the code changed), then the
    same code with the fewest changed arguments, then the most recent call.
    """
    calls = _earlier_calls(session, task_name, before, exclude_call)
    if not calls:
        return MissReason(NEVER_RUN, task_name, task_hash)
    identical = [c for c in calls if c.task_hash == task_hash and c.args_hash == args_hash]
    if identical:
        previous = identical[0]
        if previous.value.type == ERROR_VALUE_TYPE:
            return MissReason(
                FAILED_BEFORE, task_name, task_hash, previous_call_hash=previous.call_hash
            )
        files = _result_file_changes(session, previous, result_hash)
        kind = INVALID_RESULT if files else NOT_REUSED
        return MissReason(
            kind, task_name, task_hash, previous_call_hash=previous.call_hash, files=tuple(files)
        )
    same_args = [c for c in calls if c.args_hash == args_hash]
    if same_args:
        previous = same_args[0]
        return MissReason(
            NEW_TASK,
            task_name,
            task_hash,
            previous_task_hash=previous.task_hash,
            previous_call_hash=previous.call_hash,
        )
    same_task = [c for c in calls if c.task_hash == task_hash]
    candidates = same_task or calls
    # Fewest changed arguments wins; on a tie, a File whose path stayed the same
    # (its contents changed) is the closer match. Candidates are newest first.
    best: tuple[tuple[int, int], CallNode, list[ArgChange], list[FileChange]] | None = None
    for call in candidates:
        changes, files = _arg_changes(_recorded_args(session, call.call_hash, params), args)
        score = (len(changes), -len(files))
        if best is None or score < best[0]:
            best = (score, call, changes, files)
    assert best is not None
    _, previous, changes, files = best
    return MissReason(
        NEW_ARGS if same_task else NEW_TASK,
        task_name,
        task_hash,
        previous_task_hash=previous.task_hash,
        previous_call_hash=previous.call_hash,
        args=tuple(changes),
        files=tuple(files),
    )


# -- a call about to run (dryrun) -----------------------------------------------------


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
    return ArgInfo(type_registry.get_hash(value), _preview(value), files, frozenset(missing))


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
        _arg_name(position, None, params): _live_arg(value, type_registry)
        for position, value in enumerate(args)
    }
    named.update({key: _live_arg(value, type_registry) for key, value in kwargs.items()})
    return named, params


def explain_call(
    session: Session,
    task: Any,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    type_registry: Any,
    args_hash: str | None = None,
) -> MissReason:
    """Why calling `task(*args, **kwargs)` now misses the cache.

    `args_hash` is the job's (it leaves out ``config_args``); computed here
    when not given.
    """
    from redun.hashing import hash_arguments

    if args_hash is None:
        args_hash = hash_arguments(type_registry, list(args), dict(kwargs))
    named, params = live_call_args(task, args, kwargs, type_registry)
    return compare_call(session, task.fullname, task.hash, args_hash, named, params)


def explain_invalid_result(task: Any, result: Any, call_hash: str | None = None) -> MissReason:
    """Why a cached `result` of `task` cannot be reused: the Files in it that changed."""
    return MissReason(
        INVALID_RESULT,
        task.fullname,
        task.hash,
        previous_call_hash=call_hash,
        files=tuple(_invalid_files(result)),
    )


# -- a job in the database (redun explain) --------------------------------------------


def explain_recorded_job(session: Session, job: Job) -> MissReason:
    """Why a recorded job ran instead of reusing what was recorded before it started."""
    task = job.task
    task_name = task.fullname if task is not None else ""
    if job.cached:
        return MissReason(CACHED, task_name, job.task_hash, previous_call_hash=job.call_hash)
    params = param_names_from_source(task.source) if task is not None else []
    node = job.call_node
    if node is None:
        calls = _earlier_calls(session, task_name, job.start_time, None)
        if not calls:
            return MissReason(NEVER_RUN, task_name, job.task_hash)
        if all(call.task_hash != job.task_hash for call in calls):
            return MissReason(
                NEW_TASK, task_name, job.task_hash, previous_task_hash=calls[0].task_hash
            )
        return MissReason(NO_RECORD, task_name, job.task_hash)
    if node.timestamp < job.start_time:
        # This very call (same code, arguments and result) was recorded earlier.
        return MissReason(NOT_REUSED, task_name, job.task_hash, previous_call_hash=node.call_hash)
    args = _recorded_args(session, node.call_hash, params)
    return compare_call(
        session,
        task_name or node.task_name,
        node.task_hash,
        node.args_hash,
        args,
        params,
        before=job.start_time,
        exclude_call=node.call_hash,
        result_hash=node.value_hash,
    )
