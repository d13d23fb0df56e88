"""The executions list: newest first, searchable, paged."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from redun.backends.db.reader import PAGE_SIZE
from redun.backends.db.rows import ExecutionRow
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Input, Static

from redun_console.filters import FilterError, parse_filter
from redun_console.fmt import command_line, duration, local_time, short_id, status_text, tag_text
from redun_console.screens.base import RouteScreen
from redun_console.widgets import LinkTable

COLUMNS = ("ID", "Status", "Started", "Duration", "Task", "Command", "Tags")
FILTER_HELP = "status:done|failed|running  task:NAME  tag:KEY[=VALUE]  after:DATE  before:DATE"


class ExecutionsScreen(RouteScreen):
    page_size = PAGE_SIZE
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("n", "page(1)", "Next page"),
        Binding("p", "page(-1)", "Prev page"),
        Binding("f", "status('FAILED')", "Failed only"),
        Binding("r", "status('RUNNING')", "Running only"),
        Binding("a", "status(None)", "All statuses"),
    ]

    def __init__(self, route: str, query: str = "", page: int = 0) -> None:
        self.query_text = query
        self.page = page
        self.rows: list[ExecutionRow] = []
        super().__init__(route, query=query)

    @classmethod
    def resolve(cls, reader: Any, query: str = "") -> dict[str, Any]:
        from redun_console.resolve import ResolveError

        try:
            parse_filter(query)
        except FilterError as error:
            raise ResolveError(str(error)) from None
        return {"query": query}

    @classmethod
    def route_for(cls, query: str = "", **_: Any) -> str:
        return f"executions?{query}" if query.strip() else "executions"

    def compose_body(self) -> Iterable[Widget]:
        yield Input(value=self.query_text, placeholder=f"filter: {FILTER_HELP}", id="filter")
        yield LinkTable(COLUMNS, id="executions")
        yield Static(id="status-line")

    def setup(self) -> None:
        self.query_one(LinkTable).focus()

    def load(self) -> None:
        query = parse_filter(self.query_text)
        rows = self.reader.list_executions(
            **query.browse_filters(), page=self.page, size=self.page_size
        )
        self.rows = rows
        self.tick()
        shown = f"page {self.page + 1}: {len(rows)} executions"
        if self.query_text.strip():
            shown += f" matching {self.query_text.strip()}"
        if not rows and self.page == 0:
            shown = "No executions" + (" match this filter" if query else " in this repo yet")
        self.query_one("#status-line", Static).update(shown)

    def tick(self) -> None:
        self.query_one(LinkTable).sync([(f"executions/{row.id}", _cells(row)) for row in self.rows])

    def set_query(self, text: str) -> None:
        try:
            parse_filter(text)
        except FilterError as error:
            self.notify(str(error), severity="error")
            return
        self.query_text = text.strip()
        self.page = 0
        self.route = self.route_for(self.query_text)
        self.app.sub_title = self.route
        self.query_one("#filter", Input).value = self.query_text
        self.load()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.set_query(event.value)
        self.query_one(LinkTable).focus()

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_back(self) -> None:
        if self.focused is self.query_one("#filter", Input):
            self.query_one(LinkTable).focus()
        else:
            super().action_back()

    def action_page(self, step: int) -> None:
        if step < 0 and self.page == 0:
            return
        if step > 0 and self.query_one(LinkTable).row_count < self.page_size:
            self.notify("This is the last page")
            return
        self.page += step
        self.load()

    def action_status(self, status: str | None) -> None:
        words = [w for w in self.query_text.split() if not w.startswith("status:")]
        if status:
            words.append(f"status:{status.lower()}")
        self.set_query(" ".join(words))


def _cells(row: ExecutionRow) -> tuple:
    return (
        short_id(row.id),
        status_text(row.status),
        local_time(row.start_time),
        duration(row.start_time, row.end_time),
        row.task,
        command_line(row.args),
        Text(" ".join(tag_text(k, v) for k, v in row.tags), style="dim"),
    )
