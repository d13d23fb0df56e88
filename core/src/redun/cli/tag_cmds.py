"""``redun tag list|add|update|rm|history``: tags on executions, jobs, call nodes, tasks, values.

Output keeps redun's shapes: ``add tag Execution:<id> env="dev" n=3`` (one line
per record), ``Tags:`` followed by ``  key  (N Type)`` counts, and the
`redun log` line of each record a tag filter selects.
"""

from __future__ import annotations

import json
import re
from typing import Any

import click

from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state

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


def _resolve(reader: Any, record_id: str) -> tuple[Any, str, str]:
    """(TagEntity, entity id, type name) of an id, unique prefix, ``-``, ``~N`` or file path."""
    from redun.backends.base import TagEntity
    from redun.cli.log_cmd import find_records

    refs = find_records(reader, record_id)
    if len(refs) > 1:
        raise CliError(
            f"Task name '{record_id}' has {len(refs)} versions: give the task hash "
            "(see 'redun log --task --task-name NAME')."
        )
    ref = refs[0]
    type_name = "Value" if ref.type == "File" else ref.type
    return TagEntity(type_name), ref.id, type_name


def _is_record(reader: Any, text: str) -> bool:
    """Whether `text` looks like an id and names a record (so ``tag rm ID key`` works)."""
    if not re.fullmatch(r"[0-9a-f][0-9a-f-]*|-|~\d+", text):
        return False
    try:
        _resolve(reader, text)
    except CliError:
        return False
    return True


def _split(reader: Any, args: tuple[str, ...], command: str) -> tuple[list[tuple], list[str]]:
    """Leading ids (resolved), then tag arguments.

    The first argument is always an id; later ones are ids while they name a
    record and contain no ``=`` (so ``tag rm ID key`` deletes the key).
    """
    rest = list(args)
    targets = []
    while rest and "=" not in rest[0] and (not targets or _is_record(reader, rest[0])):
        targets.append(_resolve(reader, rest.pop(0)))
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
    from redun.backends.db.reader import RecordFilter
    from redun.cli.record_format import record_line
    from redun.tags import format_tag_key_value

    reader = state.get_reader()
    if filters:
        tags = tuple(_parse_tag(text, value_required=False) for text in filters)
        for row in reader.search(RecordFilter(tags=tags, all_types=True)).rows():
            click.echo(record_line(row))
        return
    width = 30 if values else 10
    click.echo("Tags:")
    counted = [
        (format_tag_key_value(key, value) if values else key, per_type)
        for key, value, per_type in reader.tag_counts(by_value=values)
    ]
    for label, per_type in sorted(counted, key=lambda item: item[0]):
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(per_type.items()))
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
    targets, rest = _split(state.get_reader(), args, action)
    tags = [_parse_tag(text, value_required=True) for text in rest]
    for entity_type, entity_id, type_name in targets:
        backend.record_tags(entity_type, entity_id, tags, **mode)
        click.echo(f"{action} tag {type_name}:{entity_id} {_format_pairs(tags)}")


@tag.command("rm")
@click.argument("args", nargs=-1, required=True, metavar="ID... KEY[=VALUE]...")
@pass_state
def rm(state: CliState, args: tuple[str, ...]) -> None:
    """Delete tags by KEY=VALUE, or every value of KEY."""
    from redun.tags import ANY_VALUE

    backend = state.get_backend()
    reader = state.get_reader()
    targets, rest = _split(reader, args, "rm")
    tags = [_parse_tag(text, value_required=False) for text in rest]
    keys = [key for key, value in tags if value is ANY_VALUE]
    pairs = [(key, value) for key, value in tags if value is not ANY_VALUE]
    for _, entity_id, type_name in targets:
        current = [
            (key, value)
            for key, value in reader.current_tags([entity_id]).get(entity_id, ())
            if key in keys or (key, value) in pairs
        ]
        if not current:
            click.echo(f"No matching tags on {type_name}:{entity_id}.")
            continue
        backend.delete_tags(entity_id, pairs, keys)
        deleted = sorted(current, key=lambda kv: (kv[0], json.dumps(kv[1], sort_keys=True)))
        click.echo(f"delete tag {type_name}:{entity_id} {_format_pairs(deleted)}")


@tag.command("history")
@click.argument("record_id", metavar="ID")
@pass_state
def history(state: CliState, record_id: str) -> None:
    """Every tag ever set on ID, with what replaced or deleted it."""
    from redun.tags import format_tag_key_value

    reader = state.get_reader()
    _, entity_id, type_name = _resolve(reader, record_id)
    click.echo(f"Tag history of {type_name}:{entity_id}")
    for row in reader.tag_history(entity_id):
        if row.is_current:
            state_text = "current"
        elif row.deleted:
            state_text = "deleted"
        elif row.replaced_by:
            state_text = "replaced by " + ", ".join(h[:8] for h in row.replaced_by)
        else:
            state_text = "superseded"
        shown = format_tag_key_value(row.key, row.value)
        click.echo(f"  {row.tag_hash[:8]} {shown:40} {state_text}")
