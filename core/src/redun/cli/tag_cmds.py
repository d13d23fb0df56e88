"""``redun tag list|add|update|rm|history``: tags on executions, jobs, call nodes, tasks, values."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click

from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state

ENTITY_PKS = {
    "Execution": "id",
    "Job": "id",
    "CallNode": "call_hash",
    "Task": "hash",
    "Value": "value_hash",
}


def _split(args: tuple[str, ...]) -> tuple[list[str], list[tuple]]:
    """Arguments with ``=`` are tags, the others record ids."""
    from redun.tags import parse_tag_key_value

    ids = [arg for arg in args if "=" not in arg]
    try:
        tags = [parse_tag_key_value(arg) for arg in args if "=" in arg]
    except ValueError as error:
        raise CliError(str(error)) from None
    if not ids or not tags:
        raise CliError("Give record ids and tags: ID... key=value...")
    return ids, tags


def _resolve(backend: Any, record_id: str) -> tuple[Any, str, str]:
    """(TagEntity, entity id, type name) of a record id, unique id prefix, ``-`` or ``~N``."""
    from redun.backends.base import TagEntity
    from redun.backends.db.query import CallGraphQuery, QueryError, infer_specialty_id

    try:
        special = infer_specialty_id(backend.session, record_id, include_files=False)
    except QueryError as error:
        raise CliError(str(error)) from None
    if special is not None:
        return TagEntity.Execution, special.id, "Execution"
    matches = list(CallGraphQuery(backend.session).like_id(record_id).limit(2))
    if not matches:
        raise CliError(f"No record with id (or id prefix) '{record_id}'.")
    if len(matches) > 1:
        raise CliError(f"Id prefix '{record_id}' is ambiguous: give more characters.")
    record = matches[0]
    type_name = type(record).__name__
    return TagEntity(type_name), getattr(record, ENTITY_PKS[type_name]), type_name


def _exists(backend: Any, record_id: str) -> bool:
    from redun.backends.db.query import CallGraphQuery

    return CallGraphQuery(backend.session).like_id(record_id).first() is not None


def _echo_tags(action: str, type_name: str, results: list) -> None:
    for _, entity_id, key, value in results:
        click.echo(f"{action} tag {type_name}:{entity_id} {key}={json.dumps(value)}")


@click.group("tag")
def tag() -> None:
    """List and edit tags; every edit is kept as history."""


@tag.command("list")
@click.option("--values", is_flag=True, help="Count each key=value pair, not only keys.")
@click.argument("filters", nargs=-1)
@pass_state
def list_(state: CliState, values: bool, filters: tuple[str, ...]) -> None:
    """Count current tags by key, or list the records matching key[=value] FILTERS."""
    from sqlalchemy import select

    from redun.backends.db import Tag
    from redun.backends.db.query import CallGraphQuery
    from redun.tags import format_tag_key_value, parse_tag_key_value

    backend = state.get_backend()
    session = backend.session
    if filters:
        try:
            tags = [parse_tag_key_value(f, value_required=False) for f in filters]
        except ValueError as error:
            raise CliError(str(error)) from None
        for record_type, record_id in (
            CallGraphQuery(session).filter_tags(tags).select("type", "id")
        ):
            click.echo(f"{record_type} {record_id}")
        return
    rows = session.execute(
        select(Tag.key, Tag.value, Tag.entity_type).where(
            Tag.is_current.is_(True), Tag.entity_type != "Null"
        )
    ).all()
    counts = Counter(
        (format_tag_key_value(key, value) if values else key, entity_type.name)
        for key, value, entity_type in rows
    )
    click.echo("Tags:")
    for (label, entity_type), count in sorted(counts.items()):
        click.echo(f"  {label:40} {count:6} {entity_type}")


@tag.command("add")
@click.argument("args", nargs=-1, required=True)
@pass_state
def add(state: CliState, args: tuple[str, ...]) -> None:
    """Add tags: redun tag add ID... key=value..."""
    backend = state.get_backend()
    ids, tags = _split(args)
    for record_id in ids:
        entity_type, entity_id, type_name = _resolve(backend, record_id)
        _echo_tags("add", type_name, backend.record_tags(entity_type, entity_id, tags, new=True))


@tag.command("update")
@click.argument("args", nargs=-1, required=True)
@pass_state
def update(state: CliState, args: tuple[str, ...]) -> None:
    """Replace the current tags of the same keys: redun tag update ID... key=value..."""
    backend = state.get_backend()
    ids, tags = _split(args)
    for record_id in ids:
        entity_type, entity_id, type_name = _resolve(backend, record_id)
        results = backend.record_tags(entity_type, entity_id, tags, update=True)
        _echo_tags("update", type_name, results)


@tag.command("rm")
@click.argument("args", nargs=-1, required=True)
@pass_state
def rm(state: CliState, args: tuple[str, ...]) -> None:
    """Delete tags by key=value or by key: redun tag rm ID... key[=value]..."""
    from redun.tags import ANY_VALUE, parse_tag_key_value

    backend = state.get_backend()
    # Leading arguments that name records are ids; the rest are key or key=value.
    resolved = []
    rest = list(args)
    while rest and "=" not in rest[0] and (not resolved or _exists(backend, rest[0])):
        resolved.append(_resolve(backend, rest.pop(0)))
    if not resolved or not rest:
        raise CliError("Give record ids and tags: redun tag rm ID... key[=value]...")
    try:
        tags = [parse_tag_key_value(arg, value_required=False) for arg in rest]
    except ValueError as error:
        raise CliError(str(error)) from None
    keys = [key for key, value in tags if value is ANY_VALUE]
    pairs = [(key, value) for key, value in tags if value is not ANY_VALUE]
    for _, entity_id, type_name in resolved:
        if backend.delete_tags(entity_id, pairs, keys):
            for key, value in tags:
                shown = "" if value is ANY_VALUE else f"={json.dumps(value)}"
                click.echo(f"delete tag {type_name}:{entity_id} {key}{shown}")
        else:
            click.echo(f"No matching tags on {type_name}:{entity_id}.")


@tag.command("history")
@click.argument("record_id")
@pass_state
def history(state: CliState, record_id: str) -> None:
    """Every tag ever set on RECORD_ID, oldest edits first, with what replaced it."""
    from sqlalchemy import select

    from redun.backends.db import Tag, TagEdit
    from redun.tags import format_tag_key_value

    backend = state.get_backend()
    _, entity_id, type_name = _resolve(backend, record_id)
    session = backend.session
    tags = session.execute(select(Tag).where(Tag.entity_id == entity_id)).scalars().all()
    children: dict[str, list[Tag]] = {}
    for parent_id, child in session.execute(
        select(TagEdit.parent_id, Tag).join(Tag, Tag.tag_hash == TagEdit.child_id)
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
