"""Records that console hooks return (frozen, with lazily imported targets)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScreenSpec:
    """A console screen contributed by a plugin.

    `route` is a regular expression matched against the whole route; its named
    groups are passed as keyword arguments to `target`, a ``"module:Class"``
    naming a ``redun_console.screens.base.RouteScreen`` subclass.
    """

    route: str
    target: str
    description: str = ""


@dataclass(frozen=True)
class JobLink:
    """A link shown on a job's screen: `label`, and the `route` it opens."""

    label: str
    route: str
