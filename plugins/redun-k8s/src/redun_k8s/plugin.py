"""Entry point of redun-k8s (group `redun`): the ``k8s`` executor and ``redun k8s``.

Both are named by dotted paths, so listing plugins or building the CLI
imports neither the executor nor the kubernetes client.
"""

from __future__ import annotations

from redun.plugins import CommandSpec, ExecutorSpec, hookimpl

# Kept here (not imported from the executor module) so listing keys imports nothing.
CONFIG_KEYS = (
    "image",
    "scratch",
    "s3_scratch",
    "namespace",
    "create_namespace",
    "secret_name",
    "import_aws_secrets",
    "secret_env_vars",
    "vcpus",
    "memory",
    "gpus",
    "ephemeral_storage",
    "retries",
    "service_account_name",
    "job_name_prefix",
    "timeout",
    "annotations",
    "k8s_labels",
    "default_k8s_labels",
    "node_affinity",
    "env",
    "volumes",
    "volume_mounts",
    "image_pull_secrets",
    "ttl_seconds_after_finished",
    "kubeconfig",
    "context",
    "job_monitor_interval",
    "job_stale_time",
    "min_array_size",
    "max_array_size",
    "submit_workers",
    "code_package",
    "code_includes",
    "code_excludes",
    "include_aws_env",
)


@hookimpl
def redun_executors() -> list[ExecutorSpec]:
    return [
        ExecutorSpec(
            "k8s",
            "redun_k8s.executor:K8SExecutor",
            "Kubernetes Jobs (Indexed Jobs for arrays)",
            config_keys=CONFIG_KEYS,
        )
    ]


@hookimpl
def redun_commands() -> list[CommandSpec]:
    return [CommandSpec("k8s", "redun_k8s.cli:k8s", "List, inspect and delete Kubernetes jobs")]
