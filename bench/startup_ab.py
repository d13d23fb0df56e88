"""A/B of `redun run`'s fixed startup: two source trees, alternating, best of N.

Each run is `redun run fanout.py main --n 1` (cached after the first round) in
one scratch directory with an existing `.redun`, so almost all of its time is
interpreter start, imports, config, plugins, opening the database and building
the scheduler. Stdlib only; it never imports either engine.

    python bench/startup_ab.py --tree base=/tmp/base/core/src --tree new=core/src
    python bench/startup_ab.py --tree new=core/src --redun .venv/bin/redun --autoload --git

Without --autoload the runs set REDUN_DISABLE_PLUGIN_AUTOLOAD=1 (builtins only);
--git makes the scratch directory a git checkout, so the git_commit and
git_origin_url tags are read as in a user's repository.
Both trees should have their bytecode compiled (`python -m compileall`), as an
installed package has, or the figures include compiling sources.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKFLOW = Path(__file__).parent / "workflows" / "fanout.py"


def one_run(redun: str, tree: str | None, workdir: Path, autoload: bool) -> tuple[float, float]:
    """Wall and CPU (user+sys) seconds of one `redun run`."""
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = tree
    if not autoload:
        env["REDUN_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [redun, "run", "fanout.py", "main", "--n", "1"],
        cwd=workdir,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def init_git(workdir: Path) -> None:
    """A checkout with a commit and an origin, as a user's workflow repository has."""
    git = ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench"]
    for args in (
        ["init", "-q"],
        ["remote", "add", "origin", "https://example.com/workflows.git"],
        ["add", "fanout.py"],
        ["commit", "-qm", "workflow"],
    ):
        subprocess.run(git + args, cwd=workdir, check=True)


def _loads(load: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=SRC_DIR")
    parser.add_argument("--redun", default=shutil.which("redun") or "redun")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--autoload", action="store_true", help="let plugins autoload")
    parser.add_argument("--git", action="store_true", help="run in a git checkout (git tags)")
    args = parser.parse_args()
    redun = shutil.which(args.redun) or args.redun
    args.redun = str(Path(redun).absolute())
    trees = [
        (label, str(Path(src).absolute())) for label, src in (t.split("=", 1) for t in args.tree)
    ] or [("installed", "")]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        shutil.copy(WORKFLOW, workdir / "fanout.py")
        if args.git:
            init_git(workdir)
        for _, tree in trees:  # creates .redun, fills the cache, warms the page cache
            one_run(args.redun, tree, workdir, args.autoload)
        samples: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in trees}
        for round_ in range(args.rounds):
            order = trees if round_ % 2 == 0 else trees[::-1]
            for label, tree in order:
                samples[label].append(one_run(args.redun, tree, workdir, args.autoload))
    load = os.getloadavg()
    print(f"load average (1/5/15 min) before: {_loads(load_before)}; after: {_loads(load)}")
    for label, runs in samples.items():
        walls = [w for w, _ in runs]
        cpus = [c for _, c in runs]
        print(
            f"{label:>10}: wall best {min(walls) * 1000:.0f} ms, median "
            f"{statistics.median(walls) * 1000:.0f} ms; cpu best {min(cpus) * 1000:.0f} ms, "
            f"median {statistics.median(cpus) * 1000:.0f} ms ({len(runs)} runs)"
        )


if __name__ == "__main__":
    sys.exit(main())
