"""Every hook a redun plugin can implement.

A plugin is a module registered under the ``redun`` entry-point group::

    [project.entry-points.redun]
    myplugin = "my_package.plugin"

whose functions are decorated with ``redun.plugins.hookimpl``. Builtins
(``redun.builtins.*``) use the same hooks, registered first.

Provider hooks return lists of the frozen specs in ``redun.plugins.types``;
their ``target`` strings are imported only when the named thing is used.
Event hooks are always called on the scheduler thread and cost nothing when no
plugin implements them. An exception raised by an event hook is logged as a
warning and the run goes on; with ``REDUN_PLUGINS_STRICT=1`` (the test suite
sets it) it is re-raised, failing the run.

After loading, every hook implementation must name a hook specified here or
added by a plugin (``redun_add_hookspecs``): an unknown name is a one-line
warning naming the distribution (an error in strict mode). A plugin that
implements another plugin's hooks marks them ``@hookimpl(optionalhook=True)``,
so it loads quietly where that plugin is not installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from redun.executors.base import Executor
    from redun.plugins.types import (
        BackendSpec,
        CommandOptionSpec,
        CommandSpec,
        ConfigSectionSpec,
        ExecutorSpec,
        FileSystemSpec,
        ValueTypeSpec,
    )
    from redun.scheduler import Execution, Job, Scheduler

hookspec = pluggy.HookspecMarker("redun")


# -- providers ---------------------------------------------------------------


@hookspec
def redun_executors() -> list[ExecutorSpec]:
    """Executor types this plugin provides.

    Called once, on the first lookup of an executor type (when a Scheduler
    reads ``[executors.*]`` sections), on the calling thread. Two plugins
    providing the same name is an error naming both distributions.

    Example::

        @hookimpl
        def redun_executors():
            return [ExecutorSpec("slurm", "redun_slurm.executor:SlurmExecutor",
                                 "Submit tasks with sbatch", config_keys=("partition",))]
    """


@hookspec
def redun_filesystems() -> list[FileSystemSpec]:
    """Filesystem classes this plugin provides, keyed by URL scheme.

    Called once, on the first ``File(url)`` access whose scheme is not yet
    known, on the calling thread.

    Example::

        @hookimpl
        def redun_filesystems():
            return [FileSystemSpec(("s3",), "redun_aws.s3:S3FileSystem", "Amazon S3")]
    """


@hookspec
def redun_backends() -> list[BackendSpec]:
    """State stores this plugin provides, keyed by the URL scheme of ``[backend] db_uri``.

    Called once, when the first Scheduler (or CLI command) opens a repository,
    on the calling thread. The class must implement
    `redun.backends.base.RedunBackend`; it is built as ``cls(config=section)``.
    SQLite and PostgreSQL are a builtin plugin of this hook like any other.

    Example::

        @hookimpl
        def redun_backends():
            return [BackendSpec(("dynamodb",), "redun_dynamo.store:DynamoBackend",
                                "Call graph in DynamoDB tables")]

        # redun.ini
        [backend]
        db_uri = dynamodb://us-east-1/my-table
    """


@hookspec
def redun_commands() -> list[CommandSpec]:
    """Top-level ``redun`` subcommands (click commands) this plugin provides.

    Called when the CLI starts; the command's module is imported only when the
    command runs or its help is shown.

    Example::

        @hookimpl
        def redun_commands():
            return [CommandSpec("console", "redun_console.cli:console", "Terminal console")]
    """


@hookspec
def redun_command_options() -> list[CommandOptionSpec]:
    """Options this plugin adds to existing commands (its own or another plugin's).

    Called when the CLI starts; an option's module is imported only when its
    command is loaded. The option must be declared with ``expose_value=False``
    and act through its ``callback``, so the command itself is unchanged.

    Example::

        @hookimpl
        def redun_command_options():
            return [CommandOptionSpec("run", "redun_slurm.cli:account_option")]

        # redun_slurm/cli.py
        account_option = click.Option(
            ["--slurm-account"], expose_value=False,
            callback=lambda ctx, param, value: value and os.environ.update(SLURM_ACCOUNT=value),
        )
    """


@hookspec
def redun_value_types() -> list[ValueTypeSpec]:
    """Value type names this plugin defines, with the module defining each.

    Called when a recorded value's type name is not registered yet, so that
    deserializing it imports the right module.

    Example::

        @hookimpl
        def redun_value_types():
            return [ValueTypeSpec("redun.ShardedS3Dataset", "redun_aws.dataset")]
    """


@hookspec
def redun_config_sections() -> list[ConfigSectionSpec]:
    """``redun.ini`` sections and keys this plugin understands.

    Called when a config is validated (CLI start, ``Scheduler(config=...)``).
    Unknown keys in a known section produce a warning naming the closest valid
    key (an error with ``[scheduler] strict_config = true``).

    Example::

        @hookimpl
        def redun_config_sections():
            return [ConfigSectionSpec("slurm", keys=("account", "partition"))]
    """


@hookspec(historic=True)
def redun_add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    """Add hookspecs of your own, so other plugins can extend yours.

    Called once, right after all plugins are registered, on the loading thread
    (historic: a plugin registered later is called when it registers).

    Example::

        @hookimpl
        def redun_add_hookspecs(pluginmanager):
            from redun_console import hookspecs
            pluginmanager.add_hookspecs(hookspecs)
    """


# -- modifiers ---------------------------------------------------------------


@hookspec
def redun_job_env(job: Job, executor: Executor) -> dict[str, str] | None:
    """Environment variables to add to a container job.

    Called by container executors (docker, k8s, ...) on the scheduler thread
    when building a job's container; results from all plugins are merged (later
    plugins win). Lets the docker executor forward AWS credentials without
    importing anything from redun-aws.

    Example::

        @hookimpl
        def redun_job_env(job, executor):
            if executor.config.get("include_aws_env", "true") != "true":
                return None
            return {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    """


@hookspec
def redun_scheduler_setup(scheduler: Scheduler) -> None:
    """Adjust a freshly built Scheduler (add executors, set limits).

    Called once per Scheduler, at the end of its construction, on the
    constructing thread.

    Example::

        @hookimpl
        def redun_scheduler_setup(scheduler):
            scheduler.limits.setdefault("gpu", 1)
    """


# -- events (scheduler thread; free when nobody listens) ---------------------


@hookspec
def redun_execution_started(scheduler: Scheduler, execution: Execution) -> None:
    """An execution has started; its root job is about to be evaluated.

    Example::

        @hookimpl
        def redun_execution_started(scheduler, execution):
            print("started", execution.id)
    """


@hookspec
def redun_job_submitted(scheduler: Scheduler, job: Job) -> None:
    """A job was handed to its executor (cache misses only).

    Example::

        @hookimpl
        def redun_job_submitted(scheduler, job):
            metrics.incr("redun.jobs.submitted", tags={"task": job.task.fullname})
    """


@hookspec
def redun_job_done(scheduler: Scheduler, job: Job, result: Any) -> None:
    """A job finished successfully (ran or was served from the cache).

    Example::

        @hookimpl
        def redun_job_done(scheduler, job, result):
            if not job.was_cached:
                print(f"{job.task.fullname} done")
    """


@hookspec
def redun_job_failed(scheduler: Scheduler, job: Job, error: BaseException) -> None:
    """A job failed with `error`.

    Example::

        @hookimpl
        def redun_job_failed(scheduler, job, error):
            alerts.send(f"{job.task.fullname} failed: {error!r}")
    """


@hookspec
def redun_execution_finished(scheduler: Scheduler, execution: Execution, status: str) -> None:
    """An execution ended with `status` ``"DONE"`` or ``"FAILED"``.

    Example::

        @hookimpl
        def redun_execution_finished(scheduler, execution, status):
            print(execution.id, status)
    """
