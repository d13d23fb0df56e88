"""The ``slurm`` executor: each redun job is an sbatch job, many of one task a job array.

Everything but the engine calls comes from the core's `RemoteExecutor`: code
packaging, scratch files, ``redun oneshot``, arrays, retries, re-attaching
and cancelling. Here a job is submitted with ``sbatch`` (its labels in
``--comment``, so a restarted scheduler finds it with ``squeue``), all jobs
are polled with one ``squeue`` per interval, and ``scancel`` stops them.

Scratch is a directory on the cluster's shared filesystem: the scheduler
writes inputs there, the job on its node reads them and writes its result,
and SLURM writes the job's output file (the logs) under ``scratch/slurm/``.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import sysconfig
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from redun.executors import scratch
from redun.executors.base import ExecutorError
from redun.executors.remote import (
    LABEL_ARRAY,
    LABEL_EVAL_HASH,
    LABEL_EXECUTOR,
    LABEL_JOB_ID,
    LABEL_SCRATCH,
    LOG_TAIL_LINES,
    RemoteExecutor,
    RemoteJobTimeoutError,
    RemoteSpec,
    RemoteState,
    RemoteStatus,
)

from redun_slurm.script import CONTAINER_RUNTIMES, Container, batch_script
from redun_slurm.slurm import COMMENT_PREFIX, SlurmCommands, SlurmJob

if TYPE_CHECKING:
    from redun.scheduler import Scheduler

# Job tags recorded on each finished job (`redun log`, `redun slurm logs -j`).
TAG_JOB = "slurm_job"
TAG_LOG = "slurm_log"
# The subdirectory of scratch holding SLURM's output files and the jobs' exit statuses.
LOG_SUBDIR = "slurm"
# Next to an array's core scratch files: each index's redun job id, a line each.
ARRAY_JOB_IDS = "job_ids"


class SlurmTimeoutError(RemoteJobTimeoutError):
    """A job ran past its time limit (SLURM's ``time``, or redun's ``timeout``)."""


def _sbatch_time(seconds: float) -> str:
    """A redun timeout as an sbatch --time in whole minutes (SLURM's granularity)."""
    return str(max(1, math.ceil(seconds / 60)))


class SlurmExecutor(RemoteExecutor):
    """Runs jobs as SLURM batch jobs, directly on the node or in a container."""

    DEFAULTS: Mapping[str, str] = {
        **RemoteExecutor.DEFAULTS,
        # 0: no --mem, the cluster's default (DefMemPerCPU) applies.
        "memory": "0",
        "job_monitor_interval": "2.0",
        "job_stale_time": "0.5",
        "min_array_size": "5",
        "partition": "",
        "account": "",
        "qos": "",
        "time": "",
        "cpus": "",
        "sbatch_args": "",
        "job_name_prefix": "redun",
        "container_runtime": "podman",
        "volumes": "[]",
        "setup": "",
    }
    requires_image = False
    array_index_env = "SLURM_ARRAY_TASK_ID"
    timeout_error = SlurmTimeoutError
    # How long a cancel waits for SLURM to end the jobs (so none is left in squeue).
    CANCEL_WAIT_SECONDS = 20.0

    def __init__(
        self,
        name: str,
        scheduler: Scheduler | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(name, scheduler=scheduler, config=config)
        if scratch.is_url(self.scratch_prefix):
            raise ExecutorError(
                f"[{self.section}] scratch = {self.scratch_prefix} must be a directory on the "
                "cluster's shared filesystem (SLURM jobs read and write it)"
            )
        self.log_dir = os.path.join(scratch.local_dir(self.scratch_prefix), LOG_SUBDIR)
        self._runtime(self.settings["container_runtime"])
        self.volumes = self._volumes()
        self.sbatch_args = self._split_args(self.settings["sbatch_args"], "sbatch_args")
        self.job_name_prefix = self.settings["job_name_prefix"]
        self.commands = SlurmCommands(f"[{self.section}]")
        # Array id -> size, so cancelling a whole array is one id for scancel.
        self._array_sizes: dict[str, int] = {}

    def _runtime(self, raw: Any) -> str:
        """A checked `container_runtime` (from the config, or a task option)."""
        if raw not in CONTAINER_RUNTIMES:
            raise ExecutorError(
                f"[{self.section}] container_runtime = {raw!r}: use one of "
                f"{', '.join(CONTAINER_RUNTIMES)}"
            )
        return str(raw)

    def _split_args(self, raw: Any, key: str) -> list[str]:
        if isinstance(raw, (list, tuple)):
            return [str(arg) for arg in raw]
        try:
            return shlex.split(str(raw or ""))
        except ValueError as error:
            raise ExecutorError(f"[{self.section}] {key} = {raw!r}: {error}") from None

    def _volumes(self) -> list[tuple[str, str]]:
        """`volumes` pairs; relative host paths are relative to the config dir."""
        volumes = []
        for pair in self._parse_json(self.settings["volumes"], "volumes", list):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ExecutorError(
                    f"[{self.section}] volumes must be a JSON list of [host, container] pairs"
                )
            host, inside = (str(part) for part in pair)
            volumes.append((os.path.join(self.config_dir or os.getcwd(), host), inside))
        return volumes

    # -- what one submission asks of SLURM ------------------------------------------------

    def _setting(self, spec: RemoteSpec, key: str) -> Any:
        """A task option if the job sets it, else this executor's setting."""
        return spec.options.get(key, self.settings.get(key))

    def _cpus(self, spec: RemoteSpec) -> float:
        """``cpus`` is SLURM's word and ``vcpus`` redun's; the task's own choice wins."""
        if "cpus" in spec.options:
            raw = spec.options["cpus"]
        elif "vcpus" in spec.options or not self.settings.get("cpus"):
            return spec.vcpus
        else:
            raw = self.settings["cpus"]
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ExecutorError(f"[{self.section}] cpus = {raw!r} is not a number") from None

    def _job_name(self, spec: RemoteSpec) -> str:
        return self.job_name_prefix + spec.name.removeprefix("redun")

    def sbatch_arguments(self, spec: RemoteSpec, array_size: int | None = None) -> list[str]:
        """sbatch's options for `spec` (an array of `array_size` indexes if given)."""
        output = "%A_%a.out" if array_size is not None else "%j.out"
        labels = json.dumps(spec.labels, separators=(",", ":"), sort_keys=True)
        args = [
            f"--job-name={self._job_name(spec)}",
            f"--comment={COMMENT_PREFIX}{labels}",
            f"--output={os.path.join(self.log_dir, output)}",
        ]
        if array_size is not None:
            args.append(f"--array=0-{array_size - 1}")
        for key in ("partition", "account", "qos"):
            value = self._setting(spec, key)
            if value:
                args.append(f"--{key}={value}")
        walltime = self._setting(spec, "time")
        if not walltime and spec.timeout:
            walltime = _sbatch_time(spec.timeout)
        if walltime:
            args.append(f"--time={walltime}")
        cpus = self._cpus(spec)
        if cpus > 0:
            args.append(f"--cpus-per-task={math.ceil(cpus)}")
        if spec.memory > 0:
            args.append(f"--mem={math.ceil(spec.memory * 1024)}M")
        if spec.gpus > 0:
            args.append(f"--gres=gpu:{spec.gpus}")
        if "sbatch_args" in spec.options:
            args += self._split_args(spec.options["sbatch_args"], "sbatch_args")
        else:
            args += self.sbatch_args
        return args

    def _path_prefix(self) -> str:
        """This Python's scripts directory, so the node runs the scheduler's own redun."""
        scripts = sysconfig.get_path("scripts")
        return scripts if os.path.exists(os.path.join(scripts, "redun")) else ""

    def job_script(self, spec: RemoteSpec) -> str:
        env = dict(spec.env)
        if not spec.image:
            if not self.code_config.enabled:
                env.setdefault("PYTHONPATH", self._python_path())
            return batch_script(
                spec.command,
                env,
                self.log_dir,
                setup=str(self._setting(spec, "setup") or ""),
                path_prefix=self._path_prefix(),
            )
        local_scratch = scratch.local_dir(self.scratch_prefix)
        container = Container(
            runtime=self._runtime(self._setting(spec, "container_runtime")),
            image=spec.image,
            volumes=[(local_scratch, local_scratch), *self.volumes],
            cpus=self._cpus(spec),
            memory_mb=math.ceil(spec.memory * 1024),
            labels={LABEL_EXECUTOR: self.name, LABEL_SCRATCH: self.scratch_prefix},
        )
        return batch_script(
            spec.command,
            env,
            self.log_dir,
            setup=str(self._setting(spec, "setup") or ""),
            container=container,
        )

    def _python_path(self) -> str:
        """Without a code package the node imports the workflow where the scheduler does."""
        from redun.utils import get_import_paths

        paths = [os.path.abspath(path) for path in get_import_paths()] + [os.getcwd()]
        if os.environ.get("PYTHONPATH"):
            paths.append(os.environ["PYTHONPATH"])
        return os.pathsep.join(paths)

    # -- engine calls ---------------------------------------------------------------------

    def submit_command(self, spec: RemoteSpec) -> str:
        os.makedirs(self.log_dir, exist_ok=True)
        return self.commands.sbatch(self.sbatch_arguments(spec), self.job_script(spec))

    def submit_array_command(self, spec: RemoteSpec, size: int) -> list[str]:
        os.makedirs(self.log_dir, exist_ok=True)
        # One comment serves the whole array; each index's redun job id goes in scratch.
        job_ids = "\n".join(labels.get(LABEL_JOB_ID, "") for labels in spec.array_labels)
        array_uuid = spec.labels.get(LABEL_ARRAY, "")
        scratch.write_bytes(
            scratch.get_array_scratch_file(self.scratch_prefix, array_uuid, ARRAY_JOB_IDS),
            job_ids.encode(),
        )
        array_id = self.commands.sbatch(self.sbatch_arguments(spec, size), self.job_script(spec))
        self._array_sizes[array_id] = size
        return [f"{array_id}_{index}" for index in range(size)]

    def poll(self, remote_ids: list[str]) -> dict[str, RemoteStatus]:
        known = {job.id: job for job in self.commands.squeue(remote_ids, labels=False)}
        hopeless = [known[i].id for i in remote_ids if i in known and known[i].hopeless]
        if hopeless:
            self.commands.scancel(self._compact_ids(hopeless))
        statuses = {}
        for remote_id in remote_ids:
            job = known.get(remote_id)
            if job is None:
                statuses[remote_id] = self.forgotten_status(remote_id)
            elif job.hopeless:
                statuses[remote_id] = RemoteStatus(
                    RemoteState.FAILED,
                    f"SLURM job {job.id} can never start (pending for reason {job.reason}; "
                    "see JOB REASON CODES in `man squeue`) and was cancelled",
                )
            else:
                statuses[remote_id] = job.status()
        return statuses

    def exit_file(self, remote_id: str) -> str:
        return os.path.join(self.log_dir, f"{remote_id}.exit")

    def log_file(self, remote_id: str) -> str:
        return os.path.join(self.log_dir, f"{remote_id}.out")

    def forgotten_status(self, remote_id: str) -> RemoteStatus:
        """A job squeue no longer lists (older than MinJobAge): its exit status file says."""
        try:
            with open(self.exit_file(remote_id)) as infile:
                code = infile.read().strip()
        except FileNotFoundError:
            return RemoteStatus(
                RemoteState.FAILED,
                f"SLURM no longer knows job {remote_id} and it left no exit status "
                f"in {self.exit_file(remote_id)}",
            )
        if code == "0":
            return RemoteStatus(RemoteState.SUCCEEDED)
        return RemoteStatus(
            RemoteState.FAILED, f"SLURM job {remote_id} ended with exit code {code}"
        )

    def _compact_ids(self, remote_ids: list[str]) -> list[str]:
        """Whole arrays as one id (scancel then ends them in one request)."""
        by_array: dict[str, list[str]] = {}
        singles = []
        for remote_id in remote_ids:
            array_id, sep, _ = remote_id.partition("_")
            if sep:
                by_array.setdefault(array_id, []).append(remote_id)
            else:
                singles.append(remote_id)
        compact = singles
        for array_id, indexes in by_array.items():
            if len(set(indexes)) == self._array_sizes.get(array_id):
                compact.append(array_id)
            else:
                compact += indexes
        return compact

    def cancel(self, remote_ids: list[str]) -> None:
        """scancel, then wait until SLURM shows none of them queued or running."""
        if not remote_ids:
            return
        self.commands.scancel(self._compact_ids(remote_ids))
        wanted = set(remote_ids)
        deadline = time.monotonic() + self.CANCEL_WAIT_SECONDS
        while True:
            alive = [
                job.id
                for job in self.commands.squeue(list(wanted), labels=False)
                if job.id in wanted and job.active
            ]
            if not alive:
                return
            if time.monotonic() > deadline:
                self.log(f"SLURM still shows {len(alive)} cancelled job(s) active: {alive[:5]}")
                return
            time.sleep(0.2)

    def logs(self, remote_id: str, tail: int = LOG_TAIL_LINES) -> list[str]:
        try:
            with open(self.log_file(remote_id), errors="replace") as infile:
                lines = infile.read().splitlines()
        except FileNotFoundError:
            return []
        return [line + "\n" for line in lines[-tail:]]

    def job_tags(self, remote_id: str) -> list[tuple[str, str]]:
        return [(TAG_JOB, remote_id), (TAG_LOG, self.log_file(remote_id))]

    def slurm_jobs(
        self, jobs: list[SlurmJob] | None = None
    ) -> list[tuple[SlurmJob, dict[str, str]]]:
        """This executor's jobs SLURM still knows (or among `jobs`), with their labels.

        An array's comment holds the array's labels; each index's eval_hash and
        redun job id come from the array's scratch files.
        """
        indexed: dict[str, list[dict[str, str]]] = {}
        found = []
        for job in self.commands.squeue() if jobs is None else jobs:
            labels = job.labels
            if (
                labels is None
                or labels.get(LABEL_EXECUTOR) != self.name
                or labels.get(LABEL_SCRATCH) != self.scratch_prefix
            ):
                continue
            array_uuid = labels.get(LABEL_ARRAY)
            _, _, index = job.id.partition("_")
            if array_uuid and index.isdigit():
                if array_uuid not in indexed:
                    indexed[array_uuid] = self._array_labels(array_uuid)
                per_index = indexed[array_uuid]
                unknown = {LABEL_EVAL_HASH: "", LABEL_JOB_ID: ""}
                labels = {
                    **labels,
                    **(per_index[int(index)] if int(index) < len(per_index) else unknown),
                }
            found.append((job, labels))
        return found

    def _array_file(self, array_uuid: str, name: str) -> list[str]:
        path = scratch.get_array_scratch_file(self.scratch_prefix, array_uuid, name)
        try:
            return scratch.read_bytes(path).decode().split("\n")
        except FileNotFoundError:
            return []

    def _array_labels(self, array_uuid: str) -> list[dict[str, str]]:
        """Each index's eval_hash (the core's file) and redun job id (ours)."""
        hashes = self._array_file(array_uuid, scratch.SCRATCH_HASHES)
        job_ids = self._array_file(array_uuid, ARRAY_JOB_IDS)
        job_ids += [""] * (len(hashes) - len(job_ids))
        return [
            {LABEL_EVAL_HASH: eval_hash, LABEL_JOB_ID: job_id}
            for eval_hash, job_id in zip(hashes, job_ids)
        ]

    def list_jobs(self) -> dict[str, dict[str, str]]:
        """Jobs still queued or running: the ones a restarted scheduler re-attaches to."""
        return {job.id: labels for job, labels in self.slurm_jobs() if job.active}

    def command_counts(self) -> dict[str, int]:
        """SLURM commands run so far, by name (sbatch, squeue, scancel)."""
        return dict(self.commands.calls)
