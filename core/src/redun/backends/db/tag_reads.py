"""Tags as the read model shows them: counts by key (and value), and each record's history."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from redun.backends.db.models import Tag, TagEdit
from redun.backends.db.rows import TagHistoryRow
from redun.tags import ANY_VALUE


def tag_counts(session: Session, by_value: bool) -> list[tuple[str, Any, dict[str, int]]]:
    """(key, value, {record type: count}) over the current tags, by key then value.

    Without `by_value` every value of a key counts together (value ANY_VALUE).
    """
    rows = session.execute(
        select(Tag.key, Tag.value, Tag.entity_type).where(
            Tag.is_current.is_(True), Tag.entity_type != "Null"
        )
    ).all()
    counts: dict[tuple[str, str], tuple[str, Any, dict[str, int]]] = {}
    for key, value, entity_type in rows:
        # Tag values are JSON (lists and dicts too): group them by their JSON text.
        label = (key, json.dumps(value, sort_keys=True) if by_value else "")
        entry = counts.setdefault(label, (key, value if by_value else ANY_VALUE, {}))
        entry[2][entity_type.name] = entry[2].get(entity_type.name, 0) + 1
    return [counts[label] for label in sorted(counts)]


def tag_history(session: Session, entity_id: str) -> list[TagHistoryRow]:
    """Every tag ever set on the record, by key (current last), with what replaced it."""
    tags = session.execute(select(Tag).where(Tag.entity_id == entity_id)).scalars().all()
    children: dict[str, list[Tag]] = {}
    for parent_id, child in session.execute(
        select(TagEdit.parent_id, Tag)
        .join(Tag, Tag.tag_hash == TagEdit.child_id)
        .where(TagEdit.parent_id.in_([row.tag_hash for row in tags]))
    ).all():
        children.setdefault(parent_id, []).append(child)
    history = []
    for row in sorted(tags, key=lambda t: (t.key, t.is_current)):
        edits = children.get(row.tag_hash, [])
        deleted = bool(edits) and all(child.entity_type.name == "Null" for child in edits)
        history.append(
            TagHistoryRow(
                row.tag_hash,
                row.key,
                row.value,
                row.is_current,
                replaced_by=() if deleted else tuple(child.tag_hash for child in edits),
                deleted=deleted,
            )
        )
    return history
