"""How values are shown in full on the detail screens (the read model decodes them)."""

from __future__ import annotations

import pprint
from typing import Any

# Longest preview text built for one value; beyond it the screen says how to see more.
MAX_PREVIEW_CHARS = 200_000
MAX_ITEMS = 1000


def _shorten(value: Any) -> Any:
    """Keep the first MAX_ITEMS items of a large list, tuple, set or dict, and say so."""
    if isinstance(value, (list, tuple, set, frozenset)) and len(value) > MAX_ITEMS:
        items = list(value)[:MAX_ITEMS]
        return [*items, f"… {len(value) - MAX_ITEMS} more items"]
    if isinstance(value, dict) and len(value) > MAX_ITEMS:
        kept = dict(list(value.items())[:MAX_ITEMS])
        kept["…"] = f"{len(value) - MAX_ITEMS} more items"
        return kept
    return value


def preview_text(value: Any, width: int = 100) -> str:
    """A value's text for display; long texts are cut with a note, never silently."""
    text = value if isinstance(value, str) else pprint.pformat(_shorten(value), width=width)
    if len(text) > MAX_PREVIEW_CHARS:
        return text[:MAX_PREVIEW_CHARS] + f"\n… ({len(text) - MAX_PREVIEW_CHARS} more characters)"
    return text


def full_preview(reader: Any, value_hash: str, width: int = 100) -> str:
    """The pretty-printed text of a recorded value, or why it cannot be shown."""
    try:
        return preview_text(reader.value_object(value_hash), width)
    except Exception as error:  # a value of a class this process cannot load
        return f"<cannot preview: {type(error).__name__}: {error}>"
