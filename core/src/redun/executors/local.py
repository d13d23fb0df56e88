"""The local executor: a thread pool, a process pool, and an asyncio loop thread.

Stopping a run must be quick: queued jobs can be dropped, worker threads are
daemons (a task still running never holds up the process's exit), and worker
processes ignore Ctrl-C (the scheduler decides), are killed when a stopped run
leaves them busy, and exit by themselves when their scheduler dies.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import queue
import threading
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from redun.executors.base import Executor, ExecutorError, config_int, load_task_module
from redun.runtime import set_current_job

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from redun.scheduler import Job, Scheduler

THREAD_MODE = "thread"
PROCESS_MODE = "process"
MODES = (THREAD_MODE, PROCESS_MODE)
LEGACY_MODES = {"threads": THREAD_MODE, "processes": PROCESS_MODE}
START_METHODS = ("fork", "spawn", "forkserver")
DEFAULT_START_METHOD = "forkserver"
# How often one job is started again because another job's worker died beside it.
MAX_POOL_RETRIES = 3


def exec_task(module_name: str, task_fullname: str, args: tuple, kwargs: dict) -> Any:
    """Run a task's function in a worker process (importing its module if needed)."""
    from redun.executors.value_checks import check_result
    from redun.task import get_task_registry

    load_task_module(module_name, task_fullname)
    task = get_task_registry().get(task_fullname)
    if task is None:
        raise ExecutorError(f"Task {task_fullname!r} is not defined in module {module_name!r}")
    result = _portably(task.func, *args, **kwargs)
    # Here, before the pool tries to pickle it: the scheduler's own check comes too late.
    check_result(task_fullname, result)
    return result


