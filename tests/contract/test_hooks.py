"""Every hookspec is documented, carries an example, and has a test of its own."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from redun.plugins import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(
    name
    for name, func in vars(hookspecs).items()
    if name.startswith("redun_") and inspect.isfunction(func)
)


def test_there_are_hooks() -> None:
    assert len(HOOKS) >= 13


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_docstring_with_example(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert "Example::" in doc, hook
    assert "@hookimpl" in doc and f"def {hook}(" in doc, hook


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_in_plugins_md(hook: str) -> None:
    text = (ROOT / "docs" / "plugins.md").read_text()
    assert f"`{hook}(" in text, f"{hook} is missing from docs/plugins.md"


def _test_names() -> set[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.update(re.findall(r"^def (test_hook_\w+)\(", path.read_text(), re.MULTILINE))
    return names


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_dedicated_test(hook: str) -> None:
    names = _test_names()
    assert any(name.startswith(f"test_hook_{hook}") for name in names), (
        f"no test named test_hook_{hook}* under tests/"
    )
