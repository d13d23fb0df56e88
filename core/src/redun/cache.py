"""Cache policy enums shared by tasks, the scheduler and the state store."""

from __future__ import annotations

from enum import Enum


class CacheScope(str, Enum):
    """How far a job may look for a previous result."""

    NONE = "NONE"  # always run
    CSE = "CSE"  # reuse only within the current execution
    BACKEND = "BACKEND"  # reuse across executions (default)


class CacheCheckValid(str, Enum):
    """How a cached result is validated."""

    FULL = "full"  # single reduction: re-check every child
    SHALLOW = "shallow"  # ultimate reduction: trust the subtree if its code is unchanged


class CacheResult(str, Enum):
    """Which cache served a job."""

    CSE = "CSE"
    SINGLE = "SINGLE"
    ULTIMATE = "ULTIMATE"
    MISS = "MISS"
