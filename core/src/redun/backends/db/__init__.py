"""redun's call-graph database: models, the backend, versions and errors.

``from redun.backends.db import RedunBackendDb, Execution, Job, ...`` works as
in redun. Names are imported on first access: `import redun` never loads
SQLAlchemy, and a `redun run` (which needs only the backend) never loads the
ORM models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redun.backends.db.backend import PreviewValue, RedunBackendDb
    from redun.backends.db.engine import DEFAULT_DB_URI
    from redun.backends.db.errors import RedunDatabaseError, RedunVersionError
    from redun.backends.db.models import (
        Argument,
        ArgumentResult,
        Base,
        CallEdge,
        CallNode,
        CallSubtreeTask,
        Evaluation,
        Execution,
        File,
        Handle,
        HandleEdge,
        Job,
        RedunMigration,
        RedunSession,
        RedunVersion,
        Subvalue,
        Tag,
        TagEdit,
        Task,
        Value,
    )
    from redun.backends.db.types import JSON, DateTimeUTC
    from redun.backends.db.versions import (
        LATEST_DB_VERSION,
        MAX_DB_VERSION,
        MIN_DB_VERSION,
        REDUN_DB_VERSIONS,
        DBVersionInfo,
        parse_db_version,
    )

__all__ = [
    "Argument",
    "ArgumentResult",
    "Base",
    "CallEdge",
    "CallNode",
    "CallSubtreeTask",
    "DBVersionInfo",
    "DEFAULT_DB_URI",
    "DateTimeUTC",
    "Evaluation",
    "Execution",
    "File",
    "Handle",
    "HandleEdge",
    "JSON",
    "Job",
    "LATEST_DB_VERSION",
    "MAX_DB_VERSION",
    "MIN_DB_VERSION",
    "PreviewValue",
    "REDUN_DB_VERSIONS",
    "RedunBackendDb",
    "RedunDatabaseError",
    "RedunMigration",
    "RedunSession",
    "RedunVersion",
    "RedunVersionError",
    "Subvalue",
    "Tag",
    "TagEdit",
    "Task",
    "Value",
    "parse_db_version",
]

# The submodule defining each name.
_MODULE_OF = {
    "PreviewValue": "backend",
    "RedunBackendDb": "backend",
    "DEFAULT_DB_URI": "engine",
    "RedunDatabaseError": "errors",
    "RedunVersionError": "errors",
    "Argument": "models",
    "ArgumentResult": "models",
    "Base": "models",
    "CallEdge": "models",
    "CallNode": "models",
    "CallSubtreeTask": "models",
    "Evaluation": "models",
    "Execution": "models",
    "File": "models",
    "Handle": "models",
    "HandleEdge": "models",
    "Job": "models",
    "RedunMigration": "models",
    "RedunSession": "models",
    "RedunVersion": "models",
    "Subvalue": "models",
    "Tag": "models",
    "TagEdit": "models",
    "Task": "models",
    "Value": "models",
    "JSON": "types",
    "DateTimeUTC": "types",
    "LATEST_DB_VERSION": "versions",
    "MAX_DB_VERSION": "versions",
    "MIN_DB_VERSION": "versions",
    "REDUN_DB_VERSIONS": "versions",
    "DBVersionInfo": "versions",
    "parse_db_version": "versions",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
