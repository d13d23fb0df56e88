"""Hooks of the console, added to redun's plugin manager through ``redun_add_hookspecs``.

Other plugins implement them with ``redun.plugins.hookimpl`` in the same
module as their other redun hooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from redun.backends.db.rows import JobRow

    from redun_console.types import JobLink, ScreenSpec

hookspec = pluggy.HookspecMarker("redun")


@hookspec
def redun_console_screens() -> list[ScreenSpec]:
    """Screens this plugin adds to ``redun console``, each reachable by a route.

    Called once when the console starts, on the UI thread. The screen class is
    imported only when its route is opened.

    Example::

        @hookimpl
        def redun_console_screens():
            return [ScreenSpec(r"aws-logs/(?P<job_id>[^/]+)",
                               "redun_aws.console:BatchLogScreen", "AWS Batch logs of a job")]
    """


@hookspec
def redun_console_job_links(job: JobRow, tags: dict[str, list]) -> list[JobLink] | None:
    """Links to show on a job's screen (for instance to a plugin screen with its logs).

    Called on the UI thread each time a job's screen loads; `tags` maps each of
    the job's tag keys to its values. Return None when the job is not yours.

    Example::

        @hookimpl
        def redun_console_job_links(job, tags):
            if "aws_log_stream" not in tags:
                return None
            return [JobLink("AWS Batch logs", f"aws-logs/{job.id}")]
    """
