"""Tags: immutable content-hashed rows; edits and deletions add children to a history DAG."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from redun.backends.base import TagEntity
from redun.backends.db.buffer import insert_ignore
from redun.backends.db.schema import tag, tag_edit

TagResult = tuple[str, str, str, Any]


def tag_rows(
    entity_type: TagEntity, entity_id: str, tags: list[tuple[str, Any]], parents: list[str]
) -> list[dict]:
    from redun.hashing import hash_tag

    return [
        {
            "tag_hash": hash_tag(entity_id, key, value, parents),
            "entity_type": entity_type,
            "entity_id": entity_id,
            "key": key,
            "value": value,
            "is_current": True,
        }
        for key, value in tags
    ]


def _current_tag_hashes(connection: Connection, entity_id: str, condition: Any) -> list[str]:
    return list(
        connection.execute(
            select(tag.c.tag_hash).where(
                tag.c.is_current.is_(True), tag.c.entity_id == entity_id, condition
            )
        ).scalars()
    )


def record_tags(
    connection: Connection,
    entity_type: TagEntity,
    entity_id: str,
    tags: list[tuple[str, Any]],
    parents: list[str],
    update_keys: bool,
    new: bool,
) -> list[TagResult]:
    """redun's record_tags: `update_keys` supersedes current tags of the same keys,
    `new` walks down existing edits so the recorded tags end up current."""
    parents = list(parents)
    if update_keys:
        parents.extend(
            _current_tag_hashes(connection, entity_id, tag.c.key.in_([key for key, _ in tags]))
        )
        new = True
    parents = sorted(set(parents))
    rows = tag_rows(entity_type, entity_id, tags, parents)

    walked: list[TagResult] = []
    if new:
        superseded = set(
            connection.execute(
                select(tag_edit.c.parent_id).where(
                    tag_edit.c.parent_id.in_([row["tag_hash"] for row in rows])
                )
            ).scalars()
        )
        for row in rows:
            if row["tag_hash"] in superseded:
                # This exact tag was edited before: propose it as the parent, one
                # step further down the history, until a new leaf is created.
                walked += record_tags(
                    connection,
                    entity_type,
                    entity_id,
                    [(row["key"], row["value"])],
                    [row["tag_hash"]],
                    False,
                    True,
                )
        rows = [row for row in rows if row["tag_hash"] not in superseded]

    insert_ignore(connection, tag, rows)
    insert_ignore(
        connection,
        tag_edit,
        [{"parent_id": p, "child_id": row["tag_hash"]} for row in rows for p in parents],
    )
    if parents:
        connection.execute(update(tag).where(tag.c.tag_hash.in_(parents)).values(is_current=False))
    return [(row["tag_hash"], entity_id, row["key"], row["value"]) for row in rows] + walked


def delete_tags(
    connection: Connection, entity_id: str, tags: list[tuple[str, Any]], keys: list[str]
) -> list[TagResult]:
    """Record a Null-entity "delete" tag whose parents are the deleted tags."""
    conditions = [and_(tag.c.key == key, tag.c.value == value) for key, value in tags]
    if keys:
        conditions.append(tag.c.key.in_(keys))
    if not conditions:
        return []
    parents = _current_tag_hashes(connection, entity_id, or_(*conditions))
    if not parents:
        return []
    return record_tags(connection, TagEntity.Null, "", [("", None)], parents, False, False)


def update_tags(
    connection: Connection,
    entity_type: TagEntity,
    entity_id: str,
    old_keys: list[str],
    new_tags: list[tuple[str, Any]],
) -> list[TagResult]:
    parents = _current_tag_hashes(connection, entity_id, tag.c.key.in_(old_keys))
    return record_tags(connection, entity_type, entity_id, new_tags, parents, False, False)


def get_tags(connection: Connection, entity_ids: list[str]) -> dict[str, Any]:
    from redun.utils import MultiMap

    result: dict[str, Any] = {}
    rows = connection.execute(
        select(tag.c.entity_id, tag.c.key, tag.c.value)
        .where(tag.c.entity_id.in_(entity_ids), tag.c.is_current.is_(True))
        .order_by(tag.c.key)
    )
    for entity_id, key, value in rows:
        result.setdefault(entity_id, MultiMap()).add(key, value)
    return result
