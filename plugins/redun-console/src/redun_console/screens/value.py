"""One value: its content, and for Files their path and hash; who made it and who used it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from redun.backends.db.rows import ValueDetail
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer, VerticalScroll
from textual.widget import Widget
from textual.widgets import Label, Static

from redun_console.detail import full_preview
from redun_console.fmt import short_id
from redun_console.resolve import ResolveError, match_prefix
from redun_console.screens.base import RouteScreen
from redun_console.screens.job import JOB_COLUMNS, first_line
from redun_console.screens.jobs import job_cells
from redun_console.widgets import LinkTable

VALUE_COLUMNS = ("Hash", "Type", "Value")


class ValueScreen(RouteScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", "focus('#preview-scroll')", "Scroll value"),
        Binding("m", "focus('#producers')", "Made by"),
        Binding("u", "focus('#consumers')", "Used by"),
    ]

    def __init__(self, route: str, value_hash: str) -> None:
        self.value_hash = value_hash
        self.detail: ValueDetail | None = None
        super().__init__(route, value_hash=value_hash)

    @classmethod
    def resolve(cls, reader: Any, value_hash: str) -> dict[str, Any]:
        return {"value_hash": match_prefix(reader, "Value", value_hash)}

    @classmethod
    def route_for(cls, value_hash: str, **_: Any) -> str:
        return f"values/{value_hash}"

    def compose_body(self) -> Iterable[Widget]:
        with VerticalScroll(id="value"):
            yield Static(id="summary")
            yield Label("Value", classes="section")
            with ScrollableContainer(id="preview-scroll", classes="wide", can_focus=True):
                yield Static(id="preview", expand=False, shrink=False)
            yield Label("Made by (jobs whose result is or contains it)", classes="section")
            yield LinkTable(JOB_COLUMNS, id="producers", classes="auto-table")
            yield Label("Used by (jobs that took it as an argument)", classes="section")
            yield LinkTable(JOB_COLUMNS, id="consumers", classes="auto-table")
            yield Label("Contains", classes="section")
            yield LinkTable(VALUE_COLUMNS, id="children", classes="auto-table")
            yield Label("Contained in", classes="section")
            yield LinkTable(VALUE_COLUMNS, id="parents", classes="auto-table")
            yield Label("Upstream dataflow (how it was derived)", classes="section")
            yield Static(id="dataflow", expand=False, shrink=False)

    def load(self) -> None:
        detail = self.reader.value_detail(self.value_hash)
        if detail is None:
            raise ResolveError(f"value {self.value_hash} is gone")
        self.detail = detail
        parts: list[Any] = [("Value ", "bold"), detail.value.hash]
        parts.append(f"\nType {detail.value.type}   Format {detail.value.format}")
        if detail.value.file_path is not None:
            parts += ["\nFile ", (detail.value.file_path, "bold"), f"   hash {detail.value.hash}"]
        self.query_one("#summary", Static).update(Text.assemble(*parts))
        preview = full_preview(self.reader, detail.value.hash)
        self.query_one("#preview", Static).update(Text(preview))
        self.query_one("#producers", LinkTable).sync(
            [(f"jobs/{job.id}", job_cells(job)) for job in detail.producers]
        )
        self.query_one("#consumers", LinkTable).sync(
            [(f"jobs/{job.id}", job_cells(job)) for job in detail.consumers]
        )
        dataflow = self.reader.upstream_dataflow(detail.value.hash)
        self.query_one("#dataflow", Static).update(Text("\n".join(dataflow).rstrip()))
        for selector, values in (("#children", detail.children), ("#parents", detail.parents)):
            self.query_one(selector, LinkTable).sync(
                [
                    (f"values/{v.hash}", (short_id(v.hash), v.type, first_line(v.preview)))
                    for v in values
                ]
            )

    def action_focus(self, selector: str) -> None:
        widget = self.query_one(selector)
        widget.focus()
        widget.scroll_visible()
