"""The console reads the repo only through the core's read model (issue 14).

It imports nothing of SQLAlchemy and, of the state store, only the read model
(`redun.backends.db.reader`), its rows and its status rule: every fact it
shows is the one `redun log` and `redun explain` show.
"""

from __future__ import annotations

import ast
from pathlib import Path

import redun_console

SOURCES = Path(redun_console.__file__).parent
READ_MODEL = {"redun.backends.db.reader", "redun.backends.db.rows", "redun.backends.db.status"}


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
    return found


def test_console_imports_only_the_read_model() -> None:
    files = sorted(SOURCES.rglob("*.py"))
    assert files, f"no console sources found under {SOURCES}"
    wrong = [
        f"{path.relative_to(SOURCES)}:{line}: {name}"
        for path in files
        for line, name in _imports(path)
        if name.split(".")[0] in ("sqlalchemy", "alembic")
        or (name.startswith("redun.backends") and name not in READ_MODEL)
    ]
    assert not wrong, "the console must read through the read model only:\n" + "\n".join(wrong)


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from redun.backends.db.models import Job\n")
    assert _imports(source) == [(2, "redun.backends.db.models")]
