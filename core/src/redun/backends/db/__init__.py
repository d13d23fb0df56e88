"""redun's call-graph database: models, the backend, versions and errors.

``from redun.backends.db import RedunBackendDb, Execution, Job, ...`` works as
in redun. Importing this package loads SQLAlchemy, so `import redun` never does.
"""

from redun.backends.db.backend import PreviewValue, RedunBackendDb, RedunSession
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
    "DEFAULT_DB_URI",
    "JSON",
    "LATEST_DB_VERSION",
    "MAX_DB_VERSION",
    "MIN_DB_VERSION",
    "REDUN_DB_VERSIONS",
    "Argument",
    "ArgumentResult",
    "Base",
    "CallEdge",
    "CallNode",
    "CallSubtreeTask",
    "DBVersionInfo",
    "DateTimeUTC",
    "Evaluation",
    "Execution",
    "File",
    "Handle",
    "HandleEdge",
    "Job",
    "PreviewValue",
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
