"""Builtin tasks in namespace ``redun`` that the scheduler evaluates itself.

Names, namespaces and versions are redun's, so these tasks hash identically;
the few that redun hashes by source carry redun's hash in ``compat``.
"""

from __future__ import annotations

import importlib
import os
import pprint
from typing import Any

from redun.backends.base import CacheQuery
from redun.cache import CacheCheckValid, CacheResult, CacheScope
from redun.expression import QuotedExpression, SchedulerExpression, derive_expression, quote
from redun.hashing import hash_struct
from redun.promise import Promise, wait_promises
from redun.runtime import JobInfo
from redun.scheduler.jobs import Job
from redun.task import get_task_registry, hash_args_eval, scheduler_task, task
from redun.utils import map_nested_value, pickle_dumps, pickle_loads, trim_string
from redun.value import Value

_WITH_EXPORT_OPTIONS_HASH = "5d2f18e5ff6b0171fc0bfd31110a325b9bdc9b79"


@scheduler_task(namespace="redun")
def cond(
    scheduler: Any,
    parent_job: Job,
    sexpr: SchedulerExpression,
    cond_expr: Any,
    then_expr: Any,
    *rest: Any,
) -> Promise:
    """Lazy if/elif/else: ``cond(pred, then, [pred2, then2, ...], otherwise)``."""
    exprs = (cond_expr, then_expr, *rest)

    def choose(args: tuple) -> Promise:
        i, value = args
        if value:
            return scheduler.evaluate(exprs[i + 1], parent_job=parent_job)
        if len(exprs) - i == 3:
            return scheduler.evaluate(exprs[i + 2], parent_job=parent_job)
        if len(exprs) - i < 3:
            raise ValueError("cond() needs an else expression after the last (predicate, then)")
        return scheduler.evaluate((i + 2, exprs[i + 2]), parent_job=parent_job).then(choose)

    return scheduler.evaluate((0, cond_expr), parent_job=parent_job).then(choose)


@task(namespace="redun", version="1")
def throw(error: Exception) -> None:
    """Raise `error` when evaluated."""
    raise error


@scheduler_task(namespace="redun", version="1")
def catch(
    scheduler: Any, parent_job: Job, sexpr: SchedulerExpression, expr: Any, *catch_args: Any
) -> Promise:
    """Lazy try/except: ``catch(expr, ErrorClass, recover, [ErrorClass2, recover2, ...])``.

    The expression that succeeded (`expr` or the recovery) is cached under catch's
    own eval hash, so a later run replays it without re-raising the error.
    """
    pairs = list(zip(catch_args[::2], catch_args[1::2]))
    if len(catch_args) % 2 or not pairs:
        raise ValueError("catch() takes an expression then pairs of (error class, recover task)")
    recover_expr: Any = None
    all_args = (expr, *catch_args)
    eval_hash, args_hash = hash_args_eval(scheduler.type_registry, catch, all_args, {})

    def remember(chosen: Any) -> None:
        scheduler.backend.record_value(catch, catch.hash)
        scheduler.set_cache(eval_hash, catch.hash, args_hash, chosen)

    def on_success(result: Any) -> Any:
        remember(expr)
        return result

    def on_recover(result: Any) -> Any:
        remember(recover_expr)
        return result

    def handle(error: Exception) -> Promise:
        nonlocal recover_expr
        for error_class, recover in pairs:
            if isinstance(error, error_class):
                recover_expr = recover(derive_expression(expr, error))
                derive_expression(recover_expr, sexpr)
                return scheduler.evaluate(recover_expr, parent_job=parent_job).then(on_recover)
        raise error

    cache_scope = CacheScope(sexpr._options.get("cache_scope", CacheScope.BACKEND))
    if scheduler._use_cache and cache_scope != CacheScope.NONE:
        hit = scheduler.backend.check_cache(
            CacheQuery(
                catch.fullname,
                catch.hash,
                args_hash,
                eval_hash,
                parent_job.execution.id,
                scheduler.task_registry.task_hashes,
                cache_scope,
                CacheCheckValid.FULL,
                allowed_cache_results={CacheResult.SINGLE},
            )
        )
        if hit.kind != CacheResult.MISS:
            return scheduler.evaluate(hit.result, parent_job=parent_job).catch(handle)
    return scheduler.evaluate(expr, parent_job=parent_job).then(on_success, handle)


