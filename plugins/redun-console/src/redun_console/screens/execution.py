"""One execution: summary, tags, job status table and the job tree."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from redun.backends.db.reader import PAGE_SIZE
from redun.backends.db.rows import ExecutionRow, JobRow
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, Static, Tree
from textual.widgets.tree import TreeNode

from redun_console.fmt import command_line, duration, local_time, short_id, status_text, tag_text
from redun_console.resolve import ResolveError, match_prefix
from redun_console.screens.base import RouteScreen

STATUS_COLUMNS = ("RUNNING", "STOPPED", "FAILED", "CACHED", "DONE", "TOTAL")
MORE = "more"


def job_label(job: JobRow) -> Text:
    """One tree line: id, status, start, duration, task (and how many children)."""
    label = Text.assemble(
        (short_id(job.id), "bold"),
        " ",
        status_text(f"{job.status:<7}"),
        " ",
        local_time(job.start_time),
        " ",
        (f"{duration(job.start_time, job.end_time):>9}", "dim"),
        "  ",
        job.task,
    )
    if job.children:
        label.append(f"  ({job.children} jobs)", style="dim")
    return label


class ExecutionScreen(RouteScreen):
    children_page_size = PAGE_SIZE
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "focus_tree", "Job tree"),
        Binding("s", "focus_statuses", "Status table"),
        Binding("t", "open_task", "Root task"),
    ]

    def __init__(self, route: str, execution_id: str) -> None:
        self.execution_id = execution_id
        self.root_job_id: str | None = None
        self.execution: ExecutionRow | None = None
        # Jobs shown as RUNNING, whose durations tick without a query.
        self._running_jobs: dict[str, JobRow] = {}
        self._tree_nodes: dict[str, TreeNode] = {}
        self._loaded_pages: dict[str, int] = {}
        super().__init__(route, execution_id=execution_id)

    @classmethod
    def resolve(cls, reader: Any, execution_id: str) -> dict[str, Any]:
        if execution_id == "-" or execution_id.startswith("~"):
            from redun_console.resolve import latest_execution

            return {"execution_id": latest_execution(reader, execution_id)}
        return {"execution_id": match_prefix(reader, "Execution", execution_id)}

    @classmethod
    def route_for(cls, execution_id: str, **_: Any) -> str:
        return f"executions/{execution_id}"

    def compose_body(self) -> Iterable[Widget]:
        yield Static(id="summary")
        with Horizontal(id="execution-body"):
            table: DataTable = DataTable(id="statuses", cursor_type="cell", zebra_stripes=True)
            yield table
            tree: Tree[str] = Tree("jobs", id="jobs")
            tree.auto_expand = False
            yield tree

    def setup(self) -> None:
        table = self.query_one("#statuses", DataTable)
        table.add_column("Task", key="task")
        for name in STATUS_COLUMNS:
            table.add_column(name, key=name)
        self.query_one(Tree).focus()

    def load(self) -> None:
        execution = self.reader.execution(self.execution_id)
        if execution is None:
            raise ResolveError(f"execution {self.execution_id} is gone")
        self.root_job_id = execution.job_id
        self.execution = execution
        self._running_jobs = {}
        self._show_summary()
        self._load_statuses()
        self._load_tree(execution.job_id)

    def _show_summary(self) -> None:
        execution = self.execution
        if execution is None:
            return
        tags = ", ".join(tag_text(k, v) for k, v in execution.tags) or "none"
        self.query_one("#summary", Static).update(
            Text.assemble(
                ("Execution ", "bold"),
                execution.id,
                "  ",
                status_text(execution.status),
                f"\nStarted {local_time(execution.start_time)}",
                f"   Duration {duration(execution.start_time, execution.end_time)}",
                f"   Updated {local_time(execution.updated_time) or '-'}",
                f"\nCommand {command_line(execution.args)}",
                f"\nTags {tags}",
            )
        )

    def tick(self) -> None:
        if self.execution is not None and self.execution.status == "RUNNING":
            self._show_summary()
        for job_id, job in self._running_jobs.items():
            node = self._tree_nodes.get(job_id)
            if node is not None:
                node.set_label(job_label(job))

    def _load_statuses(self) -> None:
        table = self.query_one("#statuses", DataTable)
        counts = self.reader.job_status_counts(self.execution_id)
        totals = {name: 0 for name in STATUS_COLUMNS}
        rows = []
        for task, per_status in counts.items():
            cells = [per_status.get(name, 0) for name in STATUS_COLUMNS[:-1]]
            cells.append(sum(cells))
            for name, count in zip(STATUS_COLUMNS, cells):
                totals[name] += count
            rows.append((task, cells))
        rows.append(("ALL", [totals[name] for name in STATUS_COLUMNS]))
        keys = [task for task, _ in rows]
        if [row.key.value for row in table.ordered_rows] == keys:
            for task, cells in rows:
                for name, count in zip(STATUS_COLUMNS, cells):
                    if table.get_cell(task, name) != count:
                        table.update_cell(task, name, count)
            return
        table.clear()
        for task, cells in rows:
            table.add_row(task, *cells, key=task)

    def _load_tree(self, root_job_id: str) -> None:
        tree = self.query_one(Tree)
        root = self.reader.job(root_job_id)
        if root is None:
            return
        tree.root.set_label(job_label(root))
        tree.root.data = root.id
        if root.status == "RUNNING":
            self._running_jobs[root.id] = root
        if root.id not in self._tree_nodes:
            self._tree_nodes = {root.id: tree.root}
            tree.root.expand()
        for job_id, node in list(self._tree_nodes.items()):
            if node.is_expanded and job_id in self._tree_nodes:
                self._load_children(node, job_id)

    def _load_children(self, node: TreeNode, job_id: str) -> None:
        """Add or update the children of `node`, as many pages as were loaded before."""
        pages = self._loaded_pages.setdefault(job_id, 1)
        children = [
            child
            for page in range(pages)
            for child in self.reader.child_jobs(job_id, page, self.children_page_size)
        ]
        existing = {child.data: child for child in node.children if child.data != MORE}
        added = False
        for child in children:
            if child.status == "RUNNING":
                self._running_jobs[child.id] = child
            else:
                self._running_jobs.pop(child.id, None)
            label = job_label(child)
            child_node = existing.get(child.id)
            if child_node is None:
                child_node = node.add(label, data=child.id, allow_expand=child.children > 0)
                self._tree_nodes[child.id] = child_node
                added = True
            else:
                child_node.set_label(label)
                child_node.allow_expand = child.children > 0
        parent_job = self.reader.job(job_id)
        remaining = (parent_job.children if parent_job else 0) - len(children)
        more = [child for child in node.children if child.data == MORE]
        label = Text(f"… {remaining} more jobs (enter loads more)", "dim")
        if more and remaining > 0 and not added:
            more[0].set_label(label)
            return
        # The "more" line stays last: take it out and put it back after new children.
        for child in more:
            child.remove()
        if remaining > 0:
            node.add_leaf(label, data=MORE)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        job_id = event.node.data
        # Children are fetched once on first expansion; reloads refresh them after that.
        if job_id and job_id != MORE and job_id not in self._loaded_pages:
            self._load_children(event.node, job_id)

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        node = event.node
        if node.data == MORE and node.parent is not None:
            parent_id = node.parent.data
            self._loaded_pages[parent_id] = self._loaded_pages.get(parent_id, 1) + 1
            self._load_children(node.parent, parent_id)
        elif node.data:
            self.app.open_route(f"jobs/{node.data}")  # type: ignore[attr-defined]

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        task = event.cell_key.row_key.value
        column = event.cell_key.column_key.value
        parts = []
        if task != "ALL":
            parts.append(f"task:{task}")
        if column in STATUS_COLUMNS[:-1]:
            parts.append(f"status:{column.lower()}")
        route = f"executions/{self.execution_id}/jobs"
        if parts:
            route += "?" + " ".join(parts)
        self.app.open_route(route)  # type: ignore[attr-defined]

    def action_focus_tree(self) -> None:
        self.query_one(Tree).focus()

    def action_focus_statuses(self) -> None:
        self.query_one("#statuses", DataTable).focus()

    def action_open_task(self) -> None:
        root = self.reader.job(self.root_job_id) if self.root_job_id else None
        if root:
            self.app.open_route(f"tasks/{root.task_hash}")  # type: ignore[attr-defined]
