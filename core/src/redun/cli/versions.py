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
    "": operator.eq,
}
_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|>|<|)\s*([0-9][0-9A-Za-z.]*)\s*$")


def version_tuple(version: str) -> tuple[int, ...]:
    """Numeric release parts: '0.46.0rc1' -> (0, 46, 0)."""
    parts = []
    for piece in version.split("."):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def _bad_clause(version_spec: str) -> str | None:
    """The first clause of `version_spec` that is not a comparison or a version."""
    return next((c.strip() for c in version_spec.split(",") if not _CLAUSE.match(c)), None)


def check_version(version: str, version_spec: str) -> bool:
    """Whether `version` satisfies every comma-separated clause of `version_spec`.

    redun's ``redun.cli.check_version``: a clause is a comparison (``>=0.8``,
    ``<1``, ``==0.46``) or a bare version (equality); missing parts count as 0.
    A clause that is neither is a ValueError.
    """
    bad = _bad_clause(version_spec)
    if bad is not None:
        raise ValueError(f"Invalid version specification {bad!r}: use e.g. '>=0.1.0,<1'")
    current = version_tuple(version)
    for clause in version_spec.split(","):
        match = _CLAUSE.match(clause)
        assert match is not None
        op, wanted = match.groups()
        target = version_tuple(wanted)
        width = max(len(current), len(target))
        padded = current + (0,) * (width - len(current))
        target += (0,) * (width - len(target))
        if not _OPERATORS[op](padded, target):
            return False
    return True


def require_version(version: str, spec: str) -> None:
    """Raise CliError unless `version` satisfies `spec` (see `check_version`)."""
    bad = _bad_clause(spec)
    if bad is not None:
        raise CliError(f"--check-version: cannot parse {bad!r}; use e.g. '>=0.1.0,<1'")
    if not check_version(version, spec):
        raise CliError(f"redun {version} does not satisfy the required version {spec}")
