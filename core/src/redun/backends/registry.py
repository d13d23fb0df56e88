"""Opening the state store that ``[backend]`` names, through the ``redun_backends`` hook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redun.errors import RedunError


def db_uri_scheme(section: Mapping[str, str]) -> str:
    """The scheme of ``db_uri`` without its driver (``postgresql+psycopg`` -> ``postgresql``).

    A repository named only by ``db_aws_secret_name`` is a PostgreSQL one.
    """
    db_uri = section.get("db_uri") or ""
    if not db_uri and section.get("db_aws_secret_name"):
        return "postgresql"
    scheme, sep, _ = db_uri.partition(":")
    if not sep or not scheme:
        raise RedunError(
            f"[backend] db_uri = {db_uri!r} is not a URL: use e.g. sqlite:///redun.db "
            "or postgresql://host/db"
        )
    return scheme.split("+", 1)[0].lower()


def open_backend(section: Mapping[str, str]) -> Any:
    """An unloaded state store for the ``[backend]`` section (`section` holds its db_uri)."""
    from redun.plugins.manager import get_plugin_manager

    backend_class = get_plugin_manager().resolve("backend", db_uri_scheme(section))
    return backend_class(config=dict(section))
