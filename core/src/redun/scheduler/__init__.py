"""The scheduler: graph reduction of expressions with caching and provenance.

``from redun.scheduler import Scheduler, Job, Execution, JobInfo, ErrorValue,
Traceback, DryRunResult, SchedulerError, scheduler_task`` works as in redun.
"""

from redun.compat import module_getattr
from redun.runtime import (
    JobInfo,
    NoCurrentScheduler,
    get_current_scheduler,
    set_current_scheduler,
)
from redun.scheduler.errors import (
    DryRunResult,
    SchedulerError,
    TaskNotFoundError,
)
from redun.scheduler.formatting import format_arg, format_task_call
from redun.scheduler.jobs import Execution, Job, JobEnv
from redun.scheduler.nested import get_arg_defaults, needs_root_task
from redun.scheduler.root_task import root_task
from redun.scheduler.scheduler import Scheduler
from redun.scheduler.scheduler_tasks import (
    Thread,
    apply_tags,
    catch,
    catch_all,
    cond,
    fork_thread,
    join_thread,
    merge_handles,
    subrun,
    throw,
    with_export_options,
)
from redun.scheduler.status import format_job_statuses
from redun.task import scheduler_task
from redun.tracebacks import ErrorValue, Frame, Traceback

__all__ = [
    "DryRunResult",
    "ErrorValue",
    "Execution",
    "Frame",
    "Job",
    "JobEnv",
    "JobInfo",
    "NoCurrentScheduler",
    "Scheduler",
    "SchedulerError",
    "TaskNotFoundError",
    "Thread",
    "Traceback",
    "apply_tags",
    "catch",
    "catch_all",
    "cond",
    "format_arg",
    "format_job_statuses",
    "fork_thread",
    "format_task_call",
    "get_arg_defaults",
    "get_current_scheduler",
    "join_thread",
    "merge_handles",
    "needs_root_task",
    "root_task",
    "scheduler_task",
    "set_current_scheduler",
    "subrun",
    "throw",
    "with_export_options",
]


# Names redun's module carried (redun.compat.REEXPORTS), imported on first access.
__getattr__ = module_getattr(__name__)