@scheduler_task(namespace="redun", version="1")
def catch_all(
    scheduler: Any,
    parent_job: Job,
    sexpr: SchedulerExpression,
    exprs: Any,
    error_class: Any = None,
    recover: Any = None,
) -> Promise:
    """Let every expression in a nested value finish, then handle the errors together."""
    promises: list[Promise] = []

    def start(value: Any) -> Promise:
        promise = scheduler.evaluate(value, parent_job=parent_job)
        promises.append(promise)
        return promise

    pending = map_nested_value(start, exprs)

    def settle(value: Any) -> Any:
        if isinstance(value, Promise):
            return value.value if value.is_fulfilled else value.error
        return value

    def finish(_: Any) -> Any:
        errors = [promise.error for promise in promises if promise.is_rejected]
        if not errors:
            return map_nested_value(settle, pending)
        if recover is None:
            raise errors[0]

        def do_recover(pair: tuple) -> Promise:
            error_cls, recover_task = pair
            unmatched = [error for error in errors if not isinstance(error, error_cls)]
            if unmatched:
                raise unmatched[0]
            return scheduler.evaluate(
                recover_task(map_nested_value(settle, pending)), parent_job=parent_job
            )

        return scheduler.evaluate((error_class, recover), parent_job=parent_job).then(do_recover)

    return wait_promises(promises).then(finish)


@scheduler_task(namespace="redun")
def apply_tags(
    scheduler: Any,
    parent_job: Job,
    sexpr: SchedulerExpression,
    value: Any,
    tags: list | None = None,
    job_tags: list | None = None,
    execution_tags: list | None = None,
) -> Promise:
    """Tag `value`, the calling job or the execution; evaluates to `value`."""

    def then(args: tuple) -> Any:
        value, tags, job_tags, execution_tags = args
        if tags:
            value_hash = scheduler.backend.record_value(value)
            parent_job.value_tags.append((value_hash, list(tags)))
        parent_job.job_tags.extend(job_tags or [])
        parent_job.execution_tags.extend(execution_tags or [])
        return value

    return scheduler.evaluate(
        (value, tags or [], job_tags or [], execution_tags or []), parent_job=parent_job
    ).then(then)


@scheduler_task(namespace="redun")
def merge_handles(
    scheduler: Any, parent_job: Job, sexpr: SchedulerExpression, handles_expr: Any
) -> Promise:
    """Join forks of one Handle back into a single state."""

    def then(handles: list) -> Any:
        if not handles:
            raise ValueError("merge_handles() needs at least one handle")
        if len({handle.__handle__.name for handle in handles}) != 1:
            raise ValueError("merge_handles() can only merge forks of the same handle")
        final, others = handles[0], handles[1:]
        scheduler.backend.advance_handle(others, final)
        return final

    return scheduler.evaluate(handles_expr, parent_job=parent_job).then(then)


@task(namespace="redun", name="with_export_options", compat=[_WITH_EXPORT_OPTIONS_HASH])
def _with_export_options(expr: QuotedExpression) -> Any:
    return expr.eval()


def with_export_options(expr: QuotedExpression, options: dict) -> Any:
    """Evaluate quoted `expr` with `options` exported to every job below it."""
    return _with_export_options.export_options(**options)(expr)


def _subrun_config(config_dir: str) -> Any:
    """The sub-scheduler's config from `config_dir` (a directory or URL where it runs)."""
    from redun.config import CONFIG_FILENAME, ConfigError, load_config

    if "://" not in config_dir and not os.path.isfile(os.path.join(config_dir, CONFIG_FILENAME)):
        raise ConfigError(
            f"subrun(config_dir={config_dir!r}): no {CONFIG_FILENAME} there; the directory "
            "is read where the sub-scheduler runs"
        )
    return load_config(config_dir)


@task(
    namespace="redun",
    name="subrun_root_task",
    version="1",
    config_args=["config", "config_dir", "load_modules", "run_config"],
    cache_scope=CacheScope.CSE,
    check_valid=CacheCheckValid.SHALLOW,
)
def _subrun_root_task(
    expr: QuotedExpression,
    config: dict,
    config_dir: str | None,
    load_modules: list[str],
    run_config: dict[str, Any],
    new_execution: bool = False,
    job_info: JobInfo = JobInfo(),
    export_options: dict | None = None,
) -> dict:
    """Run quoted `expr` in a fresh Scheduler wherever this task's executor runs it."""
    from redun.config import Config
    from redun.scheduler.scheduler import Scheduler

    if config_dir is not None:
        config_obj = _subrun_config(config_dir)
    else:
        config_obj = Config(config_dict=config)
    sub_scheduler = Scheduler(config=config_obj)
    sub_scheduler.load()
    for module in load_modules or []:
        importlib.import_module(module)
    report: dict[str, Any] = {"config": sub_scheduler.config.get_config_dict()}
    expr_eval = with_export_options(expr, export_options) if export_options else expr.eval()
    if not new_execution:
        report.update(
            sub_scheduler.extend_run(expr_eval, parent_job_id=job_info.job_id, **run_config)
        )
    else:
        expr_eval = pickle_loads(pickle_dumps(expr_eval))
        report["result"] = sub_scheduler.run(expr_eval, **run_config)
    report["run_config"] = {"dryrun": sub_scheduler._dryrun, "cache": sub_scheduler._use_cache}
    report["status"] = sub_scheduler.get_job_status_report()
    return report


