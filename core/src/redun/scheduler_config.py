"""redun's ``redun.scheduler_config``: config-directory names and post-processing.

The logic lives in `redun.config`; this module keeps redun's import path and
names for it.
"""

from __future__ import annotations

import os

from redun.config import (
    CONFIG_DIR_NAME,
    CONFIG_ENV,
    CONFIG_FILENAME,
    DEFAULT_DB_URI,
    DEFAULT_REPO_NAME,
    Config,
    absolute_db_uri,
    create_config_section,
    postprocess_config,
)

REDUN_CONFIG_ENV = CONFIG_ENV
REDUN_USER_ENV = "REDUN_USER"
REDUN_CONFIG_DIR = CONFIG_DIR_NAME
REDUN_INI_FILE = CONFIG_FILENAME


def get_abs_config_dir(config_dir: str, cwd: str | None = None) -> str:
    """`config_dir` made absolute against `cwd` (default: the current directory)."""
    return os.path.normpath(os.path.join(cwd or os.getcwd(), config_dir))


def get_abs_db_uri(db_uri: str, config_dir: str, cwd: str | None = None) -> str:
    """A relative SQLite `db_uri` made absolute against `config_dir` (itself against `cwd`)."""
    return absolute_db_uri(db_uri, get_abs_config_dir(config_dir, cwd))


__all__ = [
    "DEFAULT_DB_URI",
    "DEFAULT_REPO_NAME",
    "REDUN_CONFIG_DIR",
    "REDUN_CONFIG_ENV",
    "REDUN_INI_FILE",
    "REDUN_USER_ENV",
    "Config",
    "create_config_section",
    "get_abs_config_dir",
    "get_abs_db_uri",
    "postprocess_config",
]
