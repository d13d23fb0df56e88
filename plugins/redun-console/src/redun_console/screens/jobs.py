"""The jobs of an execution with one task and/or status (a cell of the status table)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from redun.backends.db.reader import PAGE_SIZE
from redun.backends.db.rows import JobRow
from redun.backends.db.status import JOB_STATUSES
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Static

from redun_console.fmt import duration, local_time, short_id, status_text
from redun_console.resolve import ResolveError, match_prefix
from redun_console.screens.base import RouteScreen
from redun_console.widgets import LinkTable

COLUMNS = ("ID", "Status", "Started", "Duration", "Task", "Parent")


def parse_jobs_query(query: str) -> tuple[str | None, str | None]:
    task = status = None
    for word in query.split():
        key, _, value = word.partition(":")
        if key == "task" and value:
            task = value
        elif key == "status" and value.upper() in JOB_STATUSES:
            status = value.upper()
        else:
            raise ResolveError(f"jobs filter {word} is not task:NAME or status:STATUS")
    return task, status


def job_cells(job: JobRow) -> tuple:
    return (
        short_id(job.id),
        status_text(job.status),
        local_time(job.start_time),
        duration(job.start_time, job.end_time),
        job.task,
        short_id(job.parent_id),
    )


class JobsScreen(RouteScreen):
    page_size = PAGE_SIZE
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "page(1)", "Next page"),
        Binding("p", "page(-1)", "Prev page"),
    ]

    def __init__(self, route: str, execution_id: str, query: str = "") -> None:
        self.execution_id = execution_id
        self.task_name, self.job_status = parse_jobs_query(query)
        self.page = 0
        self.jobs: list[JobRow] = []
        super().__init__(route, execution_id=execution_id, query=query)

    @classmethod
    def resolve(cls, reader: Any, execution_id: str, query: str = "") -> dict[str, Any]:
        parse_jobs_query(query)
        full_id = match_prefix(reader, "Execution", execution_id)
        return {"execution_id": full_id, "query": query}

    @classmethod
    def route_for(cls, execution_id: str, query: str = "", **_: Any) -> str:
        route = f"executions/{execution_id}/jobs"
        return f"{route}?{query}" if query.strip() else route

    def compose_body(self) -> Iterable[Widget]:
        yield Static(id="title")
        yield LinkTable(COLUMNS, id="jobs")

    def setup(self) -> None:
        self.query_one(LinkTable).focus()

    def load(self) -> None:
        jobs = self.reader.execution_jobs(
            self.execution_id,
            self.task_name,
            self.job_status,
            page=self.page,
            size=self.page_size,
        )
        what = " ".join(filter(None, [self.job_status, self.task_name])) or "all"
        self.query_one("#title", Static).update(
            f"Jobs of execution {self.execution_id}: {what} "
            f"(page {self.page + 1}, {len(jobs)} shown)"
        )
        self.jobs = jobs
        self.tick()

    def tick(self) -> None:
        self.query_one(LinkTable).sync([(f"jobs/{job.id}", job_cells(job)) for job in self.jobs])

    def action_page(self, step: int) -> None:
        if step < 0 and self.page == 0:
            return
        if step > 0 and self.query_one(LinkTable).row_count < self.page_size:
            self.notify("This is the last page")
            return
        self.page += step
        self.load()
