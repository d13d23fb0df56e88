"""Entry point of redun-gcp (group `redun`): the ``gs://`` filesystem and ``gcp_batch``.

Targets are dotted strings: the google SDKs (seconds to import) load only
when a gs:// URL or a ``type = gcp_batch`` executor is first used.
"""

from __future__ import annotations

from redun.plugins import ExecutorSpec, FileSystemSpec, hookimpl

# Every key of redun's gcp_batch section, plus the shared remote-executor keys and
# api_endpoint/transport/credentials (for emulators and private endpoints).
GCP_BATCH_KEYS = (
    "project",
    "region",
    "gcs_scratch",
    "image",
    "machine_type",
    "vcpus",
    "memory",
    "task_count",
    "retries",
    "priority",
    "service_account_email",
    "labels",
    "boot_disk_size",
    "min_cpu_platform",
    "accelerators",
    "max_duration",
    "timeout",
    "debug",
    "debug_scratch",
    "interactive",
    "env",
    "job_monitor_interval",
    "job_stale_time",
    "min_array_size",
    "max_array_size",
    "submit_workers",
    "code_package",
    "code_includes",
    "code_excludes",
    "api_endpoint",
    "transport",
    "credentials",
)


@hookimpl
def redun_executors() -> list[ExecutorSpec]:
    return [
        ExecutorSpec(
            "gcp_batch",
            "redun_gcp.executor:GCPBatchExecutor",
            "Google Cloud Batch jobs (arrays as task groups)",
            config_keys=GCP_BATCH_KEYS,
        )
    ]


@hookimpl
def redun_filesystems() -> list[FileSystemSpec]:
    return [FileSystemSpec(("gs",), "redun_gcp.gcs:GSFileSystem", "Google Cloud Storage")]
