"""redun-slurm as a plugin, and its pieces that need no cluster (squeue parsing, job script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from redun.executors.remote import RemoteExecutor, RemoteState
from redun.plugins import MissingPluginError
from redun.plugins.manager import RedunPluginManager, get_plugin_manager
from redun_slurm.script import Container, batch_script
from redun_slurm.slurm import parse_squeue


def test_slurm_type_and_command_resolve_to_the_plugin() -> None:
    from redun_slurm.executor import SlurmExecutor

    manager = get_plugin_manager()
    assert manager.resolve("executor", "slurm") is SlurmExecutor
    assert manager.owner_of("executor", "slurm") == "redun-slurm"
    assert issubclass(SlurmExecutor, RemoteExecutor)
    assert "slurm" in manager.command_specs()


def test_declared_config_keys_are_the_keys_read() -> None:
    from redun_slurm.executor import SlurmExecutor

    spec = get_plugin_manager().executor_specs()["slurm"]
    assert set(spec.config_keys) == set(SlurmExecutor.DEFAULTS) | set(
        RemoteExecutor.COMMON_CONFIG_KEYS
    )


def test_plugin_module_imports_neither_executor_nor_cli() -> None:
    code = (
        "import sys, redun_slurm.plugin; "
        "print(sorted(m for m in sys.modules if m.startswith(('redun_slurm.executor', "
        "'redun_slurm.cli', 'redun.executors.remote'))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_redun_plugins_lists_the_hooks() -> None:
    redun = str(Path(sys.executable).parent / "redun")
    proc = subprocess.run([redun, "plugins", "--json"], capture_output=True, text=True, check=True)
    slurm = next(p for p in json.loads(proc.stdout)["plugins"] if p["name"] == "slurm")
    assert slurm["distribution"] == "redun-slurm"
    assert {"redun_executors", "redun_commands"} <= set(slurm["hooks"])


def test_without_the_plugin_the_type_names_its_distribution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDUN_DISABLE_PLUGIN_AUTOLOAD", "1")
    manager = RedunPluginManager(strict=True)
    manager.load(autoload=False)
    with pytest.raises(
        MissingPluginError, match="No executor type 'slurm': pip install redun-slurm"
    ):
        manager.resolve("executor", "slurm")


SQUEUE = (
    '12|COMPLETED|None|0|5:00|redun-aaaa-1|redun:{"redun.executor":"slurm"}\n'
    '13_4|FAILED|NonZeroExitCode|768|UNLIMITED|redun-array-bb|redun:{"a":"x|y"}\n'
    "14|CANCELLED by 0|None|15|UNLIMITED|wrap|(null)\n"
    "15|TIMEOUT|TimeLimit|0|1:00|redun-cc-1|redun:{}\n"
    "16|PENDING|PartitionTimeLimit|0|5:00|redun-dd-1|redun:{}\n"
    "17|RUNNING|None|0|UNLIMITED|redun-ee-1|redun:not json\n"
    "garbage line\n"
)


def test_squeue_rows_and_what_they_mean() -> None:
    jobs = {job.id: job for job in parse_squeue(SQUEUE)}
    assert set(jobs) == {"12", "13_4", "14", "15", "16", "17"}
    assert jobs["12"].status().state == RemoteState.SUCCEEDED
    assert jobs["12"].labels == {"redun.executor": "slurm"}
    assert jobs["13_4"].labels == {"a": "x|y"}  # the comment may hold the separator
    failed = jobs["13_4"].status()
    assert failed.state == RemoteState.FAILED and failed.reason.endswith("with exit code 3")
    cancelled = jobs["14"]
    assert cancelled.state == "CANCELLED" and cancelled.labels is None
    assert cancelled.exit_text() == "signal 15"
    assert "was cancelled" in cancelled.status().reason
    timeout = jobs["15"].status()
    assert timeout.timed_out and "time limit of 1:00" in timeout.reason
    assert jobs["16"].hopeless and jobs["16"].active
    assert jobs["17"].status().state == RemoteState.RUNNING and jobs["17"].labels is None


def test_job_script_runs_the_command_in_a_private_directory(tmp_path: Path) -> None:
    script = batch_script(
        ["sh", "-c", "pwd > $OUT; echo $GREETING"],
        {"GREETING": "it's me", "OUT": str(tmp_path / "pwd")},
        str(tmp_path),
        setup="export EXTRA=1",
        path_prefix="/opt/venv/bin",
    )
    assert 'export PATH=/opt/venv/bin:"$PATH"' in script
    env = {"SLURM_JOB_ID": "77", "PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "it's me\n"
    workdir = (tmp_path / "pwd").read_text().strip()
    assert workdir.startswith(str(tmp_path / "redun-slurm-77."))
    assert not os.path.exists(workdir)  # removed afterwards
    assert (tmp_path / "77.exit").read_text() == "0\n"

    failing = batch_script(["sh", "-c", "exit 3"], {}, str(tmp_path))
    env["SLURM_ARRAY_JOB_ID"], env["SLURM_ARRAY_TASK_ID"] = "80", "2"
    assert subprocess.run(["bash", "-c", failing], env=env).returncode == 3
    assert (tmp_path / "80_2.exit").read_text() == "3\n"


def test_container_wrappers() -> None:
    podman = Container("podman", "img:1", volumes=[("/s", "/s")], cpus=2, memory_mb=512)
    script = batch_script(["redun", "oneshot", "x"], {"K": "v w"}, "/logs", container=podman)
    run = next(line for line in script.splitlines() if line.startswith("podman run"))
    assert run.startswith("podman run --rm --network host --volume /s:/s --cpus 2 --memory 512m")
    assert "--env 'K=v w'" in run and "--env SLURM_ARRAY_TASK_ID" in run
    assert run.endswith('--name "$redun_container" img:1 redun oneshot x &')
    # The container's engine, not the job, owns the container: the trap removes it.
    assert 'redun_stop() { podman kill "$redun_container"' in script

    apptainer = Container("apptainer", "/images/redun.sif", volumes=[("/s", "/s")])
    script = batch_script(["redun", "oneshot", "x"], {"K": "v"}, "/logs", container=apptainer)
    assert "apptainer exec --bind /s:/s --env K=v /images/redun.sif redun oneshot x &" in script


def test_status_rows_without_labels() -> None:
    jobs = parse_squeue("21_3|RUNNING|None|0|UNLIMITED\n22|COMPLETED|None|0|5:00\n", labels=False)
    assert [(job.id, job.state, job.comment) for job in jobs] == [
        ("21_3", "RUNNING", ""),
        ("22", "COMPLETED", ""),
    ]


def test_whole_arrays_are_cancelled_by_their_array_id(tmp_path: Path) -> None:
    from redun_slurm.executor import SlurmExecutor

    executor = SlurmExecutor("slurm", config={"scratch": str(tmp_path)})
    executor._array_sizes["5"] = 3
    assert executor._compact_ids(["5_0", "5_1", "5_2", "7"]) == ["7", "5"]
    assert executor._compact_ids(["5_0", "5_2"]) == ["5_0", "5_2"]


def test_job_script_on_sigterm_stops_its_command_and_cleans_up(tmp_path: Path) -> None:
    """What scancel and SLURM's time limit send first: the command ends, its directory goes."""
    import signal
    import time

    pid_file = tmp_path / "pid"
    script = batch_script(["sh", "-c", f"echo $$ > {pid_file}; exec sleep 300"], {}, str(tmp_path))
    env = {"SLURM_JOB_ID": "90", "PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    job = subprocess.Popen(["bash", "-c", script], env=env)
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    job.send_signal(signal.SIGTERM)
    assert job.wait(timeout=10) == 143
    assert not list(tmp_path.glob("redun-slurm-90.*"))
    command_pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{command_pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    stat = Path(f"/proc/{command_pid}/stat")
    assert not stat.exists() or stat.read_text().split()[2] == "Z"
