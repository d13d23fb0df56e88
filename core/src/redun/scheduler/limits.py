"""Resource limits: jobs wait in a queue until their resources are free."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any


def parse_limits(limits_config: Mapping[str, str] | None) -> dict[str, int]:
    """`[limits] name = N` as a dict; a non-integer capacity is a config error."""
    limits: dict[str, int] = {}
    for name, value in (limits_config or {}).items():
        try:
            limits[name] = int(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"[limits] {name} = {value!r} is not an integer; set it to a whole number"
            ) from None
    return limits


class Limits:
    """Capacities, current use, and the jobs waiting for capacity (in arrival order)."""

    def __init__(self, capacities: dict[str, int]) -> None:
        self.capacities = capacities
        self.used: defaultdict[str, int] = defaultdict(int)
        self.waiting: list[tuple[Any, Any]] = []

    def fits(self, job_limits: Mapping[str, int], extra: Mapping[str, int] | None = None) -> bool:
        # Unconfigured resources have capacity 1.
        extra = extra or {}
        return all(
            self.capacities.get(name, 1) - self.used[name] - count - extra.get(name, 0) >= 0
            for name, count in job_limits.items()
        )

    def consume(self, job_limits: Mapping[str, int]) -> None:
        for name, count in job_limits.items():
            self.used[name] += count

    def release(self, job_limits: Mapping[str, int]) -> None:
        for name, count in job_limits.items():
            self.used[name] -= count

    def pop_ready(self) -> list[tuple[Any, Any]]:
        """Waiting entries that now fit together; the rest keep waiting."""
        if not self.waiting:
            return []
        ready, still_waiting = [], []
        planned: defaultdict[str, int] = defaultdict(int)
        for entry in self.waiting:
            job_limits = entry[0].get_limits()
            if self.fits(job_limits, planned):
                ready.append(entry)
                for name, count in job_limits.items():
                    planned[name] += count
            else:
                still_waiting.append(entry)
        self.waiting = still_waiting
        return ready
