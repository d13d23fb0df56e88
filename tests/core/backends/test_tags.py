"""Tags: add, update (supersede), delete, history; and their command-line text form."""

from __future__ import annotations

import pytest
from redun.backends.base import TagEntity
from redun.backends.db import RedunBackendDb, Tag, TagEdit
from redun.hashing import hash_tag
from redun.tags import (
    ANY_VALUE,
    format_tag_key_value,
    format_tag_value,
    parse_tag_key_value,
    parse_tag_value,
)
from sqlalchemy import select

EXEC = TagEntity.Execution


def current(backend: RedunBackendDb, entity_id: str) -> dict:
    tags = backend.get_tags([entity_id]).get(entity_id)
    return tags.as_dict() if tags else {}


def test_add_update_delete_keep_history(backend: RedunBackendDb) -> None:
    [(first, *_)] = backend.record_tags(EXEC, "e1", [("env", "dev")])
    backend.record_tags(EXEC, "e1", [("owner", "alice"), ("owner", "bob")])
    assert current(backend, "e1") == {"env": ["dev"], "owner": ["alice", "bob"]}

    [(second, _, key, value)] = backend.record_tags(EXEC, "e1", [("env", "prod")], update=True)
    assert (key, value) == ("env", "prod")
    assert second == hash_tag("e1", "env", "prod", [first])
    assert current(backend, "e1")["env"] == ["prod"]

    rows = backend.session.execute(select(Tag.tag_hash, Tag.is_current).where(Tag.key == "env"))
    assert dict(rows.all()) == {first: False, second: True}
    assert backend.session.get(Tag, second).parents[0].tag_hash == first

    deleted = backend.delete_tags("e1", [("owner", "alice")])
    assert deleted[0][2:] == ("", None)
    assert current(backend, "e1")["owner"] == ["bob"]
    backend.delete_tags("e1", [], keys=["owner"])
    assert "owner" not in current(backend, "e1")
    assert backend.delete_tags("e1", [], keys=["missing"]) == []


def test_update_tags_replaces_old_keys(backend: RedunBackendDb) -> None:
    backend.record_tags(TagEntity.Job, "j1", [("a", 1), ("b", 2)])
    backend.update_tags(TagEntity.Job, "j1", ["a", "b"], [("c", [1, {"x": None}])])
    assert current(backend, "j1") == {"c": [[1, {"x": None}]]}


def test_new_walks_past_superseded_tags(backend: RedunBackendDb) -> None:
    [(original, *_)] = backend.record_tags(EXEC, "e2", [("stage", "a")])
    backend.record_tags(EXEC, "e2", [("stage", "b")], update=True)
    # Adding stage=a again must make it current, though its first hash was superseded.
    [(again, *_)] = backend.record_tags(EXEC, "e2", [("stage", "a")], new=True)
    assert again != original
    assert sorted(current(backend, "e2")["stage"]) == ["a", "b"]
    parents = backend.session.execute(
        select(TagEdit.parent_id).where(TagEdit.child_id == again)
    ).scalars()
    assert list(parents) == [original]


def test_tags_of_many_entities_at_once(backend: RedunBackendDb) -> None:
    for i in range(3):
        backend.record_tags(TagEntity.Value, f"v{i}", [("n", i)])
    tags = backend.get_tags(["v0", "v2", "absent"])
    assert {key: value.as_dict() for key, value in tags.items()} == {
        "v0": {"n": [0]},
        "v2": {"n": [2]},
    }


@pytest.mark.parametrize(
    "text, value",
    [
        ("", None),
        ("12", 12),
        ("1.5", 1.5),
        ("true", True),
        ("null", None),
        ("hello", "hello"),
        ('"12"', "12"),
        ("[1, 2]", [1, 2]),
        ('{"a": 1}', {"a": 1}),
    ],
)
def test_parse_tag_value(text: str, value: object) -> None:
    assert parse_tag_value(text) == value


def test_tag_key_value_text() -> None:
    assert parse_tag_key_value("env=prod") == ("env", "prod")
    assert parse_tag_key_value("a=b=c") == ("a", "b=c")
    assert parse_tag_key_value("env", value_required=False) == ("env", ANY_VALUE)
    with pytest.raises(ValueError, match="key=value"):
        parse_tag_key_value("env")
    with pytest.raises(ValueError, match="key must be given"):
        parse_tag_key_value("=x")
    with pytest.raises(ValueError, match="Invalid tag value"):
        parse_tag_value("[1,")
    assert format_tag_value("plain") == "plain"
    assert format_tag_value("two words") == '"two words"'
    assert format_tag_value("12") == '"12"'
    assert format_tag_value({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
    assert format_tag_key_value("k", "x" * 80, max_length=10) == "k=xxxxxxx..."
