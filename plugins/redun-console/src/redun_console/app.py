"""The console application: routing between screens, help, go-to, and live polling."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from redun.backends.db.reader import ReadError
from textual.app import App
from textual.binding import Binding, BindingType

from redun_console.routes import DEFAULT_ROUTE, RouteError, Router
from redun_console.screens.help import GotoScreen, HelpScreen
from redun_console.types import ScreenSpec

DEFAULT_POLL_INTERVAL = 1.0


class RedunConsole(App):
    """Browse a redun repo; `route` names the first screen (``executions``, ``jobs/ID``, ...)."""

    TITLE = "redun console"
    CSS_PATH = "console.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("g", "goto", "Go to"),
    ]

    def __init__(
        self,
        backend: Any,
        route: str = DEFAULT_ROUTE,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        screens: Iterable[ScreenSpec] | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.reader = backend.reader()
        self.router = Router(plugin_screens() if screens is None else screens)
        self.first_screen = self.router.build(self.reader, route)
        self.poll_interval = poll_interval
        self._token: tuple | None = None
        self._repo_error = False

    def on_mount(self) -> None:
        self.push_screen(self.first_screen)
        if self.poll_interval > 0:
            self._token = self.reader.change_token()
            self.set_interval(self.poll_interval, self.poll)

    def open_route(self, route: str) -> bool:
        """Push the screen for `route`; say why in a notification if there is none."""
        self.end_read()
        try:
            screen = self.router.build(self.reader, route)
        except RouteError as error:
            self.notify(str(error), severity="error")
            return False
        self.push_screen(screen)
        return True

    def end_read(self) -> None:
        """End the read transaction, so the next query sees what was written since."""
        self.reader.end_read()

    def poll(self) -> None:
        """Live mode: reload the current screen when a job started or ended since last time."""
        if not (self.is_running and self.screen.is_running):
            return  # shutting down: the screen's widgets may be gone already
        try:
            self.end_read()
            token = self.reader.change_token()
            if token != self._token:
                self._token = token
                self.reload_screen()
            elif getattr(self.screen, "data_loaded", False):
                self.screen.tick()  # type: ignore[attr-defined]
        except ReadError as error:
            # A dropped connection or a restarting server: say so once, retry next time.
            if not self._repo_error:
                reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
                self.notify(f"Cannot read the repo ({reason}); retrying", severity="warning")
            self._repo_error = True
            return
        if self._repo_error:
            self._repo_error = False
            self.notify("The repo can be read again")

    def reload_screen(self) -> None:
        self.end_read()
        if getattr(self.screen, "data_loaded", False):
            self.screen.load()  # type: ignore[attr-defined]

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_goto(self) -> None:
        self.push_screen(GotoScreen(), callback=self._goto)

    def _goto(self, route: str | None) -> None:
        if route:
            self.open_route(route)


def plugin_screens() -> list[ScreenSpec]:
    """Screens that installed plugins add through ``redun_console_screens``."""
    from redun.plugins.manager import get_plugin_manager

    hook = getattr(get_plugin_manager().hook, "redun_console_screens", None)
    if hook is None:
        return []
    return [spec for specs in hook() for spec in specs or []]


def plugin_job_links(job: Any, tags: dict[str, list]) -> list[Any]:
    """Links that installed plugins add to a job's screen."""
    from redun.plugins.manager import get_plugin_manager

    hook = getattr(get_plugin_manager().hook, "redun_console_job_links", None)
    if hook is None:
        return []
    return [link for links in hook(job=job, tags=tags) for link in links or []]
