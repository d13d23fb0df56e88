"""The store's side of explaining cache misses: compare a call with earlier records.

One comparison (`compare_call`) serves both questions: why a call about to run
misses (``RedunBackendDb.explain_cache_miss``, for ``redun run --dryrun``) and
why a recorded job ran (`explain_job`, for ``redun explain`` and the console),
compared with what was recorded before that job started. The answer is always
a `redun.backends.reasons.MissReason`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from redun.backends.db.models import Argument, CallNode, File, Job, Subvalue, Task, Value
from redun.backends.db.status import ERROR_VALUE_TYPE
from redun.backends.reasons import (
    CACHED,
    FAILED_BEFORE,
    INVALID_RESULT,
    NEVER_RUN,
    NEW_ARGS,
    NEW_TASK,
    NO_RECORD,
    NOT_REUSED,
    ArgChange,
    ArgInfo,
    FileChange,
    MissReason,
    arg_name,
    invalid_files,
    param_names_from_source,
    preview,
)

# How many earlier calls of a task are compared to find the closest one, and
# how many equally close ones are described to prefer a same-path File change.
CANDIDATE_CALLS = 50
TIE_CANDIDATES = 5


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
        found[call_hash][arg_name(position, key, params)] = ArgInfo(value_hash)
    return found


def _value_text(session: Session, value_hash: str) -> str:
    value = session.get(Value, value_hash)
    if value is None:
        return f"<value {value_hash[:8]}>"
    try:
        return preview(value.preview)
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


def _result_file_changes(
    session: Session, previous: CallNode, current_result_hash: str | None
) -> list[FileChange]:
    """Files of a previous result that differ in the current result (or on disk, if none)."""
    if current_result_hash is None:
        try:
            return invalid_files(previous.value.value_parsed)
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
        previous_args_hash=previous.args_hash,
    )


def explain_job(session: Session, job_id: str) -> MissReason | None:
    """Why a recorded job ran (or, if cached, whose result it reused); None if unknown.

    The job is compared with what the store held when it started, so the
    answer is the one ``redun run --dryrun`` gave just before that run.
    """
    job = session.get(Job, job_id)
    if job is None:
        return None
    task = job.task
    task_name = task.fullname if task is not None else ""
    if job.cached:
        return MissReason(
            CACHED,
            task_name,
            job.task_hash,
            previous_call_hash=job.call_hash,
            previous_job_id=_job_that_made(session, job),
        )
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
        # This very call (same code, arguments and result) was recorded earlier: it
        # failed then too (errors are not reused), or caching was off.
        kind = FAILED_BEFORE if node.value.type == ERROR_VALUE_TYPE else NOT_REUSED
        return MissReason(kind, task_name, job.task_hash, previous_call_hash=node.call_hash)
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


def _job_that_made(session: Session, job: Job) -> str | None:
    """The latest job before `job` that ran (not cached) and made its call."""
    if job.call_hash is None:
        return None
    stmt = (
        select(Job.id)
        .where(
            Job.call_hash == job.call_hash,
            Job.cached.is_(False),
            Job.start_time <= job.start_time,
            Job.id != job.id,
        )
        .order_by(Job.start_time.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()
