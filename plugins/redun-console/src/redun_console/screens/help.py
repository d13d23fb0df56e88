"""Overlays: the key help listing and the go-to prompt."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, Static

ROUTE_HELP = (
    "executions[?FILTER]  executions/ID  executions/ID/jobs[?task:NAME status:S]  "
    "jobs/ID  values/HASH  tasks/HASH|NAME  or any id prefix, - (latest), ~N"
)


def key_rows(screen: Screen) -> list[tuple[str, str]]:
    """Every key active on `screen`: its own, the app's, and its focused widget's."""
    found: list[tuple[str, str]] = []
    # The keys shown in the footer first (the screen's, then the app's), then the rest
    # (the focused widget's cursor keys, focus and copy).
    order = {id(screen): 0, id(screen.app): 1}
    active_bindings = sorted(
        screen.active_bindings.items(),
        key=lambda item: (not item[1].binding.show, order.get(id(item[1].node), 2)),
    )
    for key, active in active_bindings:
        binding = active.binding
        row = (binding.key_display or key, binding.description or binding.action)
        if row not in found:
            found.append(row)
    return found


class HelpScreen(ModalScreen[None]):
    """The keys of the screen underneath, with what they do."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", key_display="?"),
        Binding("q", "close", "Close"),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.keys = key_rows(under)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text.assemble(("Keys", "bold"), "  (escape or ? closes this help)"))
            table: DataTable = DataTable(id="help-keys", cursor_type="row")
            table.add_columns("Key", "Action")
            table.add_rows(self.keys)
            yield table
            yield Static(
                Text.assemble(
                    "\n", ("Routes", "bold"), " (g, or redun console ROUTE)\n", ROUTE_HELP
                )
            )

    def action_close(self) -> None:
        self.dismiss(None)


class GotoScreen(ModalScreen[str | None]):
    """Ask for a route or an id and open it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        yield Input(placeholder="route or id, e.g. jobs/3fa9c1e2, -, ~1", id="goto")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
