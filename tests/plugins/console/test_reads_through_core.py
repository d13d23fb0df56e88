"""The console reads the repo only through the core's query API (issue 8)."""

from __future__ import annotations

from pathlib import Path

import redun_console

SOURCES = Path(redun_console.__file__).parent


def test_no_sqlalchemy_in_console_sources() -> None:
    files = sorted(SOURCES.rglob("*.py"))
    assert files, f"no console sources found under {SOURCES}"
    using = [
        f"{path.relative_to(SOURCES)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "sqlalchemy" in line.lower()
    ]
    assert not using, "the console must read through redun.backends.db.query/browse:\n" + "\n".join(
        using
    )
