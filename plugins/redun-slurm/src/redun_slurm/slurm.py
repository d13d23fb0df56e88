"""SLURM's client commands (sbatch, squeue, scancel) and what their output means.

Only the command-line clients are used, as a user at a login node would:
no slurmrestd, no accounting database (``sacct`` needs slurmdbd). One
``squeue`` call answers for any number of jobs, so polling costs one command
per interval, not one per job. Every call is counted, for the benchmark.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from redun.executors.base import ExecutorError
from redun.executors.remote import RemoteState, RemoteStatus

# A job's labels travel in its comment, after this marker, as compact JSON.
COMMENT_PREFIX = "redun:"
# squeue -O fields, each ended by "|"; the comment (which may hold "|") comes last.
# Polling needs no name or comment (hundreds of bytes per job): it asks for less.
STATUS_FIELDS = ("JobArrayID", "State", "Reason", "exit_code", "TimeLimit")
LABEL_FIELDS = ("Name", "Comment")
COMMAND_TIMEOUT = 120.0

PENDING_STATES = frozenset(
    {
        "PENDING",
        "CONFIGURING",
        "REQUEUED",
        "REQUEUE_HOLD",
        "REQUEUE_FED",
        "RESV_DEL_HOLD",
        "SPECIAL_EXIT",
        "RESIZING",
    }
)
RUNNING_STATES = frozenset(
    {"RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT", "STOPPED", "SUSPENDED"}
)
ACTIVE_STATES = PENDING_STATES | RUNNING_STATES
# Why a failed job ended, in words a user can act on.
FAILURE_REASONS = {
    "FAILED": "failed",
    "CANCELLED": "was cancelled (scancel, or an administrator)",
    "OUT_OF_MEMORY": "ran out of memory (raise `memory`)",
    "NODE_FAIL": "lost its node (NODE_FAIL)",
    "BOOT_FAIL": "could not boot its node (BOOT_FAIL)",
    "PREEMPTED": "was preempted",
    "DEADLINE": "missed its --deadline",
    "REVOKED": "was revoked by another cluster of the federation",
}
# Pending reasons that never clear on their own: waiting on them would hang the run.
HOPELESS_REASONS = frozenset(
    {
        "BadConstraints",
        "DependencyNeverSatisfied",
        "InvalidAccount",
        "InvalidQOS",
        "PartitionNodeLimit",
        "PartitionTimeLimit",
    }
)


class SlurmError(ExecutorError):
    """A SLURM command failed or rejected a job; the message is SLURM's own."""


@dataclass(frozen=True)
class SlurmJob:
    """One row of ``squeue -r``: a job, or one index of a job array (``123_4``)."""

    id: str
    state: str
    reason: str
    exit_code: int  # the raw wait status, as squeue reports it
    time_limit: str
    name: str
    comment: str

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def hopeless(self) -> bool:
        return self.state in PENDING_STATES and self.reason in HOPELESS_REASONS

    @property
    def labels(self) -> dict[str, str] | None:
        """The redun labels in the comment, or None for a job redun did not submit."""
        if not self.comment.startswith(COMMENT_PREFIX):
            return None
        try:
            labels = json.loads(self.comment[len(COMMENT_PREFIX) :])
        except json.JSONDecodeError:
            return None
        return labels if isinstance(labels, dict) else None

    def exit_text(self) -> str:
        code, signal = self.exit_code >> 8, self.exit_code & 0x7F
        return f"signal {signal}" if signal else f"exit code {code}"

    def status(self) -> RemoteStatus:
        if self.state in PENDING_STATES:
            return RemoteStatus(RemoteState.PENDING)
        if self.state in RUNNING_STATES:
            return RemoteStatus(RemoteState.RUNNING)
        if self.state == "COMPLETED":
            return RemoteStatus(RemoteState.SUCCEEDED)
        if self.state == "TIMEOUT":
            reason = f"SLURM job {self.id} reached its time limit of {self.time_limit}"
            return RemoteStatus(RemoteState.FAILED, reason, timed_out=True)
        what = FAILURE_REASONS.get(self.state, f"ended in state {self.state}")
        reason = f"SLURM job {self.id} {what}"
        if self.state == "FAILED":
            reason += f" with {self.exit_text()}"
        return RemoteStatus(RemoteState.FAILED, reason)


def squeue_format(labels: bool) -> str:
    fields = STATUS_FIELDS + LABEL_FIELDS if labels else STATUS_FIELDS
    return ",".join(f"{name}:|" for name in fields[:-1]) + f",{fields[-1]}:"


