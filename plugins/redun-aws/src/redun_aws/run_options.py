"""``redun run --exclude-user aws``, and whether this process is a ``redun run``.

redun records the ``user_aws`` execution tag for ``redun run`` (not for
library use) unless told ``--exclude-user aws``; the option's callback, which
click calls on every ``redun run``, is how the plugin learns both.
"""

from __future__ import annotations

from typing import Any

import click

RUN_OPTIONS: dict[str, Any] = {"cli_run": False, "exclude": ()}


def _exclude_user(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> None:
    RUN_OPTIONS["cli_run"] = True
    RUN_OPTIONS["exclude"] = tuple(v.lower() for v in value)


exclude_user_option = click.Option(
    ["--exclude-user"],
    multiple=True,
    metavar="aws",
    expose_value=False,
    callback=_exclude_user,
    help="Do not record the user_aws execution tag (redun's --exclude-user aws).",
)
