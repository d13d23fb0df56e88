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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from redun.backends.db.models import (
    Argument,
    CallNode,
    File,
    Job,
    Subvalue,
    Task,
    Value,
)
from redun.backends.db.status import ERROR_VALUE_TYPE
from redun.utils import trim_string

# How many earlier calls of a task are compared to find the closest one, and
# how many equally close ones are described to prefer a same-path File change.
CANDIDATE_CALLS = 50
TIE_CANDIDATES = 5
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


def _recorded_args(
    session: Session, call_hashes: Sequence[str], params: Sequence[str]
) -> dict[str, dict[str, ArgInfo]]:
    """Argument value hashes of recorded calls (one query): call -> name -> ArgInfo."""
    found: dict[str, dict[str, ArgInfo]] = {call_hash: {} for call_hash in call_hashes}
    rows = session.execute(
        select(
            Argument.call_hash, Argument.arg_position, Argument.arg_key, Argument.value_hash
        ).where(Argument.call_hash.in_(list(call_hashes)))
    ).all()
    for call_hash, position, key, value_hash in rows:
        found[call_hash][_arg_name(position, key, params)] = ArgInfo(value_hash)
    return found


def _value_text(session: Session, value_hash: str) -> str:
    value = session.get(Value, value_hash)
    if value is None:
        return f"<value {value_hash[:8]}>"
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


def _task_versions(session: Session, task_name: str) -> Any:
    """Hashes of every recorded version of a task (indexed, unlike call_node.task_name)."""
    namespace, _, name = task_name.rpartition(".")
    return select(Task.hash).where(Task.name == name, Task.namespace == namespace)


def _calls(
    session: Session,
    condition: Any,
    before: datetime | None,
    exclude: str | None,
    limit: int,
) -> list[CallNode]:
    stmt = select(CallNode).where(condition)
    if before is not None:
        stmt = stmt.where(CallNode.timestamp < before)
    if exclude is not None:
        stmt = stmt.where(CallNode.call_hash != exclude)
    stmt = stmt.order_by(CallNode.timestamp.desc()).limit(limit)
    return list(session.execute(stmt).scalars())


def _changed_names(old: Mapping[str, ArgInfo], new: Mapping[str, ArgInfo]) -> list[str]:
    names = sorted(set(old) | set(new))
    return [
        name
        for name in names
        if name not in old or name not in new or old[name].value_hash != new[name].value_hash
    ]


def _has_files(session: Session, arg: ArgInfo | None) -> bool:
    if arg is None:
        return False
    if arg.files is not None:
        return bool(arg.files)
    return bool(_recorded_files(session, arg.value_hash))


def _describe_changes(
    session: Session, old: Mapping[str, ArgInfo], new: Mapping[str, ArgInfo]
) -> tuple[list[ArgChange], list[FileChange], int]:
    """Each changed argument with old and new value, each changed File inside, and how
    many of those Files kept their path (the closeness of this earlier call)."""
    changes = []
    files = []
    same_path = 0
    for name in sorted(set(old) | set(new)):
        before, now = old.get(name), new.get(name)
        if before is not None and now is not None and before.value_hash == now.value_hash:
            files.extend(FileChange(path, "input", "vanished") for path in sorted(now.missing))
            continue
        old_text = _value_text(session, before.value_hash) if before else None
        new_text = None
        file_only = False
        if now is not None:
            new_text = now.text if now.text is not None else _value_text(session, now.value_hash)
        if before is not None and now is not None:
            old_files = _recorded_files(session, before.value_hash)
            new_files = (
                now.files if now.files is not None else _recorded_files(session, now.value_hash)
            )
            for path, file_hash in sorted(new_files.items()):
                same_path += path in old_files
                if path in now.missing:
                    files.append(FileChange(path, "input", "vanished"))
                elif path in old_files and old_files[path] != file_hash:
                    files.append(FileChange(path, "input", "changed"))
            # A File argument whose path stayed the same: the File change says it all.
            file_only = (
                len(old_files) == 1
                and old_files.keys() == new_files.keys()
                and before.value_hash in old_files.values()
            )
        changes.append(ArgChange(name, old_text, new_text, file_only))
    return changes, files, same_path


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
    same code with the fewest changed arguments, then any version of the task.
    Each step is an indexed lookup.
    """
    same = CallNode.task_hash == task_hash
    identical = _calls(session, same & (CallNode.args_hash == args_hash), before, exclude_call, 1)
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
    versions = CallNode.task_hash.in_(_task_versions(session, task_name))
    same_args = _calls(session, versions & (CallNode.args_hash == args_hash), before, None, 1)
    if same_args:
        return MissReason(
            NEW_TASK,
            task_name,
            task_hash,
            previous_task_hash=same_args[0].task_hash,
            previous_call_hash=same_args[0].call_hash,
        )
    candidates = _calls(session, same, before, exclude_call, CANDIDATE_CALLS)
    kind = NEW_ARGS
    if not candidates:
        kind = NEW_TASK
        candidates = _calls(session, versions, before, exclude_call, CANDIDATE_CALLS)
    if not candidates:
        return MissReason(NEVER_RUN, task_name, task_hash)
    recorded = _recorded_args(session, [call.call_hash for call in candidates], params)
    # Fewest changed arguments wins; among those (newest first), the one whose
    # changed Files kept their path is the closer match.
    changed = {c.call_hash: _changed_names(recorded[c.call_hash], args) for c in candidates}
    fewest = min(len(names) for names in changed.values())
    tied = [c for c in candidates if len(changed[c.call_hash]) == fewest]
    names = {name for call in tied for name in changed[call.call_hash]}
    if not any(_has_files(session, args.get(name)) for name in names):
        tied = tied[:1]
    best = None
    for call in tied[:TIE_CANDIDATES]:
        changes, files, same_path = _describe_changes(session, recorded[call.call_hash], args)
        if best is None or same_path > best[3]:
            best = (call, changes, files, same_path)
    assert best is not None
    previous, changes, files, _ = best
    return MissReason(
        kind,
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
        versions = CallNode.task_hash.in_(_task_versions(session, task_name))
        calls = _calls(session, versions, job.start_time, None, CANDIDATE_CALLS)
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
    args = _recorded_args(session, [node.call_hash], params)[node.call_hash]
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
