"""The core's layers hold: no module imports a module of a higher layer.

Every module of the `redun` package belongs to exactly one layer (the longest
matching prefix below), and every import it makes, at the top or inside a
function, must go to its own layer or a lower one. Imports under
``if TYPE_CHECKING:`` are for annotations only and do not count. docs/layers.md
describes the same map; a test checks that it names every prefix.

Within a layer, modules form no import cycle either, except the values layer's
`redun.file` and `redun.value`: a File is a Value (file.py subclasses it) and
the type registry must recognise Files (value.py imports file.py inside the
functions that need it).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "core" / "src"

# Lowest first. A module may import its own layer and the layers before it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("redun._version", "redun.errors", "redun.utils", "redun.logging")),
    ("kernel", ("redun.plugins", "redun.builtins", "redun.compat")),
    (
        "values",
        (
            "redun.value",
            "redun.file",
            "redun.filesystems",
            "redun.hashing",
            "redun.bcoding",
            "redun.tags",
            "redun.cache",
            "redun.tracebacks",
        ),
    ),
    ("configuration", ("redun.config", "redun.scheduler_config")),
    (
        "model",
        (
            "redun.task",
            "redun.expression",
            "redun.promise",
            "redun.handle",
            "redun.context",
            "redun.namespace",
            "redun.runtime",
            "redun.scripting",
            "redun.functools",
            "redun.tools",
        ),
    ),
    ("executors", ("redun.executors", "redun.job_array", "redun.glue")),
    ("backends", ("redun.backends",)),
    ("scheduler", ("redun.scheduler",)),
    # The public API and the CLI. redun.executors.launch is redun's import path for
    # `redun launch`, which builds a Scheduler, so it sits here and not with executors;
    # redun.federated_tasks builds on subrun and launch.
    (
        "api",
        (
            "redun",
            "redun.cli",
            "redun.testing",
            "redun.pytest",
            "redun.executors.launch",
            "redun.federated_tasks",
        ),
    ),
]
ALLOWED_CYCLES = [{"redun.file", "redun.value"}]
STORE_PACKAGE = "redun.backends.db"


def _module_names() -> dict[str, Path]:
    modules = {}
    for path in (SOURCES / "redun").rglob("*.py"):
        if "alembic" in path.parts:
            continue  # migration scripts are run by alembic, not imported by redun
        parts = list(path.relative_to(SOURCES).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _module_names()


def layer_of(module: str) -> int:
    best = (-1, -1)
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or (prefix != "redun" and module.startswith(prefix + "."))
            if matches and len(prefix) > best[0]:
                best = (len(prefix), rank)
    if best[1] < 0:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/layers.md")
    return best[1]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@functools.cache
def imports_of(module: str) -> list[tuple[int, str]]:
    """(line, imported name) of every import `module` executes, in-function ones included."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit_one(other)
                continue
            visit_one(child)

    def visit_one(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                # `from pkg import submodule` imports the submodule.
                name = f"{base}.{alias.name}"
                found.append((node.lineno, name if name in MODULES else base))
        visit(node)

    visit(tree)
    return found


def _resolved(name: str) -> str | None:
    """The redun module an import name loads (its longest existing prefix)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for module in MODULES:
        targets = {_resolved(name) for _, name in imports_of(module) if name.startswith("redun")}
        graph[module] = {t for t in targets if t and t != module}
    return graph


def test_every_module_has_a_layer() -> None:
    assert len(MODULES) > 100
    for module in MODULES:
        layer_of(module)


def test_each_prefix_is_in_one_layer() -> None:
    prefixes = [prefix for _, group in LAYERS for prefix in group]
    assert sorted(p for p in set(prefixes) if prefixes.count(p) > 1) == []


def test_no_import_goes_up_a_layer() -> None:
    upward = []
    for module in sorted(MODULES):
        rank = layer_of(module)
        for line, name in imports_of(module):
            target = _resolved(name) if name.startswith("redun") else None
            if target is not None and layer_of(target) > rank:
                upward.append(
                    f"{MODULES[module].relative_to(ROOT)}:{line}: {module} "
                    f"({LAYERS[rank][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
                )
    assert not upward, "imports that go up a layer:\n" + "\n".join(upward)


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_no_import_cycles_but_file_and_value() -> None:
    cycles = _cycles(import_graph())
    assert [c for c in cycles if c not in ALLOWED_CYCLES] == []


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [{"a", "b", "c"}]


def test_only_the_store_package_speaks_sql() -> None:
    """SQLAlchemy, alembic and the ORM models stay inside redun.backends.db."""
    speaking = [
        f"{MODULES[module].relative_to(ROOT)}:{line}: {name}"
        for module in sorted(MODULES)
        if not module.startswith(STORE_PACKAGE)
        for line, name in imports_of(module)
        if name.split(".")[0] in ("sqlalchemy", "alembic")
    ]
    assert not speaking, "SQL outside the state-store package:\n" + "\n".join(speaking)


# What a plugin may import of the state store: the read model to browse with, and the
# contract and reason type to ship a store of its own (the redun_backends hook).
PLUGIN_STORE_API = {
    "redun.backends.db.reader",
    "redun.backends.db.rows",
    "redun.backends.db.status",
    "redun.backends.base",
    "redun.backends.reasons",
}


def _plugin_sources() -> list[Path]:
    return sorted((ROOT / "plugins").glob("redun-*/src/**/*.py"))


def _all_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, in-function and TYPE_CHECKING ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def _backend_sessions(path: Path) -> list[tuple[int, str]]:
    """(line, source) of every ``<backend>.session`` (the ORM session behind a store)."""
    return [
        (node.lineno, ast.unparse(node))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Attribute)
        and node.attr == "session"
        and "backend" in ast.unparse(node.value).lower()
    ]


def _reaches_past_the_read_model(name: str) -> bool:
    if name.split(".")[0] in ("sqlalchemy", "alembic"):
        return True
    if not name.startswith("redun.backends"):
        return False
    # `from redun.backends.db.reader import X` reads as redun.backends.db.reader.X.
    return not any(name == api or name.startswith(api + ".") for api in PLUGIN_STORE_API)


def test_plugins_read_the_call_graph_only_through_the_read_model() -> None:
    """No plugin speaks SQL or holds an ORM session: it reads what `redun log` reads."""
    files = _plugin_sources()
    assert len(files) > 20, f"no plugin sources found under {ROOT / 'plugins'}"
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in files
        for line, name in _all_imports(path)
        if _reaches_past_the_read_model(name)
    ] + [
        f"{path.relative_to(ROOT)}:{line}: {source}"
        for path in files
        for line, source in _backend_sessions(path)
    ]
    assert not wrong, "plugins must read through redun.backends.db.reader:\n" + "\n".join(wrong)


def test_the_plugin_check_sees_what_goes_past_the_read_model() -> None:
    assert _reaches_past_the_read_model("redun.backends.db.models.Job")
    assert _reaches_past_the_read_model("redun.backends.db.query.infer_specialty_id")
    assert _reaches_past_the_read_model("redun.backends.db.Execution")
    assert _reaches_past_the_read_model("sqlalchemy.select")
    assert not _reaches_past_the_read_model("redun.backends.db.reader.RecordFilter")
    assert not _reaches_past_the_read_model("redun.backends.base.RedunBackend")
    assert not _reaches_past_the_read_model("redun.executors.remote.RemoteState")


def test_the_plugin_check_sees_backend_sessions(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def f(state, k8s):\n    k8s.session\n    return state.get_backend().session\n"
    )
    assert _backend_sessions(probe) == [(3, "state.get_backend().session")]


@pytest.mark.parametrize("layer, prefixes", LAYERS, ids=[name for name, _ in LAYERS])
def test_docs_layer_map_names_every_prefix(layer: str, prefixes: tuple[str, ...]) -> None:
    text = (ROOT / "docs" / "layers.md").read_text()
    assert f"**{layer}**" in text
    missing = [prefix for prefix in prefixes if f"`{prefix}`" not in text]
    assert not missing, f"docs/layers.md does not place {missing} in layer {layer}"
