"""redun's database versions and the alembic migration id of each."""

from __future__ import annotations

from typing import NamedTuple

from redun.backends.db.errors import RedunVersionError

UNKNOWN_MINOR = 99


class DBVersionInfo(NamedTuple):
    """A schema version (major.minor) and the migration that produces it."""

    migration_id: str
    major: int
    minor: int
    description: str

    @property
    def key(self) -> tuple[int, int]:
        return (self.major, self.minor)

    # Versions order by major.minor; as a tuple they would order by migration id first.
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, DBVersionInfo):
            return NotImplemented
        return self.key < other.key

    def __le__(self, other: object) -> bool:
        if not isinstance(other, DBVersionInfo):
            return NotImplemented
        return self.key <= other.key

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, DBVersionInfo):
            return NotImplemented
        return self.key > other.key

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, DBVersionInfo):
            return NotImplemented
        return self.key >= other.key

    def __str__(self) -> str:
        if self.major < 0:
            return "none"
        return f"{self.major}.?" if self.minor == UNKNOWN_MINOR else f"{self.major}.{self.minor}"


NULL_DB_VERSION = DBVersionInfo("000000000000", -1, 0, "No schema present.")

# Oldest first; the ids are redun's, so a redun database is recognised as is.
REDUN_DB_VERSIONS = [
    DBVersionInfo("806f5dcb11bf", 1, 0, "Prototype schema."),
    DBVersionInfo("647c510a77b1", 2, 0, "Initial production schema."),
    DBVersionInfo("30ffbaee18cd", 2, 1, "Backfill companion values for tasks"),
    DBVersionInfo("71ec303c90e4", 2, 2, "Add indexes for id prefix search"),
    DBVersionInfo("d4af139b6f53", 2, 3, "Add job.execution_id"),
    DBVersionInfo("cd2d53191748", 3, 0, "Make job.execution_id non-nullable"),
    DBVersionInfo("cc4f663817b6", 3, 1, "Add Tag schemas."),
    DBVersionInfo("eb7b95e4e8bf", 3, 2, "Remove length restriction on value type names."),
    DBVersionInfo("f68b3aaee9cc", 3, 3, "Add job and value indexes."),
    DBVersionInfo("3b0a6e67cc58", 3, 4, "Add UTC timezone to timestamps."),
    DBVersionInfo("0bee3d6dba76", 3, 5, "Add updated_time."),
]
LATEST_DB_VERSION = REDUN_DB_VERSIONS[-1]
MIN_DB_VERSION = DBVersionInfo("", 3, 5, "")
MAX_DB_VERSION = DBVersionInfo("", 3, UNKNOWN_MINOR, "")


def parse_db_version(version_str: str) -> DBVersionInfo:
    """Parse ``"latest"``, ``"3"`` or ``"3.2"`` into a known version."""
    if version_str == "latest":
        return LATEST_DB_VERSION
    parts = version_str.split(".")
    try:
        if len(parts) > 2:
            raise ValueError
        major, minor = int(parts[0]), int(parts[1]) if len(parts) == 2 else 0
    except ValueError:
        raise RedunVersionError(
            f"Invalid db version '{version_str}': use MAJOR.MINOR (e.g. 3.5) or 'latest'."
        ) from None
    for version in REDUN_DB_VERSIONS:
        if (version.major, version.minor) == (major, minor):
            return version
    known = ", ".join(str(v) for v in REDUN_DB_VERSIONS)
    raise RedunVersionError(f"Unknown db version '{version_str}' (known: {known}).")


def is_compatible(version: DBVersionInfo) -> bool:
    return MIN_DB_VERSION.key <= version.key <= MAX_DB_VERSION.key


def required_range() -> str:
    return f">={MIN_DB_VERSION},<{MAX_DB_VERSION.major + 1}"
