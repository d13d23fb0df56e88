"""Ready-made tasks for common workflow chores: copying files, templates, debugging."""

from __future__ import annotations

import os
from typing import TypeVar

from redun.file import Dir, File
from redun.functools import seq
from redun.task import task

T = TypeVar("T")


@task(namespace="redun", version="1", cache=False)
def debug_task(value: T) -> T:
    """Stop in pdb at this point of the workflow, with `value` evaluated."""
    import pdb

    pdb.set_trace()
    return value


@task(namespace="redun", version="1", config_args=["skip_if_exists"])
def copy_file(src_file: File, dest_path: str, skip_if_exists: bool = False) -> File:
    """Copy a File (a `dest_path` ending in "/" keeps the file name)."""
    if dest_path.endswith("/"):
        dest_path = dest_path + src_file.basename()
    return src_file.copy_to(src_file.classes.File(dest_path), skip_if_exists=skip_if_exists)


@task(namespace="redun", version="1", config_args=["skip_if_exists", "copy_options"])
def copy_files(
    src_files: list[File],
    dest_paths: list[str],
    skip_if_exists: bool = False,
    copy_options: dict | None = None,
) -> list[File]:
    """Copy Files in parallel, one job each (`copy_options` configures those jobs)."""
    if len(src_files) != len(dest_paths):
        raise ValueError(
            f"copy_files() got {len(src_files)} files but {len(dest_paths)} destination paths"
        )
    copy = copy_file.options(**copy_options) if copy_options else copy_file
    return [
        copy(src_file, dest_path, skip_if_exists=skip_if_exists)
        for src_file, dest_path in zip(src_files, dest_paths)
    ]


@task(namespace="redun", version="1", config_args=["skip_if_exists", "copy_options"])
def copy_dir(
    src_dir: Dir, dest_path: str, skip_if_exists: bool = False, copy_options: dict | None = None
) -> Dir:
    """Copy a Dir, its files in parallel; evaluates to the new Dir once all are copied."""
    src_files = list(src_dir)
    dest_dir = src_dir.classes.Dir(dest_path)
    dest_paths = [dest_dir.file(src_dir.rel_path(src_file.path)).path for src_file in src_files]
    copies = copy_files(
        src_files, dest_paths, skip_if_exists=skip_if_exists, copy_options=copy_options or {}
    )
    return seq([copies, dest_dir])[1]


@task(namespace="redun", version="1")
def render_template(
    out_path: str, template: File, context: dict, template_dir: str | None = None
) -> File:
    """Render a jinja2 template File to `out_path` (needs jinja2 installed)."""
    try:
        import jinja2
    except ImportError:
        raise ImportError("render_template() needs jinja2: pip install jinja2") from None
    template_dir = template_dir or template.dirname()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir))
    rendered = env.get_template(os.path.relpath(template.path, template_dir)).render(context)
    out_file = File(out_path)
    out_file.write(rendered)
    return out_file


__all__ = ["copy_dir", "copy_file", "copy_files", "debug_task", "render_template"]
