"""GCP label rules met by encoding: keys and values of ``[a-z0-9_-]``, at most 63 characters.

redun's own labels hold task names, executor names and scratch URLs, which
break those rules. Outside ``[a-z0-9-]`` every character becomes ``_`` plus
its UTF-8 bytes in hex (``.`` is ``_2e``, ``_`` itself ``_5f``), so distinct
values stay distinct labels; a value still too long keeps its first
characters and ends in a hash of the whole. Equal inputs always give equal
labels, which is what finding jobs by a label filter needs. User labels are
lowercased first, and pass unchanged when they then comply.
"""

from __future__ import annotations

import hashlib
import re

MAX_LENGTH = 63
_KEEP = re.compile(r"[a-z0-9-]")
_VALID_VALUE = re.compile(r"\A[a-z0-9_-]{0,63}\Z")
_VALID_KEY = re.compile(r"\A[a-z][a-z0-9_-]{0,62}\Z")
_HASH_CHARS = 16


def _escape(text: str) -> str:
    return "".join(
        char if _KEEP.match(char) else "".join(f"_{byte:02x}" for byte in char.encode("utf8"))
        for char in text
    )


def _shorten(encoded: str, original: str) -> str:
    if len(encoded) <= MAX_LENGTH:
        return encoded
    digest = hashlib.sha256(original.encode("utf8")).hexdigest()[:_HASH_CHARS]
    return encoded[: MAX_LENGTH - _HASH_CHARS - 1] + "-" + digest


def encode_value(value: str, keep_valid: bool = False) -> str:
    """A label value standing for `value`; with `keep_valid`, a valid value is kept as is."""
    value = str(value)
    if keep_valid and _VALID_VALUE.match(value):
        return value
    return _shorten(_escape(value), value)


def encode_key(key: str) -> str:
    """A valid label key for `key`: encoded like a value, starting with a letter."""
    key = str(key)
    if _VALID_KEY.match(key):
        return key
    encoded = _escape(key)
    if not encoded[:1].isalpha():
        encoded = "k" + encoded
    return _shorten(encoded, key)


def encode_user_labels(labels: dict[str, str]) -> dict[str, str]:
    """A user's labels, lowercased (as GCP shows them) and made valid where they are not."""
    return {
        encode_key(str(key).lower()): encode_value(str(value).lower(), keep_valid=True)
        for key, value in labels.items()
    }
