"""A `redun run` loads only what its run path needs (startup cost, issue 6).

The scheduler reads and writes through the Core tables of
`redun.backends.db.schema`; the ORM models (and alembic, for migrations) are
for queries, `redun log`, the console and schema changes only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WORKFLOW = """
from redun import task

redun_namespace = "imports_test"


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def main(n: int = 3) -> int:
    return add(n, add(1, 2))
"""

# Runs `redun run` twice in one process (a first run on a fresh SQLite file,
# then a fully cached one) and prints the modules of interest that got loaded.
DRIVER = """
import json, sys
from redun.cli.main import main

for _ in range(2):
    try:
        main(["-c", sys.argv[1], "run", sys.argv[2], "main", "--n", "4"])
    except SystemExit as exit:
        if exit.code:
            raise
print(json.dumps(sorted(
    name for name in sys.modules
    if name.split(".")[0] == "alembic"
    or name.startswith(("sqlalchemy.orm", "redun.backends.db.models", "redun.backends.db.records"))
)))
"""


def test_run_never_imports_the_orm_or_alembic(tmp_path: Path) -> None:
    workflow = tmp_path / "workflow.py"
    workflow.write_text(WORKFLOW)
    config_dir = tmp_path / ".redun"
    config_dir.mkdir()
    (config_dir / "redun.ini").write_text(f"[backend]\ndb_uri = sqlite:///{tmp_path}/redun.db\n")
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(config_dir), str(workflow)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    *outputs, loaded = proc.stdout.strip().splitlines()
    assert outputs == ["7", "7"]
    assert "Cached Job" in proc.stderr
    assert json.loads(loaded) == []


def test_package_exports_load_on_first_access() -> None:
    code = (
        "import sys\n"
        "import redun.backends.db as db\n"
        "assert 'sqlalchemy' not in sys.modules\n"
        "from redun.backends.db import RedunBackendDb\n"
        "assert 'sqlalchemy.orm' not in sys.modules\n"
        "from redun.backends.db import Job, RedunSession\n"
        "assert Job.__table__.name == 'job' and db.Job is Job\n"
        "try:\n"
        "    db.NoSuchName\n"
        "except AttributeError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('NoSuchName')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
