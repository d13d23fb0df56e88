"""Version identity: redun's checks see the redun release we stand in for, pip sees ours."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import importlib_metadata
import pytest
import redun
from click.testing import CliRunner
from redun._version import DISTRIBUTION_VERSION, VERSION_BANNER
from redun.cli.main import cli

REDUN = str(Path(sys.executable).parent / "redun")


def numeric(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_dunder_version_is_a_redun_release_newer_than_0_44() -> None:
    # The ways redun users compare it: tuples of ints, and plain string equality.
    assert numeric(redun.__version__) >= (0, 44, 0)
    assert numeric(redun.__version__) < (1, 0, 0)
    assert redun.version == redun.__version__
    assert "__version__" in redun.__all__ and "version" in redun.__all__


def test_distribution_version_is_separate_and_is_what_metadata_reports() -> None:
    assert importlib_metadata.version("redun-core") == DISTRIBUTION_VERSION
    assert DISTRIBUTION_VERSION != redun.__version__
    assert VERSION_BANNER == f"{redun.__version__} (redun-core {DISTRIBUTION_VERSION})"
    # There is no distribution called "redun": asking for it fails as for any missing one.
    with pytest.raises(importlib_metadata.PackageNotFoundError):
        importlib_metadata.version("redun")


def test_version_flag_prints_the_bare_version_like_redun() -> None:
    proc = subprocess.run(
        [REDUN, "--version"],
        capture_output=True,
        text=True,
        env={**os.environ, "REDUN_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == redun.__version__ + "\n"


@pytest.mark.parametrize(
    "spec", [">=0.8.0", ">=0.4.1", ">=0.44.0", ">=0.44,<1", ">0.43.9", "!=0.44.0", ">=0.44.1"]
)
def test_version_checks_written_for_redun_0_44_pass(spec: str) -> None:
    result = CliRunner().invoke(cli, ["--check-version", spec, "plugins"])
    assert result.exit_code == 0, result.output


def test_a_check_that_excludes_this_release_fails_in_one_line() -> None:
    result = CliRunner().invoke(cli, ["--check-version", "<0.44", "plugins"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        f"Error: redun {redun.__version__} does not satisfy the required version <0.44"
    ]


def test_plugins_listing_reports_the_distribution_version() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    plugins = json.loads(result.output)["plugins"]
    core = [p for p in plugins if p["distribution"] == "redun-core"]
    assert core and {p["version"] for p in core} == {DISTRIBUTION_VERSION}


def test_run_logs_both_numbers_and_tags_the_redun_version(tmp_path: Path) -> None:
    (tmp_path / "wf.py").write_text(
        "from redun import task\nredun_namespace = 'vers'\n\n"
        "@task\ndef main() -> int:\n    return 1\n"
    )
    env = {**os.environ, "REDUN_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run(
        [REDUN, "run", "wf.py", "main"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert f"redun :: version {VERSION_BANNER}" in proc.stderr
    db = sqlite3.connect(tmp_path / ".redun" / "redun.db")
    tags = db.execute("select value from tag where key = 'redun.version'").fetchall()
    assert tags == [(json.dumps(redun.__version__),)]
