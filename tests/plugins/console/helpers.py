"""Drive the console with Pilot and read what its widgets show."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from redun_console.app import RedunConsole
from redun_console.types import ScreenSpec
from rich.text import Text
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Static, Tree

from tests.plugins.console.builders import Repo

SIZE = (160, 50)


def run_console(
    repo: Repo,
    route: str,
    steps: Callable[[RedunConsole, Pilot], Awaitable[None]],
    poll_interval: float = 0,
    screens: Iterable[ScreenSpec] | None = (),
    size: tuple[int, int] = SIZE,
) -> None:
    """Open the console on `route` in a headless terminal and run `steps` against it."""
    backend = repo.backend()

    async def main() -> None:
        app = RedunConsole(backend, route, poll_interval=poll_interval, screens=screens)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await steps(app, pilot)

    try:
        asyncio.run(main())
    finally:
        backend.close()


def _plain(value: Any) -> str:
    if isinstance(value, Text):
        return value.plain
    if hasattr(value, "code"):  # rich Syntax
        return value.code
    return str(value)


def widget_text(widget: Widget) -> str:
    if isinstance(widget, DataTable):
        return "\n".join(
            " | ".join(_plain(cell) for cell in widget.get_row_at(i))
            for i in range(widget.row_count)
        )
    if isinstance(widget, Tree):
        lines = []
        stack = [widget.root]
        while stack:
            node = stack.pop()
            lines.append(_plain(node.label))
            stack.extend(reversed(node.children))
        return "\n".join(lines)
    if isinstance(widget, Static):
        return _plain(widget.content)
    return ""


def screen_text(screen: Screen) -> str:
    """The text of every table, tree and static on `screen` (scrolled out of view or not)."""
    return "\n".join(text for widget in screen.query("*") if (text := widget_text(widget)))


def rows(table: DataTable) -> list[list[str]]:
    return [[_plain(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def settle(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition` holds (a pushed screen may take a while to mount)."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the console never reached the expected state")
