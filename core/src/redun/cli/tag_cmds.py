"""``redun tag list|add|update|rm|history``: tags on executions, jobs, call nodes, tasks, values.

Output keeps redun's shapes: ``add tag Execution:<id> env="dev" n=3`` (one line
per record), ``Tags:`` followed by ``  key  (N Type)`` counts, and the
`redun log` line of each record a tag filter selects.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

import click

from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state

ID_ATTRS = {
    "Execution": "id",
    "Job": "id",
    "CallNode": "call_hash",
    "Task": "hash",
    "Value": "value_hash",
}
USAGE = {
    "add": "redun tag add ID... KEY=VALUE...",
    "update": "redun tag update ID... KEY=VALUE...",
    "rm": "redun tag rm ID... KEY[=VALUE]...",
}


def _parse_tag(text: str, value_required: bool) -> tuple[str, Any]:
    from redun.tags import parse_tag_key_value

    try:
        return parse_tag_key_value(text, value_required=value_required)
    except ValueError as error:
        raise CliError(f"Bad tag '{text}': {error}") from None


def _resolve(session: Any, record_id: str) -> tuple[Any, str, str]:
    """(TagEntity, entity id, type name) of an id, unique prefix, ``-``, ``~N`` or file path."""
    from redun.backends.base import TagEntity
    from redun.backends.db.models import File, Task
    from redun.backends.db.query import CallGraphQuery, FileMatch
    from redun.cli.log_cmd import find_record

    records = find_record(session, CallGraphQuery(session), record_id)
    if len(records) > 1:
        assert all(isinstance(record, Task) for record in records)
        raise CliError(
            f"Task name '{record_id}' has {len(records)} versions: give the task hash "
            "(see 'redun log --task --task-name NAME')."
        )
    record = records[0]
    if isinstance(record, FileMatch):
        record = record.file
    if isinstance(record, File):
        return TagEntity.Value, record.value_hash, "Value"
    type_name = type(record).__name__
    return TagEntity(type_name), getattr(record, ID_ATTRS[type_name]), type_name


def _is_record(session: Any, text: str) -> bool:
    """Whether `text` looks like an id and names a record (so ``tag rm ID key`` works)."""
    if not re.fullmatch(r"[0-9a-f][0-9a-f-]*|-|~\d+", text):
        return False
    try:
        _resolve(session, text)
    except CliError:
        return False
    return True


def _split(session: Any, args: tuple[str, ...], command: str) -> tuple[list[tuple], list[str]]:
    """Leading ids (resolved), then tag arguments.

    The first argument is always an id; later ones are ids while they name a
    record and contain no ``=`` (so ``tag rm ID key`` deletes the key).
    """
    rest = list(args)
    targets = []
    while rest and "=" not in rest[0] and (not targets or _is_record(session, rest[0])):
        targets.append(_resolve(session, rest.pop(0)))
    if not targets or not rest:
        raise CliError(f"Give record ids, then tags: {USAGE[command]}")
    return targets, rest


def _format_pairs(tags: list[tuple[str, Any]]) -> str:
    return " ".join(f"{key}={json.dumps(value, sort_keys=True)}" for key, value in tags)


@click.group("tag")
def tag() -> None:
    """List and edit tags; every edit is kept as history."""


@tag.command("list")
@click.option("--values", is_flag=True, help="Count each key=value pair, not only keys.")
@click.argument("filters", nargs=-1, metavar="[KEY[=VALUE]]...")
@pass_state
def list_(state: CliState, values: bool, filters: tuple[str, ...]) -> None:
    """Count current tags by key, or show the records carrying every KEY[=VALUE] given."""
    from sqlalchemy import select

    from redun.backends.db import Tag
    from redun.backends.db.query import CallGraphQuery
    from redun.cli.record_format import record_line
    from redun.tags import format_tag_key_value

    session = state.get_backend().session
    if filters:
        tags = [_parse_tag(text, value_required=False) for text in filters]
        for record in CallGraphQuery(session).order_by("time").filter_tags(tags).all():
            click.echo(record_line(record))
        return
    rows = session.execute(
        select(Tag.key, Tag.value, Tag.entity_type).where(
            Tag.is_current.is_(True), Tag.entity_type != "Null"
        )
    ).all()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, value, entity_type in rows:
        label = format_tag_key_value(key, value) if values else key
        counts[label][entity_type.name] += 1
    width = 30 if values else 10
    click.echo("Tags:")
    for label in sorted(counts):
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts[label].items()))
        click.echo(f"  {label:<{width}} ({kinds})")


@tag.command("add")
@click.argument("args", nargs=-1, required=True, metavar="ID... KEY=VALUE...")
@pass_state
def add(state: CliState, args: tuple[str, ...]) -> None:
    """Add tags to records (existing tags of the same key are kept)."""
    _write_tags(state, args, "add", new=True)


@tag.command("update")
@click.argument("args", nargs=-1, required=True, metavar="ID... KEY=VALUE...")
@pass_state
def update(state: CliState, args: tuple[str, ...]) -> None:
    """Replace the current tags of the same keys (the old ones stay in the history)."""
    _write_tags(state, args, "update", update=True)


def _write_tags(state: CliState, args: tuple[str, ...], action: str, **mode: bool) -> None:
    """`tag add` and `tag update`: the same parsing and output, another record mode."""
    backend = state.get_backend()
    targets, rest = _split(backend.session, args, action)
    tags = [_parse_tag(text, value_required=True) for text in rest]
    for entity_type, entity_id, type_name in targets:
        backend.record_tags(entity_type, entity_id, tags, **mode)
        click.echo(f"{action} tag {type_name}:{entity_id} {_format_pairs(tags)}")


@tag.command("rm")
@click.argument("args", nargs=-1, required=True, metavar="ID... KEY[=VALUE]...")
@pass_state
def rm(state: CliState, args: tuple[str, ...]) -> None:
    """Delete tags by KEY=VALUE, or every value of KEY."""
    from sqlalchemy import or_, select

    from redun.backends.db import Tag
    from redun.tags import ANY_VALUE

    backend = state.get_backend()
    session = backend.session
    targets, rest = _split(session, args, "rm")
    tags = [_parse_tag(text, value_required=False) for text in rest]
    keys = [key for key, value in tags if value is ANY_VALUE]
    pairs = [(key, value) for key, value in tags if value is not ANY_VALUE]
    for _, entity_id, type_name in targets:
        conditions = [Tag.key.in_(keys)] if keys else []
        conditions += [(Tag.key == key) & (Tag.value == value) for key, value in pairs]
        current = session.execute(
            select(Tag.key, Tag.value).where(
                Tag.entity_id == entity_id, Tag.is_current.is_(True), or_(*conditions)
            )
        ).all()
        if not current:
            click.echo(f"No matching tags on {type_name}:{entity_id}.")
            continue
        backend.delete_tags(entity_id, pairs, keys)
        deleted = sorted((key, value) for key, value in current)
        click.echo(f"delete tag {type_name}:{entity_id} {_format_pairs(deleted)}")


@tag.command("history")
@click.argument("record_id", metavar="ID")
@pass_state
def history(state: CliState, record_id: str) -> None:
    """Every tag ever set on ID, with what replaced or deleted it."""
    from sqlalchemy import select

    from redun.backends.db import Tag, TagEdit
    from redun.tags import format_tag_key_value

    session = state.get_backend().session
    _, entity_id, type_name = _resolve(session, record_id)
    tags = session.execute(select(Tag).where(Tag.entity_id == entity_id)).scalars().all()
    children: dict[str, list[Tag]] = {}
    for parent_id, child in session.execute(
        select(TagEdit.parent_id, Tag)
        .join(Tag, Tag.tag_hash == TagEdit.child_id)
        .where(TagEdit.parent_id.in_([row.tag_hash for row in tags]))
    ).all():
        children.setdefault(parent_id, []).append(child)
    click.echo(f"Tag history of {type_name}:{entity_id}")
    for row in sorted(tags, key=lambda t: (t.key, t.is_current)):
        state_text = "current" if row.is_current else _replaced_by(children.get(row.tag_hash))
        click.echo(
            f"  {row.tag_hash[:8]} {format_tag_key_value(row.key, row.value):40} {state_text}"
        )


def _replaced_by(children: list | None) -> str:
    if not children:
        return "superseded"
    if all(child.entity_type.name == "Null" for child in children):
        return "deleted"
    return "replaced by " + ", ".join(child.tag_hash[:8] for child in children)
