"""`redun aws list-jobs|kill-jobs|logs`, the user_aws tag and the console's Batch job screen."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.aws.batch_env import BatchSetup

pytestmark = pytest.mark.container
REDUN = str(Path(sys.executable).with_name("redun"))


def write_config(config_dir: Path, section: dict[str, str]) -> None:
    lines = ["[backend]", f"db_uri = sqlite:///{config_dir / 'redun.db'}", "", "[executors.batch]"]
    lines += [f"{key} = {value}" for key, value in section.items()]
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "redun.ini").write_text("\n".join(lines) + "\n")


def redun(config_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [REDUN, "-c", str(config_dir), *args], capture_output=True, text=True, env=os.environ
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"redun {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def test_redun_aws_commands_user_tag_and_console(
    batch_setup: BatchSetup, batch_wf: Any, tmp_path: Path
) -> None:
    config_dir = tmp_path / ".redun"
    write_config(config_dir, batch_setup.executor_config())
    failed = redun(
        config_dir, "run", "batch_workflow.py", "fail", "--message", "cli boom", check=False
    )
    assert failed.returncode == 1

    listing = redun(config_dir, "aws", "list-jobs", "-s", "FAILED").stdout.splitlines()
    assert len(listing) == 1 and "FAILED" in listing[0] and "aws_batch_test.fail" in listing[0]
    batch_id = listing[0].split()[0]
    redun_prefix = listing[0].split("redun job ")[1].split()[0]

    for option in (["-j", redun_prefix], ["-b", batch_id]):
        logs = redun(config_dir, "aws", "logs", *option).stdout
        assert "batch log line before failing" in logs
    everything = redun(config_dir, "aws", "logs", "--all", "-s", "FAILED").stdout
    assert batch_id in everything and "batch log line before failing" in everything
    bad = redun(config_dir, "aws", "list-jobs", "-s", "DONE", check=False)
    assert bad.returncode != 0 and "unknown Batch job status DONE" in bad.stderr

    # redun run tags the execution with the AWS identity at hand (no STS call).
    from redun.backends.db import Execution, RedunBackendDb

    backend = RedunBackendDb(db_uri=f"sqlite:///{config_dir / 'redun.db'}")
    backend.load()
    [execution] = backend.session.query(Execution).all()
    tags = dict(list(backend.get_tags([execution.id])[execution.id]))
    assert tags["user_aws"] == os.environ["AWS_ACCESS_KEY_ID"]
    assert "sts:getcalleridentity" not in batch_setup.moto.calls()
    check_console(backend, redun_prefix, batch_id)
    backend.close()

    slow = subprocess.Popen(
        [REDUN, "-c", str(config_dir), "run", "batch_workflow.py", "slow", "--seconds", "120"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        running = wait_for(
            lambda: [
                line
                for line in redun(config_dir, "aws", "list-jobs").stdout.splitlines()
                if "RUNNING" in line
            ],
            60,
            "the slow job to run",
        )
        killed = redun(config_dir, "aws", "kill-jobs").stdout
        assert running[0].split()[0] in killed
        assert slow.wait(timeout=60) != 0
    finally:
        slow.kill()
        slow.wait()
    wait_for(
        lambda: not redun(config_dir, "aws", "list-jobs").stdout.strip(), 20, "no job in flight"
    )


def check_console(backend: Any, redun_prefix: str, batch_id: str) -> None:
    """The failed job's screen links to its Batch screen: id, status and CloudWatch lines."""
    from redun_console.app import RedunConsole
    from redun_console.widgets import LinkTable
    from textual.widgets import Log, Static

    from tests.plugins.console.helpers import rows, widget_text

    async def main() -> None:
        app = RedunConsole(backend, f"jobs/{redun_prefix}", poll_interval=0)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            links = rows(app.screen.query_one("#links", LinkTable))
            assert links[-1][0] == "AWS Batch job and log"
            await pilot.press("l", *["down"] * (len(links) - 1), "enter")
            await pilot.pause()
            summary = widget_text(app.screen.query_one("#aws-batch-summary", Static))
            assert batch_id in summary and "FAILED" in summary
            log = app.screen.query_one("#aws-batch-log", Log)
            assert any("batch log line before failing" in line for line in log.lines)

    asyncio.run(main())
