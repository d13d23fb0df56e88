"""What every console screen shares: its route, its data loading, back and refresh."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header

from redun_console.widgets import LinkTable

if TYPE_CHECKING:
    from redun.backends.db.reader import CallGraphReader


class RouteScreen(Screen):
    """A screen that is reachable by a route and can reload its data in place.

    Subclasses implement `compose_body` (their widgets), optionally `setup`
    (columns, focus; once, on mount) and `load` (fill them from the repo).
    `load` runs on mount, on ctrl+r, and in live mode whenever
    a job starts or ends; it must update widgets in place, not rebuild them.
    `resolve` turns the route's parameters into full ids, or raises
    `redun_console.resolve.ResolveError`. Screens read the repo through
    `self.reader`, the core's read model (`redun.backends.db.reader`), and
    only format what it returns.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "reload", "Refresh"),
    ]

    def __init__(self, route: str, **params: Any) -> None:
        super().__init__()
        self.route = self.route_for(**params) or route
        # Set once mounted and loaded: timers must not touch a screen still composing.
        self.data_loaded = False

    @classmethod
    def resolve(cls, reader: CallGraphReader, **params: Any) -> dict[str, Any]:
        return params

    @classmethod
    def route_for(cls, **params: Any) -> str | None:
        """The canonical route (full ids) for `params`, shown in the header."""
        return None

    @property
    def reader(self) -> CallGraphReader:
        return self.app.reader  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> Iterable[Widget]:
        raise NotImplementedError

    def load(self) -> None:
        raise NotImplementedError

    def setup(self) -> None:
        """One-time widget setup before the first load."""

    def tick(self) -> None:
        """Redraw what changes with time alone (running durations), without a query."""

    def on_mount(self) -> None:
        # Textual calls on_mount of every class in the MRO: subclasses use setup().
        self.setup()
        self.load()
        self.data_loaded = True

    def on_screen_resume(self) -> None:
        self.app.sub_title = self.route

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def action_reload(self) -> None:
        self.app.reload_screen()  # type: ignore[attr-defined]

    def on_link_table_open(self, event: LinkTable.Open) -> None:
        self.app.open_route(event.route)  # type: ignore[attr-defined]
