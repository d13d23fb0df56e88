"""One job: what ran, with what, what came out, why it ran, and where it sits in the tree."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from redun.backends.db.reader import PAGE_SIZE
from redun.backends.db.rows import JobDetail
from rich.syntax import Syntax
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import HorizontalScroll, VerticalScroll
from textual.widget import Widget
from textual.widgets import Label, Static

from redun_console.detail import full_preview
from redun_console.fmt import duration, local_time, short_id, status_text, tag_text
from redun_console.resolve import ResolveError, match_prefix
from redun_console.screens.base import RouteScreen
from redun_console.screens.jobs import job_cells
from redun_console.widgets import LinkTable

ARGUMENT_COLUMNS = ("Argument", "Hash", "Type", "Value")
LINK_COLUMNS = ("Link", "Route")
JOB_COLUMNS = ("ID", "Status", "Started", "Duration", "Task", "Parent")
CELL_CHARS = 120


def first_line(text: str, limit: int = CELL_CHARS) -> str:
    line = text.splitlines()[0] if text else ""
    more = len(line) > limit or "\n" in text
    return line[:limit] + (" …" if more else "")


class JobScreen(RouteScreen):
    max_children = PAGE_SIZE
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "open('parent')", "Parent job"),
        Binding("x", "open('execution')", "Execution"),
        Binding("t", "open('task')", "Task"),
        Binding("v", "open('result')", "Result value"),
        Binding("a", "focus('#arguments')", "Arguments"),
        Binding("c", "focus('#children')", "Child jobs"),
        Binding("l", "focus('#links')", "Links"),
    ]

    def __init__(self, route: str, job_id: str) -> None:
        self.job_id = job_id
        self.detail: JobDetail | None = None
        super().__init__(route, job_id=job_id)

    @classmethod
    def resolve(cls, reader: Any, job_id: str) -> dict[str, Any]:
        return {"job_id": match_prefix(reader, "Job", job_id)}

    @classmethod
    def route_for(cls, job_id: str, **_: Any) -> str:
        return f"jobs/{job_id}"

    def compose_body(self) -> Iterable[Widget]:
        with VerticalScroll(id="job"):
            yield Static(id="summary")
            yield Static(id="reason")
            yield Label("Arguments", classes="section")
            yield LinkTable(ARGUMENT_COLUMNS, id="arguments", classes="auto-table")
            yield Label("Result", id="result-title", classes="section")
            with HorizontalScroll(id="result-scroll", classes="wide"):
                yield Static(id="result", expand=False, shrink=False)
            yield Label("Child jobs", id="children-title", classes="section")
            yield LinkTable(JOB_COLUMNS, id="children", classes="auto-table")
            yield Label("Links", classes="section")
            yield LinkTable(LINK_COLUMNS, id="links", classes="auto-table")
            yield Label("Task source", classes="section")
            with HorizontalScroll(classes="wide"):
                yield Static(id="source", expand=False, shrink=False)

    def load(self) -> None:
        detail = self.reader.job_detail(self.job_id, self.max_children)
        if detail is None:
            raise ResolveError(f"job {self.job_id} is gone")
        self.detail = detail
        reason = self.reader.explain_job(self.job_id)
        self._show_summary(detail)
        self.query_one("#reason", Static).update(
            Text.assemble(("Why: ", "bold"), reason.message() if reason else "unknown")
        )
        self._show_arguments(detail)
        self._show_result(detail)
        self._show_children(detail)
        self.query_one("#links", LinkTable).sync(
            [(route, (label, route)) for label, route in self._links(detail)]
        )
        source = detail.task.source if detail.task else ""
        self.query_one("#source", Static).update(
            Syntax(source or "# no source recorded", "python", line_numbers=True)
        )

    def tick(self) -> None:
        if self.detail is not None and self.detail.job.status == "RUNNING":
            self._show_summary(self.detail)

    def _show_summary(self, detail: JobDetail) -> None:
        job = detail.job
        execution_tags = ", ".join(tag_text(k, v) for k, v in detail.execution_tags) or "none"
        job_tags = ", ".join(tag_text(k, v) for k, v in job.tags) or "none"
        self.query_one("#summary", Static).update(
            Text.assemble(
                ("Job ", "bold"),
                job.id,
                "  ",
                status_text(job.status),
                "\nTask ",
                (job.task, "bold"),
                f"  hash {job.task_hash}",
                f"\nExecution {job.execution_id}   Parent {job.parent_id or '-'}",
                f"\nStarted {local_time(job.start_time)}   Ended {local_time(job.end_time) or '-'}"
                f"   Duration {duration(job.start_time, job.end_time)}",
                f"\nCached {'yes' if job.cached else 'no'}   Call node {job.call_hash or '-'}",
                f"\nJob tags {job_tags}\nExecution tags {execution_tags}",
            )
        )

    def _show_arguments(self, detail: JobDetail) -> None:
        self.query_one("#arguments", LinkTable).sync(
            [
                (
                    f"values/{arg.value.hash}",
                    (
                        arg.name,
                        short_id(arg.value.hash),
                        arg.value.type,
                        first_line(arg.value.preview),
                    ),
                )
                for arg in (detail.call.arguments if detail.call else ())
            ]
        )

    def _show_children(self, detail: JobDetail) -> None:
        self.query_one("#children", LinkTable).sync(
            [(f"jobs/{child.id}", job_cells(child)) for child in detail.children]
        )
        shown, total = len(detail.children), detail.job.children
        self.query_one("#children-title", Label).update(
            f"Child jobs ({total})"
            if shown == total
            else f"Child jobs (first {shown} of {total}; the execution's tree pages through all)"
        )

    def _show_result(self, detail: JobDetail) -> None:
        title = self.query_one("#result-title", Label)
        result = self.query_one("#result", Static)
        if detail.failure is not None:
            title.update("Error")
            parts: list[Any] = [(detail.failure.error, "bold red")]
            if detail.failure.traceback:
                parts += ["\n\nTraceback:\n", "\n".join(detail.failure.traceback)]
            if detail.failure.logs:
                parts += ["\n\nLogs:\n", "".join(detail.failure.logs).rstrip("\n")]
            result.update(Text.assemble(*parts))
        elif detail.call is not None:
            value = detail.call.result
            title.update(f"Result ({value.type}, {short_id(value.hash)})")
            result.update(Text(full_preview(self.reader, value.hash)))
        else:
            title.update("Result")
            result.update(Text("(no result yet: the job is still running)", style="dim"))

    def _links(self, detail: JobDetail) -> list[tuple[str, str]]:
        from redun_console.app import plugin_job_links

        job = detail.job
        links = [
            ("Execution", f"executions/{job.execution_id}"),
            ("Task", f"tasks/{job.task_hash}"),
        ]
        if job.parent_id:
            links.insert(1, ("Parent job", f"jobs/{job.parent_id}"))
        if detail.call is not None:
            links.append(("Result value", f"values/{detail.call.result.hash}"))
        tags: dict[str, list] = {}
        for key, value in (*detail.execution_tags, *job.tags):
            tags.setdefault(key, []).append(value)
        links += [(link.label, link.route) for link in plugin_job_links(job, tags)]
        return links

    def action_open(self, what: str) -> None:
        if self.detail is None:
            return
        job = self.detail.job
        routes = {
            "parent": f"jobs/{job.parent_id}" if job.parent_id else None,
            "execution": f"executions/{job.execution_id}",
            "task": f"tasks/{job.task_hash}",
            "result": f"values/{self.detail.call.result.hash}" if self.detail.call else None,
        }
        route = routes[what]
        if route is None:
            self.notify(f"This job has no {what}")
            return
        self.app.open_route(route)  # type: ignore[attr-defined]

    def action_focus(self, selector: str) -> None:
        widget = self.query_one(selector)
        widget.focus()
        widget.scroll_visible()
