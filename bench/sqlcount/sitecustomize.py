"""Counts the SQL statements a benchmarked process sends through SQLAlchemy.

bench/run.py puts this directory on PYTHONPATH of the `redun` processes it
measures, so statements are counted without touching either engine's code.
With REDUN_BENCH_SQL_DIR set, it waits until sqlalchemy is imported (a process
that never opens a database pays nothing), listens to `before_cursor_execute`
on every Engine, and at exit writes "<statements> <executemany calls>" to
REDUN_BENCH_SQL_DIR/<pid>.sql. One cursor execution counts once, also when it
is an executemany of many rows.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

_OUT_DIR = os.environ.get("REDUN_BENCH_SQL_DIR")
_counts = {"statements": 0, "executemany": 0}


def _on_cursor_execute(
    conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool
) -> None:
    _counts["statements"] += 1
    if executemany:
        _counts["executemany"] += 1


def _reset_counts() -> None:
    """A forked worker starts from zero, so its parent's statements are not counted twice."""
    _counts["statements"] = 0
    _counts["executemany"] = 0


def _write_counts() -> None:
    path = os.path.join(str(_OUT_DIR), f"{os.getpid()}.sql")
    with open(path, "w") as out:
        out.write(f"{_counts['statements']} {_counts['executemany']}\n")


class _ListeningLoader:
    """Runs sqlalchemy's own loader, then attaches the listener to the Engine class."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", _on_cursor_execute)
        atexit.register(_write_counts)


class _SqlalchemyFinder:
    """Meta-path finder that only intercepts the first import of sqlalchemy."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != "sqlalchemy":
            return None
        sys.meta_path.remove(self)
        for finder in sys.meta_path:
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                spec.loader = _ListeningLoader(spec.loader)
                return spec
        return None


if _OUT_DIR:
    sys.meta_path.insert(0, _SqlalchemyFinder())
    os.register_at_fork(after_in_child=_reset_counts)
