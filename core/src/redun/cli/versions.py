"""``--check-version``: compare the running redun with a spec like ``>=0.1,<1``."""

from __future__ import annotations

import operator
import re

from redun.cli.errors import CliError

_OPERATORS = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*([0-9][0-9A-Za-z.]*)\s*$")


def version_tuple(version: str) -> tuple[int, ...]:
    """Numeric release parts: '0.46.0rc1' -> (0, 46, 0)."""
    parts = []
    for piece in version.split("."):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def require_version(version: str, spec: str) -> None:
    """Raise CliError unless `version` satisfies every comma-separated clause of `spec`."""
    current = version_tuple(version)
    for clause in spec.split(","):
        match = _CLAUSE.match(clause)
        if not match:
            raise CliError(
                f"--check-version: cannot parse {clause.strip()!r}; use e.g. '>=0.1.0,<1'"
            )
        op, wanted = match.groups()
        target = version_tuple(wanted)
        width = max(len(current), len(target))
        padded = current + (0,) * (width - len(current))
        target += (0,) * (width - len(target))
        if not _OPERATORS[op](padded, target):
            raise CliError(f"redun {version} does not satisfy the required version {spec}")
