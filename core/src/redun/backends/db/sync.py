"""Moving records between databases: export/import as JSON lines, push and pull."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO

from sqlalchemy import select

from redun.backends.db.backend import RedunBackendDb
from redun.backends.db.errors import RedunDatabaseError
from redun.backends.db.models import Execution


def all_execution_ids(backend: RedunBackendDb) -> list[str]:
    return list(backend.session.execute(select(Execution.id).order_by(Execution.id)).scalars())


def resolve_root_ids(backend: RedunBackendDb, ids: Iterable[str]) -> list[str]:
    """Full record ids for the given ids or unique id prefixes (default: every execution)."""
    from redun.backends.db.query import CallGraphQuery

    ids = list(ids)
    if not ids:
        return all_execution_ids(backend)
    resolved = []
    for record_id in ids:
        matches = list(CallGraphQuery(backend.session).like_id(record_id).select("id", flat=True))
        if not matches:
            raise RedunDatabaseError(f"No record with id (or id prefix) '{record_id}'.")
        resolved.extend(dict.fromkeys(matches))
    return resolved


def export_records(backend: RedunBackendDb, root_ids: Iterable[str], out: IO[str]) -> int:
    """Write every record reachable from `root_ids` as JSON lines; return how many."""
    ids = list(backend.iter_record_ids(resolve_root_ids(backend, root_ids)))
    written = 0
    for record in backend.get_records(ids):
        out.write(json.dumps(record, sort_keys=True) + "\n")
        written += 1
    return written


def read_records(lines: Iterable[str]) -> Iterator[dict]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise RedunDatabaseError(
                f"Line {number} is not a JSON record ({error.msg}): use a file from 'redun export'."
            ) from None
        if not isinstance(record, dict) or "_type" not in record:
            raise RedunDatabaseError(
                f"Line {number} is not a redun record (no _type): use a file from 'redun export'."
            )
        yield record


def sync_records(source: RedunBackendDb, dest: RedunBackendDb, root_ids: Iterable[str] = ()) -> int:
    """Copy the records reachable from `root_ids` that `dest` lacks; return how many."""
    ids = list(source.iter_record_ids(resolve_root_ids(source, root_ids)))
    present = set(dest.has_records(ids))
    missing = [record_id for record_id in ids if record_id not in present]
    if not missing:
        return 0
    return dest.put_records(source.get_records(missing))
