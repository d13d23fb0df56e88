"""Routes: the text after ``redun console`` that names a screen (``jobs/ID``, ``executions``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redun.plugins.manager import load_target

from redun_console.resolve import ResolveError, infer_route
from redun_console.types import ScreenSpec

if TYPE_CHECKING:
    from redun.backends.db.reader import CallGraphReader

DEFAULT_ROUTE = "executions"

BUILTIN_SCREENS = (
    ScreenSpec(
        r"executions(\?(?P<query>.*))?",
        "redun_console.screens.executions:ExecutionsScreen",
        "Executions, newest first; ?status:failed task:NAME tag:K=V after:DATE before:DATE",
    ),
    ScreenSpec(
        r"executions/(?P<execution_id>[^/?]+)",
        "redun_console.screens.execution:ExecutionScreen",
        "One execution: summary, tags, job status table and job tree",
    ),
    ScreenSpec(
        r"executions/(?P<execution_id>[^/?]+)/jobs(\?(?P<query>.*))?",
        "redun_console.screens.jobs:JobsScreen",
        "Jobs of an execution; ?task:NAME status:STATUS",
    ),
    ScreenSpec(r"jobs/(?P<job_id>[^/]+)", "redun_console.screens.job:JobScreen", "One job"),
    ScreenSpec(
        r"values/(?P<value_hash>[^/]+)", "redun_console.screens.value:ValueScreen", "One value"
    ),
    ScreenSpec(
        r"tasks/(?P<task>.+)",
        "redun_console.screens.task:TaskScreen",
        "A task by hash or name: its versions, their source and jobs",
    ),
)


class RouteError(LookupError):
    """A route that names no screen or no record."""


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern
    spec: ScreenSpec

    def screen_class(self) -> Any:
        return load_target(self.spec.target)


class Router:
    """Routes of the builtin screens, then those of plugins (first match wins)."""

    def __init__(self, extra: Iterable[ScreenSpec] = ()) -> None:
        self.routes = [Route(re.compile(spec.route), spec) for spec in (*BUILTIN_SCREENS, *extra)]

    def match(self, route: str) -> tuple[Route, dict[str, Any]] | None:
        for candidate in self.routes:
            found = candidate.pattern.fullmatch(route)
            if found:
                params = {k: v for k, v in found.groupdict().items() if v is not None}
                return candidate, params
        return None

    def build(self, reader: CallGraphReader, route: str) -> Any:
        """The screen for `route`, its ids resolved; a bare id or ``-`` is inferred first."""
        route = route.strip().rstrip("/") or DEFAULT_ROUTE
        found = self.match(route)
        try:
            if found is None:
                route = infer_route(reader, route)
                found = self.match(route)
                if found is None:
                    raise RouteError(f"no screen for {route}")
            target, params = found
            screen_class = target.screen_class()
            params = screen_class.resolve(reader, **params)
        except ResolveError as error:
            raise RouteError(str(error)) from None
        return screen_class(route, **params)
