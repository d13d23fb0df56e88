import os
import threading

import pytest
from redun import Scheduler, task
from redun.executors.alias import AliasExecutor
from redun.executors.base import Executor, ExecutorError
from redun.executors.local import LocalExecutor
from redun.plugins import MissingPluginError
from redun.scheduler import SchedulerError

from tests.core.engine import process_tasks
from tests.core.engine.helpers import memory_config

redun_namespace = "executor_test"


@task
def thread_name(x: int) -> str:
    return threading.current_thread().name


def test_default_executors_are_threads_and_processes(scheduler):
    assert set(scheduler.executors) == {"default", "process"}
    assert scheduler.executors["default"].mode == "thread"
    assert scheduler.executors["process"].mode == "process"
    assert scheduler.run(thread_name(1)).startswith("redun-default")


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_process_executor_runs_tasks_in_other_processes(start_method):
    scheduler = Scheduler(
        config=memory_config(
            executors={
                "procs": {
                    "type": "local",
                    "mode": "process",
                    "start_method": start_method,
                    "max_workers": "2",
                }
            }
        )
    )
    pid, x = scheduler.run(process_tasks.where.options(executor="procs")(7))
    assert x == 7 and pid != os.getpid()
    with pytest.raises(ValueError, match="raised in a worker process"):
        scheduler.run(process_tasks.fail_in_process.options(executor="procs")())


def test_process_failures_show_the_worker_traceback(scheduler, redun_log):
    with pytest.raises(ValueError):
        scheduler.run(process_tasks.fail_in_process.options(executor="process")())
    lines = [record.getMessage() for record in redun_log.records]
    logs = lines[lines.index("Latest logs:") :]
    assert any('raise ValueError("raised in a worker process")' in line for line in logs)


def test_per_task_mode_option(scheduler):
    pid, _ = scheduler.run(process_tasks.where.options(mode="process")(1), cache=False)
    assert pid != os.getpid()
    pid, _ = scheduler.run(process_tasks.where.options(mode="thread")(2))
    assert pid == os.getpid()


def test_script_tasks_run_on_threads_and_processes(scheduler):
    assert scheduler.run(process_tasks.shout("hi")) == b"HI\n"
    shout_in_process = process_tasks.shout.options(executor="process")("there")
    assert scheduler.run(shout_in_process) == b"THERE\n"


def test_returned_expressions_from_processes_are_evaluated_here(scheduler):
    results = scheduler.run(process_tasks.spawn_children.options(executor="process")(3))
    assert [x for _, x in results] == [0, 1, 2]


def test_alias_executor_forwards_to_its_target(scheduler):
    config = memory_config(executors={"fast": {"type": "alias", "target": "default"}})
    aliased = Scheduler(config=config)
    assert isinstance(aliased.executors["fast"], AliasExecutor)
    assert aliased.run(thread_name.options(executor="fast")(2)).startswith("redun-default")
    broken = Scheduler(config=memory_config(executors={"x": {"type": "alias", "target": "nope"}}))
    with pytest.raises(
        ExecutorError, match=r"^Could not find executor `nope` from options: default, process \("
    ):
        broken.run(thread_name.options(executor="x")(3))
    with pytest.raises(ExecutorError, match="needs `target"):
        AliasExecutor("y")


def test_executor_config_errors_are_one_line_and_actionable():
    with pytest.raises(
        MissingPluginError, match="No executor type 'docker': pip install redun-docker"
    ):
        Scheduler(config=memory_config(executors={"d": {"type": "docker"}}))
    with pytest.raises(SchedulerError, match=r"\[executors.d\] has no `type`"):
        Scheduler(config=memory_config(executors={"d": {"mode": "thread"}}))
    with pytest.raises(ExecutorError, match=r"\[executors.d\] max_workers = 'many'"):
        Scheduler(config=memory_config(executors={"d": {"type": "local", "max_workers": "many"}}))
    with pytest.raises(ExecutorError, match="unknown mode 'gpu'"):
        Scheduler(config=memory_config(executors={"d": {"type": "local", "mode": "gpu"}}))
    with pytest.raises(ExecutorError, match="unknown start_method 'clone'"):
        Scheduler(config=memory_config(executors={"d": {"type": "local", "start_method": "clone"}}))
    with pytest.raises(SchedulerError, match="class = no.such.Class cannot be imported"):
        Scheduler(config=memory_config(executors={"d": {"type": "x", "class": "no.such.Class"}}))


class InlineExecutor(Executor):
    """Runs jobs on the submitting thread: the smallest complete executor."""

    def submit(self, job) -> None:
        args, kwargs = job.args
        try:
            result = job.task.func(*args, **kwargs)
        except Exception as error:
            self.scheduler.reject_job(job, error)
        else:
            self.scheduler.done_job(job, result)


def test_third_party_executor_by_class_path():
    config = memory_config(
        executors={
            "inline": {"type": "custom", "class": "tests.core.engine.test_executors:InlineExecutor"}
        }
    )
    scheduler = Scheduler(config=config)
    assert isinstance(scheduler.executors["inline"], InlineExecutor)
    assert (
        scheduler.run(thread_name.options(executor="inline")(4)) == threading.current_thread().name
    )
    with pytest.raises(ExecutorError, match="cannot run script tasks"):
        scheduler.run(process_tasks.shout.options(executor="inline")("x"))


def test_a_single_explicit_executor_replaces_the_defaults():
    scheduler = Scheduler(config=memory_config(), executor=LocalExecutor("default", mode="thread"))
    assert list(scheduler.executors) == ["default"]
    assert scheduler.run(thread_name(5)).startswith("redun-default")


def test_executors_registered_in_code_and_lazy_class_names():
    import redun
    from redun.plugins import MissingPluginError

    redun.register_executor("inline_by_name", InlineExecutor)

    @redun.register_executor("inline_by_decorator")
    class Decorated(InlineExecutor):
        pass

    config = memory_config(
        executors={"a": {"type": "inline_by_name"}, "b": {"type": "inline_by_decorator"}}
    )
    scheduler = Scheduler(config=config)
    assert type(scheduler.executors["a"]) is InlineExecutor
    assert type(scheduler.executors["b"]) is Decorated
    assert redun.LocalExecutor is LocalExecutor
    assert redun.AliasExecutor is AliasExecutor
    with pytest.raises(MissingPluginError, match="pip install redun-k8s"):
        getattr(redun, "K8SExecutor")  # noqa: B009 - the lookup is what is tested
    with pytest.raises(AttributeError):
        getattr(redun, "NoSuchThing")  # noqa: B009
