"""Build real (unpacked) distributions with `redun` entry points on sys.path.

importlib-metadata discovers them exactly as it discovers pip-installed
packages, so the plugin manager is exercised without mocks.
"""

from __future__ import annotations

from pathlib import Path


def make_distribution(
    site: Path,
    dist_name: str,
    version: str,
    entry_points: dict[str, str],
    modules: dict[str, str],
) -> None:
    """Write `modules` (name -> source) and a dist-info declaring `entry_points`."""
    site.mkdir(parents=True, exist_ok=True)
    for module_name, source in modules.items():
        path = site / (module_name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    normalized = dist_name.replace("-", "_")
    info = site / f"{normalized}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n"
    )
    lines = ["[redun]"] + [f"{name} = {target}" for name, target in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


def forget_modules(site: Path) -> None:
    """Drop modules imported from `site`, so the next test's same-named modules load fresh."""
    import sys

    prefix = str(site)
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(prefix):
            del sys.modules[name]