def _portably(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call `func` in a worker; an error that cannot be pickled back becomes one that can.

    The pool unpickles a worker's error in its own thread: one that fails there
    (a constructor needing other arguments than its args) breaks the whole pool.
    """
    try:
        return func(*args, **kwargs)
    except BaseException as error:
        portable = _portable(error)
        if portable is error:
            raise
        raise portable from error


def _portable(error: BaseException) -> BaseException:
    """`error`, or an ExecutorError saying what it was when it cannot be pickled."""
    import pickle
    from multiprocessing.reduction import ForkingPickler

    try:
        pickle.loads(ForkingPickler.dumps(error))
    except Exception as reason:
        kind = f"{type(error).__module__}.{type(error).__qualname__}"
        return ExecutorError(
            f"{kind}: {error} (raised in a worker process; it cannot be sent back as "
            f"itself: {type(reason).__name__}: {reason}; give the exception class a "
            "constructor that accepts its args, or raise another)"
        )
    return error


def exec_script_task(module_name: str, task_fullname: str, args: tuple, kwargs: dict) -> bytes:
    """Run a script task: call its function for the script text, then run the script."""
    from redun.scripting import exec_script, prepare_command

    command = exec_task(module_name, task_fullname, args, kwargs)
    return _portably(exec_script, prepare_command(command))


# In a worker process: where it says which call it starts (see LocalExecutor._started).
_started_calls: Any = None


def _init_worker_process(scheduler_pid: int, started: Any) -> None:
    """Worker processes leave Ctrl-C to the scheduler and die with it."""
    import signal

    global _started_calls
    _started_calls = started
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(
        target=_exit_with, args=(scheduler_pid,), name="redun-watch-scheduler", daemon=True
    ).start()


def _run_call(call_id: int, func: Callable[..., Any], *args: Any) -> Any:
    """Say which worker runs call `call_id`, so that a worker's death is blamed on its call."""
    _started_calls.put((call_id, os.getpid()))
    return func(*args)


def _exit_with(pid: int) -> None:
    """Exit this process when process `pid` ends (even by SIGKILL)."""
    import select
    import time

    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    if pidfd is not None:
        select.select([pidfd], [], [])
        os._exit(1)
    while True:
        time.sleep(1.0)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass


class _ThreadPool:
    """Daemon threads fed from one queue, started as work arrives (up to `max_workers`)."""

    def __init__(self, max_workers: int, name: str) -> None:
        self._max_workers = max_workers
        self._name = name
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []

    def submit(self, job: Job, func: Callable[..., None], *args: Any) -> None:
        self._queue.put((job, func, args))
        if self._idle.acquire(blocking=False):
            return
        if len(self._threads) < self._max_workers:
            thread = threading.Thread(
                target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _work(self) -> None:
        get, idle = self._queue.get, self._idle
        while True:
            item = get()
            if item is None:
                return
            func, args = item[1], item[2]
            func(*args)
            # An idle worker holds nothing: not even the last job it ran.
            del item, func, args
            idle.release()

    def cancel_queued(self) -> list[Job]:
        dropped = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return dropped
            if item is not None:
                dropped.append(item[0])

    def shutdown(self, wait: bool) -> None:
        """Threads exit once the queue is done; `wait` for that, or leave busy ones behind."""
        for _ in self._threads:
            self._queue.put(None)
        if wait:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join()


def _end_pool(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's workers and let it go without waiting for them.

    Also what a broken pool needs: Python 3.11's own clean-up joins every worker
    and waits forever on one that started as the pool broke.
    """
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _exit_description(code: int | None) -> str:
    import signal

    if code is not None and code < 0:
        if -code == signal.SIGKILL:
            return "was killed by SIGKILL (what the out-of-memory killer sends)"
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code} (os._exit() or a crash)"


def _remote_traceback(error: BaseException) -> Any:
    """The worker process's traceback (text the pool attached), as the job's logs."""
    cause = error.__cause__
    if type(cause).__name__ != "_RemoteTraceback":
        return None
    from redun.tracebacks import Traceback

    text = str(cause).strip().removeprefix('"""').removesuffix('"""').strip("\n")
    return Traceback(error, [], logs=text.splitlines(keepends=True))


def _normalize_mode(mode: str, where: str) -> str:
    mode = LEGACY_MODES.get(mode, mode)
    if mode not in MODES:
        raise ExecutorError(f"{where}: unknown mode {mode!r}; use 'thread' or 'process'")
    return mode


class LocalExecutor(Executor):
    """Runs jobs on this machine; ``mode`` per executor or per task (``mode=`` option)."""

    def __init__(
        self,
        name: str,
        scheduler: Scheduler | None = None,
        config: Mapping[str, str] | None = None,
        mode: str = THREAD_MODE,
    ) -> None:
        config = config if config is not None else {}
        super().__init__(name, scheduler=scheduler, config=config)
        section = f"executors.{name}"
        self.max_workers = config_int(config, "max_workers", 20, section)
        if self.max_workers < 1:
            raise ExecutorError(f"[{section}] max_workers must be at least 1")
        self.mode = _normalize_mode(config.get("mode", mode), f"[{section}]")
        self.start_method = config.get("start_method", DEFAULT_START_METHOD)
        if self.start_method not in START_METHODS:
            raise ExecutorError(
                f"[{section}] unknown start_method {self.start_method!r}; use one of "
                + ", ".join(START_METHODS)
            )
        self._scratch_root = config.get("scratch", "/tmp/redun")
        self._thread_pool: _ThreadPool | None = None
        self._process_pool: ProcessPoolExecutor | None = None
        self._process_jobs: dict[Future, Job] = {}
        # Of the current pool: (call id, worker pid) as workers start calls, and the
        # worker of each call not finished yet (read as calls finish).
        self._started: Any = None
        self._running_on: dict[int, int] = {}
        self._call_ids = itertools.count()
        self._pool_retries: dict[Job, int] = {}
        # Of each broken pool, the workers found dead (pid: exit code).
        self._dead_workers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        # Pools that stop() killed: their failed calls are not run again.
        self._ended_pools: weakref.WeakSet = weakref.WeakSet()
        # Set by cancel_queued: the run is stopping, so `stop` ends what still runs.
        self._stopping = False
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self._async_thread: threading.Thread | None = None
        self._async_tasks: set[asyncio.Task] = set()
        self._lock = threading.Lock()

    def supports_async(self) -> bool:
        return True

    def scratch_root(self) -> str:
        return self._scratch_root

    # -- pools (started on first use) ----------------------------------------------

    def _threads(self) -> _ThreadPool:
        with self._lock:
            if self._thread_pool is None:
                self._thread_pool = _ThreadPool(self.max_workers, f"redun-{self.name}")
            return self._thread_pool

    def _processes(self) -> tuple[ProcessPoolExecutor, Any, dict[int, int]]:
        """The pool (started on first use), and where its workers say what they start."""
        # Imported here: thread-mode runs never pay for multiprocessing.
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with self._lock:
            if self._process_pool is not None and getattr(self._process_pool, "_broken", False):
                # A worker died: its pool takes no more work; later jobs get a new one.
                _end_pool(self._process_pool)
                self._process_pool = None
            if self._process_pool is None:
                context = get_context(self.start_method)
                self._started = context.SimpleQueue()
                self._running_on = {}
                self._process_pool = ProcessPoolExecutor(
                    max_workers=self.max_workers,
                    mp_context=context,
                    initializer=_init_worker_process,
                    initargs=(os.getpid(), self._started),
                )
            return self._process_pool, self._started, self._running_on

    def _loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._async_loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name=f"redun-{self.name}-async", daemon=True
                )
                thread.start()
                self._async_loop, self._async_thread = loop, thread
            return self._async_loop

    def cancel_queued(self) -> list[Job]:
        with self._lock:
            self._stopping = True
            thread_pool = self._thread_pool
            process_jobs = list(self._process_jobs.items())
        dropped = thread_pool.cancel_queued() if thread_pool is not None else []
        for future, job in process_jobs:
            if future.cancel():
                dropped.append(job)
        return dropped

    def stop(self) -> None:
        """Wait for what still runs, unless the run is stopping: then end it (kill workers)."""
        with self._lock:
            thread_pool, self._thread_pool = self._thread_pool, None
            process_pool, self._process_pool = self._process_pool, None
            busy = list(self._process_jobs)
            self._process_jobs.clear()
            loop, self._async_loop = self._async_loop, None
            async_thread, self._async_thread = self._async_thread, None
            stopping, self._stopping = self._stopping, False
        if thread_pool is not None:
            thread_pool.shutdown(wait=not stopping)
        if process_pool is not None:
            if getattr(process_pool, "_broken", False):
                self._ended_pools.add(process_pool)
                _end_pool(process_pool)
            elif stopping and busy:
                for future in busy:
                    future.cancel()
                # Its calls then fail as a broken pool's: they must not run again
                # in a new pool that nothing would stop (the exit would wait for it).
                self._ended_pools.add(process_pool)
                _end_pool(process_pool)
            else:
                process_pool.shutdown(wait=True, cancel_futures=True)
        if loop is not None and async_thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            if threading.current_thread() is not async_thread:
                async_thread.join()
            loop.close()

    # -- submission ------------------------------------------------------------

    def submit(self, job: Job) -> None:
        self._submit(job, script=False)

    def submit_script(self, job: Job) -> None:
        self._submit(job, script=True)

    def _submit(self, job: Job, script: bool) -> None:
        scheduler = self._scheduler
        if scheduler is None:
            raise ExecutorError(f"Executor {self.name!r} has no scheduler")
        if job.task.is_async():
            self._submit_async(scheduler, job)
            return
        mode = _normalize_mode(job.get_option("mode", self.mode), f"task {job.task.fullname}")
        args, kwargs = job.args
        if mode == THREAD_MODE:
            self._threads().submit(job, self._run_in_thread, scheduler, job, script, args, kwargs)
            return
        self._submit_process(scheduler, job, script, args, kwargs)

    def _submit_process(
        self, scheduler: Scheduler, job: Job, script: bool, args: tuple, kwargs: dict
    ) -> None:
        from concurrent.futures.process import BrokenProcessPool

        func = exec_script_task if script else exec_task
        call_id = next(self._call_ids)
        call = (_run_call, call_id, func, job.task.load_module, job.task.fullname, args, kwargs)
        try:
            pool, started, running_on = self._processes()
            future = pool.submit(*call)
        except BrokenProcessPool:
            # It broke since we looked: the next look replaces it.
            pool, started, running_on = self._processes()
            future = pool.submit(*call)
        with self._lock:
            self._process_jobs[future] = job

        def on_done(future: Future) -> None:
            with self._lock:
                self._process_jobs.pop(future, None)
                while not started.empty():
                    started_id, pid = started.get()
                    running_on[started_id] = pid
                worker = running_on.pop(call_id, None)
            if future.cancelled():
                return
            error = future.exception()
            if error is None:
                self._pool_retries.pop(job, None)
                scheduler.done_job(job, future.result())
            elif isinstance(error, BrokenProcessPool):
                self._on_pool_broken(scheduler, job, script, args, kwargs, pool, worker)
            else:
                self._pool_retries.pop(job, None)
                scheduler.reject_job(job, error, _remote_traceback(error))

        future.add_done_callback(on_done)

    def _on_pool_broken(
        self,
        scheduler: Scheduler,
        job: Job,
        script: bool,
        args: tuple,
        kwargs: dict,
        pool: ProcessPoolExecutor,
        worker: int | None,
    ) -> None:
        """A worker died: its call fails; the calls it took down with it run again."""
        from concurrent.futures.process import BrokenProcessPool

        if pool in self._ended_pools:
            return  # killed by stop(): the run that wanted these calls has ended
        with self._lock:
            dead = self._dead_workers.get(pool)
            if dead is None:
                # At the first of its failed calls, before anything of ours kills the rest.
                processes = dict(getattr(pool, "_processes", None) or {})
                dead = {pid: p.exitcode for pid, p in processes.items() if p.exitcode is not None}
                self._dead_workers[pool] = dead
        retries = self._pool_retries.get(job, 0)
        if worker in dead or not dead or self._stopping or retries >= MAX_POOL_RETRIES:
            self._pool_retries.pop(job, None)
            how = _exit_description(dead.get(worker)) if worker in dead else "died abruptly"
            scheduler.reject_job(
                job,
                BrokenProcessPool(
                    f"The worker process running this job (executor {self.name!r}) {how}; "
                    "the jobs running beside it were started again in new workers."
                    if worker in dead
                    else f"A worker process of executor {self.name!r} {how} while this job "
                    "ran or waited in its pool (a signal, os._exit() or running out of "
                    "memory). Rerun to retry it."
                ),
            )
            return
        self._pool_retries[job] = retries + 1
        self._submit_process(scheduler, job, script, args, kwargs)

    @staticmethod
    def _run_in_thread(
        scheduler: Scheduler, job: Job, script: bool, args: tuple, kwargs: dict
    ) -> None:
        try:
            if script:
                from redun.scripting import exec_script, get_task_command

                result = exec_script(get_task_command(job.task, args, kwargs))
            else:
                result = job.task.func(*args, **kwargs)
        except BaseException as error:
            # SystemExit and KeyboardInterrupt too: an uncaught one would leave the job
            # running forever (the scheduler stops the run for KeyboardInterrupt).
            scheduler.reject_job(job, error)
        else:
            scheduler.done_job(job, result)

    def _submit_async(self, scheduler: Scheduler, job: Job) -> None:
        args, kwargs = job.args

        async def run() -> None:
            set_current_job(scheduler, job)
            try:
                result = await job.task.func(*args, **kwargs)
            except BaseException as error:
                scheduler.reject_job(job, error)
            else:
                scheduler.done_job(job, result)

        loop = self._loop()
        running = self._async_tasks

        def start() -> None:
            # Keep a reference: the loop holds tasks only weakly.
            task = loop.create_task(run())
            running.add(task)
            task.add_done_callback(running.discard)

        loop.call_soon_threadsafe(start)
