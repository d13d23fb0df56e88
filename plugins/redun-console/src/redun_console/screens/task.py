"""A task: every version recorded under its name, the source of each, and its jobs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from redun.backends.db.rows import TaskDetail
from rich.syntax import Syntax
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import HorizontalScroll, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Label, Static

from redun_console.fmt import local_time, short_id
from redun_console.resolve import ResolveError, match_prefix
from redun_console.screens.base import RouteScreen
from redun_console.screens.job import JOB_COLUMNS
from redun_console.screens.jobs import job_cells
from redun_console.widgets import LinkTable

VERSION_COLUMNS = ("Version", "Jobs", "First job", "Last job")


class TaskScreen(RouteScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "focus('#versions')", "Versions"),
        Binding("j", "focus('#task-jobs')", "Jobs"),
    ]

    def __init__(self, route: str, task: str) -> None:
        self.task_hash = task
        self.detail: TaskDetail | None = None
        super().__init__(route, task=task)

    @classmethod
    def resolve(cls, reader: Any, task: str) -> dict[str, Any]:
        try:
            return {"task": match_prefix(reader, "Task", task)}
        except ResolveError:
            hashes = reader.find_tasks(task)
            if not hashes:
                raise ResolveError(f"no task with hash or name {task}") from None
            return {"task": hashes[0]}

    @classmethod
    def route_for(cls, task: str, **_: Any) -> str:
        return f"tasks/{task}"

    def compose_body(self) -> Iterable[Widget]:
        with VerticalScroll(id="task"):
            yield Static(id="summary")
            yield Label("Versions (highlight one to see its source and jobs)", classes="section")
            yield LinkTable(VERSION_COLUMNS, id="versions", classes="auto-table")
            yield Label("Source", id="source-title", classes="section")
            with HorizontalScroll(classes="wide"):
                yield Static(id="source", expand=False, shrink=False)
            yield Label("Jobs of this version (newest first)", classes="section")
            yield LinkTable(JOB_COLUMNS, id="task-jobs", classes="auto-table")

    def setup(self) -> None:
        self.query_one("#versions", LinkTable).focus()

    def load(self) -> None:
        detail = self.reader.task_detail(self.task_hash)
        if detail is None:
            raise ResolveError(f"task {self.task_hash} is gone")
        self.detail = detail
        self.query_one("#summary", Static).update(
            Text.assemble(
                ("Task ", "bold"),
                (detail.task.fullname, "bold"),
                f"   {len(detail.versions)} version(s) recorded",
            )
        )
        versions = self.query_one("#versions", LinkTable)
        versions.sync(
            [
                (
                    f"tasks/{v.hash}",
                    (
                        Text(v.hash, style="bold" if v.hash == self.task_hash else ""),
                        v.jobs,
                        local_time(v.first_seen),
                        local_time(v.last_seen),
                    ),
                )
                for v in detail.versions
            ]
        )
        self.show_version(self.task_hash)
        keys = versions.row_routes
        if f"tasks/{self.task_hash}" in keys:
            versions.move_cursor(row=keys.index(f"tasks/{self.task_hash}"), animate=False)

    def show_version(self, task_hash: str) -> None:
        if self.detail is None:
            return
        version = next((v for v in self.detail.versions if v.hash == task_hash), None)
        if version is None:
            return
        self.query_one("#source-title", Label).update(f"Source of version {short_id(task_hash)}")
        self.query_one("#source", Static).update(
            Syntax(version.source or "# no source recorded", "python", line_numbers=True)
        )
        jobs = self.reader.task_jobs(task_hash)
        self.query_one("#task-jobs", LinkTable).sync(
            [(f"jobs/{job.id}", job_cells(job)) for job in jobs]
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "versions" and event.row_key.value:
            self.show_version(event.row_key.value.removeprefix("tasks/"))

    def action_focus(self, selector: str) -> None:
        widget = self.query_one(selector)
        widget.focus()
        widget.scroll_visible()
