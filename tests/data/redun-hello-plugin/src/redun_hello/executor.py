"""An executor that runs each task synchronously on the scheduler thread."""

import os

from redun.executors.base import Executor


class InlineExecutor(Executor):
    def submit(self, job):
        args, kwargs = job.args
        try:
            result = job.task.func(*args, **kwargs)
        except Exception as error:
            self.scheduler.reject_job(job, error)
            return
        greeting = os.environ.get("REDUN_HELLO_GREETING") or self.config.get("greeting", "")
        self.scheduler.done_job(job, f"{greeting}{result}" if isinstance(result, str) else result)