def parse_squeue(output: str, labels: bool = True) -> list[SlurmJob]:
    """Rows of ``squeue --Format squeue_format(labels)``; malformed lines are skipped."""
    count = len(STATUS_FIELDS) + (len(LABEL_FIELDS) if labels else 0)
    jobs = []
    for line in output.splitlines():
        parts = line.split("|", count - 1)
        if len(parts) != count:
            continue
        if not labels:
            parts += ["", ""]
        job_id, state, reason, exit_code, time_limit, name, comment = parts
        try:
            code = int(exit_code)
        except ValueError:
            code = 0
        # squeue shows "CANCELLED by 0" for jobs cancelled by a user.
        jobs.append(
            SlurmJob(
                job_id, state.split()[0], reason.strip(), code, time_limit.strip(), name, comment
            )
        )
    return jobs


def base_job_ids(job_ids: Iterable[str]) -> list[str]:
    """The jobs to ask squeue about: an array's id covers all its indexes."""
    return sorted({job_id.split("_", 1)[0] for job_id in job_ids}, key=_numeric)


def _numeric(job_id: str) -> tuple[int, str]:
    return (int(job_id), "") if job_id.isdigit() else (0, job_id)


def _slurm_message(stderr: str) -> str:
    """SLURM's error lines as one line, without the repeated ``sbatch: error:`` prefixes."""
    lines = []
    for line in stderr.splitlines():
        line = line.strip()
        for prefix in ("sbatch: error:", "squeue: error:", "scancel: error:", "error:"):
            if line.startswith(prefix):
                line = line[len(prefix) :].strip()
                break
        if line and line not in lines:
            lines.append(line)
    return "; ".join(lines) or "no error message"


class SlurmCommands:
    """Runs SLURM's clients; `calls` counts them by name."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()

    def run(
        self, argv: list[str], input_text: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess:
        with self._calls_lock:
            self.calls[argv[0]] += 1
        try:
            proc = subprocess.run(
                argv,
                input=input_text,
                capture_output=True,
                text=True,
                stdin=None if input_text is not None else subprocess.DEVNULL,
                timeout=COMMAND_TIMEOUT,
            )
        except FileNotFoundError:
            raise SlurmError(
                f"{self.where}: {argv[0]} not found on PATH: run redun on a machine with "
                "SLURM's client commands (Debian: slurm-client), or add them to PATH"
            ) from None
        except subprocess.TimeoutExpired:
            raise SlurmError(
                f"{self.where}: {argv[0]} did not answer within {COMMAND_TIMEOUT:g} s "
                "(is slurmctld reachable?)"
            ) from None
        if check and proc.returncode != 0:
            raise SlurmError(
                f"{self.where}: {argv[0]} failed (exit {proc.returncode}): "
                f"{_slurm_message(proc.stderr)}"
            )
        return proc

    def sbatch(self, args: list[str], script: str) -> str:
        """Submit `script`; SLURM's job id."""
        proc = self.run(["sbatch", "--parsable", *args], input_text=script, check=False)
        if proc.returncode != 0:
            raise SlurmError(
                f"{self.where}: sbatch rejected the job: {_slurm_message(proc.stderr)}"
            )
        # --parsable prints "ID" or "ID;CLUSTER".
        lines = proc.stdout.strip().splitlines()
        job_id = lines[-1].split(";", 1)[0].strip() if lines else ""
        if not job_id.isdigit():
            raise SlurmError(f"{self.where}: sbatch printed no job id: {proc.stdout.strip()!r}")
        return job_id

    def squeue(
        self, job_ids: list[str] | None = None, mine: bool = True, labels: bool = True
    ) -> list[SlurmJob]:
        """Jobs in any state SLURM still remembers (finished ones for MinJobAge seconds).

        `job_ids` limits the answer to those jobs (arrays by their whole array),
        else to the user's jobs (`mine`) or everyone's; without `labels` the
        rows carry no name or comment.
        """
        argv = ["squeue", "--noheader", "--array", "--states=all"]
        argv += ["--Format", squeue_format(labels)]
        if job_ids is not None:
            if not job_ids:
                return []
            argv.append("--jobs=" + ",".join(base_job_ids(job_ids)))
        elif mine:
            argv.append("--me")
        proc = self.run(argv, check=False)
        if proc.returncode != 0:
            # Asked only about jobs SLURM has forgotten: none of them is known.
            if job_ids is not None and "Invalid job id" in proc.stderr:
                return []
            raise SlurmError(
                f"{self.where}: squeue failed (exit {proc.returncode}): "
                f"{_slurm_message(proc.stderr)}"
            )
        return parse_squeue(proc.stdout, labels)

    def scancel(self, job_ids: list[str]) -> None:
        # Jobs that already ended make scancel complain; that is not a failure to cancel.
        if job_ids:
            self.run(["scancel", *job_ids], check=False)
