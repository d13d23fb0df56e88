"""Widgets shared by the screens: tables whose rows open routes, updated in place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable


class LinkTable(DataTable):
    """A table whose rows each link to a route: Enter opens the row's screen.

    `sync` replaces the rows without clearing the table when only cells
    changed, and keeps the cursor on the same row otherwise, so live updates
    never blank the screen or move the user's place.
    """

    class Open(Message):
        def __init__(self, route: str) -> None:
            super().__init__()
            self.route = route

    def __init__(self, columns: Sequence[str], **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self._column_names = tuple(columns)
        self._keys: list[str] = []
        self._cells: dict[str, tuple] = {}
        self._routes: dict[str, str] = {}

    def on_mount(self) -> None:
        for name in self._column_names:
            self.add_column(name, key=name)

    @property
    def row_routes(self) -> list[str]:
        return [self._routes[key] for key in self._keys]

    def sync(self, routed_rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Show exactly `routed_rows` (route, cells), touching only what changed."""
        # Two rows may link to one route (a job called with the same value twice).
        seen: dict[str, int] = {}
        rows = []
        for route, cells in routed_rows:
            seen[route] = seen.get(route, 0) + 1
            rows.append((route if seen[route] == 1 else f"{route}#{seen[route]}", cells))
        self._routes = {key: route for (key, _), (route, _) in zip(rows, routed_rows)}
        keys = [key for key, _ in rows]
        if keys == self._keys:
            for key, cells in rows:
                old = self._cells[key]
                for name, before, after in zip(self._column_names, old, cells):
                    if _plain(before) != _plain(after):
                        self.update_cell(key, name, after)
                self._cells[key] = tuple(cells)
            return
        current = self._keys[self.cursor_row] if 0 <= self.cursor_row < len(self._keys) else None
        scroll_y = self.scroll_y
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        self._keys = keys
        self._cells = {key: tuple(cells) for key, cells in rows}
        if current in self._cells:
            self.move_cursor(row=keys.index(current), animate=False, scroll=False)
        self.scroll_to(y=scroll_y, animate=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value in self._routes:
            self.post_message(self.Open(self._routes[event.row_key.value]))


def _plain(cell: Any) -> Any:
    return cell.plain if isinstance(cell, Text) else cell
