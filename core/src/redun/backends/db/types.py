"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator


def json_dumps(value: Any) -> str:
    """Normalized JSON (sorted keys, no spaces): tag values compare and hash by this text."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class JSON(TypeDecorator):
    """JSONB on PostgreSQL, normalized JSON text elsewhere (so equality is exact on both)."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return value
        return json_dumps(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if dialect.name == "postgresql" or value is None:
            return value
        return json.loads(value)


# SQLAlchemy's storage format for DATETIME on SQLite.
_SQLITE_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


class DateTimeUTC(TypeDecorator):
    """Timezone-aware UTC timestamps; naive datetimes are refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timezone naive datetimes are not allowed: {value}")
        # SQLite stores the wall-clock text without an offset, so store UTC.
        return value.astimezone(timezone.utc)

    def bind_processor(self, dialect: Any) -> Any:
        """On SQLite, one step to SQLAlchemy's DATETIME text (every job row has two stamps)."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        utc = timezone.utc

        def process(value: Any) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError(f"timezone naive datetimes are not allowed: {value}")
            if value.tzinfo is not utc:
                value = value.astimezone(utc)
            return _SQLITE_DATETIME % (
                value.year,
                value.month,
                value.day,
                value.hour,
                value.minute,
                value.second,
                value.microsecond,
            )

        return process

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value
