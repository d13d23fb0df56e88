"""Kubernetes naming rules, checked before anything is sent to the API.

A real API server answers 422 for a bad name, label or quantity; catching
them here gives the user one line naming the redun.ini key instead.
"""

from __future__ import annotations

import hashlib
import re

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
MAX_LABEL = 63


def label_key_problem(key: str) -> str | None:
    """Why `key` is not a valid label or annotation key, or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return "its prefix must be a DNS subdomain (lowercase letters, digits, '-', '.')"
    if not name or len(name) > MAX_LABEL or not LABEL_NAME.match(name):
        return "its name must be at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends"
    return None


def label_value_problem(value: str) -> str | None:
    if value == "" or (len(value) <= MAX_LABEL and LABEL_NAME.match(value)):
        return None
    return "label values are at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends"


def label_value(text: str) -> str:
    """`text` as a valid label value: itself when valid, else a readable part and a hash."""
    if label_value_problem(text) is None:
        return text
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", text)[: MAX_LABEL - len(digest) - 1]
    readable = readable.strip("-_.")
    return f"{readable}-{digest}" if readable else digest


def dns_label(text: str, max_length: int = MAX_LABEL) -> str:
    """A DNS-1123 label made from `text` (lowercased, other characters to '-')."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower())[:max_length].strip("-")
    return name or "x"


def is_dns_label(text: str) -> bool:
    return len(text) <= MAX_LABEL and bool(DNS1123_LABEL.match(text))


def is_quantity(text: str) -> bool:
    return bool(QUANTITY.match(text))