@scheduler_task(
    namespace="redun",
    version="1",
    cache_scope=CacheScope.BACKEND,
    check_valid=CacheCheckValid.SHALLOW,
)
def subrun(
    scheduler: Any,
    parent_job: Job,
    sexpr: SchedulerExpression,
    expr: Any,
    executor: str,
    config: dict | None = None,
    config_dir: str | None = None,
    new_execution: bool = False,
    load_modules: list[str] | None = None,
    **task_options: Any,
) -> Promise:
    """Evaluate `expr` in a sub-scheduler that runs as one job on `executor`."""
    if config and config_dir is not None:
        raise ValueError("subrun() takes either config or config_dir, not both")
    if config_dir is not None:
        config = {}
    elif not config:
        config = scheduler.config.get_config_dict(replace_config_dir=".")
    if load_modules is None:
        load_modules = sorted(
            {
                registered.load_module
                for registered in get_task_registry()
                if registered.load_module and not registered.load_module.startswith("redun.")
            }
        )
    run_config = {
        "dryrun": scheduler._dryrun,
        "cache": scheduler._use_cache,
        "context": parent_job.get_context(),
    }
    if not parent_job.recording_provenance():
        new_execution = True
    options: dict[str, Any] = {
        "cache_scope": CacheScope(
            sexpr._options.get("cache_scope", subrun.get_task_option("cache_scope"))
        ),
        "check_valid": CacheCheckValid(
            sexpr._options.get("check_valid", subrun.get_task_option("check_valid"))
        ),
        "allowed_cache_results": {CacheResult.CSE, CacheResult.ULTIMATE},
        **task_options,
    }
    root_expr = _subrun_root_task.options(executor=executor, **options)(
        expr=quote(expr),
        config=config,
        config_dir=config_dir,
        load_modules=list(load_modules),
        run_config=run_config,
        export_options=parent_job.get_export_options(),
        new_execution=new_execution,
    )

    def banner(message: str) -> None:
        scheduler.log("-" * 79)
        scheduler.log(message)
        scheduler.log("-" * 79)

    def then(report: dict) -> Any:
        scheduler.log()
        banner(f"BEGIN: Sub-scheduler report (executor='{executor}'), {trim_string(repr(expr))}")
        scheduler.log("Sub-scheduler config:")
        scheduler.log(pprint.pformat(report["config"]))
        scheduler.log()
        scheduler.log("Sub-scheduler run_config:")
        scheduler.log(pprint.pformat(report["run_config"]))
        scheduler.log()
        scheduler.log("Sub-scheduler final job status:")
        for line in report["status"]:
            scheduler.log(line)
        banner("END: Sub-scheduler report")
        scheduler.log()
        if "result" in report:
            return report["result"]
        if "error" in report:
            raise report["error"]
        return Promise()

    return scheduler.evaluate(root_expr, parent_job=parent_job).then(then)


class Thread(Value):
    """A computation started by `fork_thread` that its caller does not wait for."""

    __module__ = "redun.scheduler"
    type_name = "redun.Thread"

    def __init__(self, promise_id: str, expr_hash: str, expr: Any) -> None:
        self._promise_id = promise_id
        self._hash = hash_struct(["Thread", expr_hash])
        self._expr = expr

    def get_hash(self, data: bytes | None = None) -> str:
        return self._hash

    def __getstate__(self) -> dict:
        return {"promise_id": self._promise_id, "hash": self._hash, "expr": self._expr}

    def __setstate__(self, state: dict) -> None:
        self._promise_id = state["promise_id"]
        self._hash = state["hash"]
        self._expr = state["expr"]

    def __repr__(self) -> str:
        return f"Thread({self._expr!r})"


@scheduler_task(namespace="redun")
def fork_thread(scheduler: Any, parent_job: Job, sexpr: SchedulerExpression, expr: Any) -> Promise:
    """Start evaluating `expr` in the background; evaluates at once to a Thread.

    ``join_thread(thread)`` waits for the result; a thread never joined runs
    fire-and-forget.
    """
    promise = scheduler.evaluate(expr, parent_job=parent_job)
    thread = Thread(scheduler.track_promise(promise), scheduler.type_registry.get_hash(expr), expr)
    return Promise(lambda resolve, reject: resolve(thread))


@scheduler_task(namespace="redun")
def join_thread(
    scheduler: Any, parent_job: Job, sexpr: SchedulerExpression, thread: Any
) -> Promise:
    """The result of a forked thread (re-evaluated if it came from another execution)."""

    def join(thread: Thread) -> Promise:
        promise = scheduler.pop_promise(thread._promise_id)
        if promise is not None:
            return promise
        return scheduler.evaluate(thread._expr, parent_job=parent_job)

    return scheduler.evaluate(thread, parent_job=parent_job).then(join)
