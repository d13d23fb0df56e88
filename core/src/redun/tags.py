"""Tag keys and the text form of tags on the command line (``key=value``)."""

from __future__ import annotations

import json
import re
from typing import Any

VERSION_KEY = "redun.version"
PROJECT_KEY = "project"
DOC_KEY = "doc"
USER_KEY = "user"
CONTEXT_KEY = "redun.context"
GIT_COMMIT_KEY = "git_commit"
GIT_ORIGIN_URL_KEY = "git_origin_url"


class _AnyValue:
    """Matches any value of a tag key in filters (``--tag key`` without ``=``)."""

    def __repr__(self) -> str:
        return "ANY_VALUE"


ANY_VALUE: Any = _AnyValue()

_LITERALS = {"true": True, "false": False, "null": None}


def parse_tag_value(value_str: str) -> Any:
    """Parse a tag value: empty -> None, JSON for ``[``/``{``/``"``, then int, float,
    true/false/null, else the string itself."""
    if not value_str:
        return None
    if value_str[0] in '[{"':
        try:
            return json.loads(value_str)
        except json.JSONDecodeError as error:
            raise ValueError(f"Invalid tag value {value_str!r}: {error}") from None
    for parse in (int, float):
        try:
            return parse(value_str)
        except ValueError:
            pass
    return _LITERALS[value_str] if value_str in _LITERALS else value_str


def parse_tag_key_value(key_value: str, value_required: bool = True) -> tuple[str, Any]:
    """Parse ``key=value``; without ``=`` the value is `ANY_VALUE` unless one is required."""
    if not key_value:
        raise ValueError("Tag key must be given (format: key=value).")
    if "=" not in key_value:
        if value_required:
            raise ValueError(f"Expected key=value, got '{key_value}'.")
        return key_value, ANY_VALUE
    key, value = key_value.split("=", 1)
    if not key:
        raise ValueError(f"Tag key must be given: '{key_value}' (format: key=value).")
    return key, parse_tag_value(value)


def _trim(text: str, max_length: int) -> str:
    return text if len(text) <= max_length else text[: max_length - 3] + "..."


def format_tag_value(value: Any) -> str:
    """Plain strings stay bare; anything that would parse differently is JSON."""
    if (
        isinstance(value, str)
        and not re.search(r"[ ,]", value)
        and isinstance(parse_tag_value(value), str)
    ):
        return value
    return json.dumps(value, sort_keys=True)


def format_tag_key_value(key: str, value: Any, max_length: int = 50) -> str:
    return f"{_trim(key, max_length)}={_trim(format_tag_value(value), max_length)}"
