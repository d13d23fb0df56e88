"""What a plain `redun run` imports, with every plugin installed and autoloaded.

Startup is mostly imports (issue 19, bench/README.md "startup"): these are the
modules the run path was cut free of. Finding plugins reads each distribution's
entry points, never its metadata (an email parse, plus the importlib_metadata
backport); a SQLite repository loads no other SQL dialect; the cloud SDKs load
only when a job or URL needs them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY_MODULES = ("boto3", "botocore", "google", "kubernetes", "textual", "docker")
# Loaded only to read a distribution's name: for REDUN_DISABLED_PLUGINS, `redun plugins`
# and error messages.
METADATA_MODULES = ("importlib_metadata", "email.parser", "email.feedparser")
# A SQLite repository needs no other dialect (PostgreSQL's costs about 35 ms to import).
OTHER_DIALECTS = ("sqlalchemy.dialects.postgresql", "psycopg")

WORKFLOW = """
from redun import task

redun_namespace = "startup_imports"


@task()
def double(x: int) -> int:
    return 2 * x


@task()
def main(n: int = 2) -> int:
    return double(n)
"""

DRIVER = """
import json, sys
from redun.cli.main import main

try:
    main(["run", sys.argv[1], "main", "--n", "3"])
except SystemExit as exit:
    if exit.code:
        raise
print(json.dumps(sorted(sys.modules)))
"""


def test_sqlite_run_reads_no_plugin_metadata_other_dialect_or_cloud_sdk(tmp_path: Path) -> None:
    (tmp_path / "workflow.py").write_text(WORKFLOW)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDUN_DISABLE_PLUGIN_AUTOLOAD", "REDUN_DISABLED_PLUGINS")
    }
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, "workflow.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    *outputs, loaded_json = proc.stdout.strip().splitlines()
    assert outputs == ["6"]
    loaded = set(json.loads(loaded_json))
    # The plugins were really loaded (their hooks ran), not skipped.
    assert {"redun_aws.plugin", "redun_k8s.plugin", "redun_console.plugin"} <= loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY_MODULES)
    assert not heavy, heavy
    metadata = sorted(m for m in loaded if m in METADATA_MODULES)
    assert not metadata, metadata
    dialects = sorted(m for m in loaded if m.startswith(OTHER_DIALECTS))
    assert not dialects, dialects
