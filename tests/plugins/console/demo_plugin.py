"""A plugin that uses the console's hooks, as redun-aws will for job logs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from redun.plugins import hookimpl
from redun_console.resolve import match_prefix
from redun_console.screens.base import RouteScreen
from redun_console.types import JobLink, ScreenSpec
from textual.widget import Widget
from textual.widgets import Static


class DemoLogScreen(RouteScreen):
    def __init__(self, route: str, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(route, job_id=job_id)

    @classmethod
    def resolve(cls, reader: Any, job_id: str) -> dict[str, Any]:
        return {"job_id": match_prefix(reader, "Job", job_id)}

    @classmethod
    def route_for(cls, job_id: str, **_: Any) -> str:
        return f"demo-logs/{job_id}"

    def compose_body(self) -> Iterable[Widget]:
        yield Static(id="demo")

    def load(self) -> None:
        self.query_one("#demo", Static).update(f"demo logs of job {self.job_id}")


@hookimpl
def redun_console_screens() -> list[ScreenSpec]:
    return [
        ScreenSpec(
            r"demo-logs/(?P<job_id>[^/]+)",
            "tests.plugins.console.demo_plugin:DemoLogScreen",
            "Logs of a job (demo)",
        )
    ]


@hookimpl
def redun_console_job_links(job: Any, tags: dict[str, list]) -> list[JobLink] | None:
    if not job.task.endswith(".fail_on"):
        return None
    return [JobLink("Demo logs", f"demo-logs/{job.id}")]
