"""The redun.ini sections the core understands."""

from __future__ import annotations

from redun.plugins import ConfigSectionSpec, hookimpl


@hookimpl
def redun_config_sections() -> list[ConfigSectionSpec]:
    return [
        ConfigSectionSpec(
            "scheduler",
            keys=(
                "setup_scheduler",
                "ignore_warnings",
                "job_status_interval",
                "federated_configs",
                "context",
                "context_file",
                "strict_config",
                "keep_going",
                "stop_grace",
            ),
            description="Scheduler behaviour",
        ),
        ConfigSectionSpec(
            "backend",
            keys=(
                "db_uri",
                "db_aws_secret_name",
                "db_username_env",
                "db_password_env",
                "automigrate",
                "db_retries",
                "db_retries_backoff",
                "db_retries_backoff_max",
                "db_outage_timeout",
                "max_value_size",
                "value_store_path",
                "value_store_min_size",
                "config_dir",
            ),
            description="Call-graph database",
        ),
        ConfigSectionSpec("limits", open=True, description="Resource name = capacity"),
        ConfigSectionSpec("tags", open=True, description="Tags added to every execution"),
        ConfigSectionSpec("repos.*", keys=("config_dir",), description="Other repositories"),
        ConfigSectionSpec("executors.*", description="Executors; keys depend on `type`"),
        ConfigSectionSpec("federated_tasks.*", open=True, description="Federated entry points"),
    ]
