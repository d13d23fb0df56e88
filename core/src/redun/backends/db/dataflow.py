"""Upstream dataflow: how a recorded value was derived, as pseudo-code.

redun's ``redun.backends.db.dataflow`` (behind ``redun log <value>`` and the
console's value screen). For ``main(x, y) = double(add(x, y))`` the upstream
dataflow of main's result reads::

    value <-- <4a1c02f3> double(x)
      x = <8f2e0c1a> 7

    x <-- <09bd63e2> add(a, b)
      a = <31d0a7c4> 3
      b = <c6e1f09d> 4

    a <-- argument of <77e0b9a1> main(x, y)
      <-- origin

    b <-- argument of <77e0b9a1> main(x, y)
      <-- origin

Each paragraph (a section) names one value: the call that computed it (with
its arguments, which get sections of their own), the calls that merely
passed it along (``argument of`` a parent call, or the result of a child
call), or ``origin`` when it came from the caller. A value built from
several results ``derives from`` them. A value reached along two paths gets
its own name, which both paths refer to.

Three steps, each public as in redun: `walk_dataflow` yields the edges of the
upstream graph (`DataflowEdge`, between the record kinds of `DataflowNode`),
`make_dataflow_dom` groups them into sections (`DataflowSectionDOM`), and
`display_dataflow` (text) or `serialize_dataflow` (JSON-ready dicts) renders
them. The walk reads through the records' relationships, so the records must
belong to an open session.
"""

from __future__ import annotations

import ast
import functools
import re
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple, Union

from sqlalchemy import select
from sqlalchemy.orm import object_session, selectinload

from redun.backends.db.browse import chunks
from redun.backends.db.models import Argument, CallEdge, CallNode, Task, Value
from redun.utils import trim_string

# Tasks that only wrap others' work (a script's command and its post-processing).
REDUN_INTERNAL_TASKS = frozenset({"redun.script", "redun.postprocess_script"})


class ArgumentValue(NamedTuple):
    """A value (or one of its subvalues) as it was passed in an argument."""

    argument: Argument
    value: Value


class CallNodeValue(NamedTuple):
    """A value (or one of its subvalues) as it was returned by a call."""

    call_node: CallNode
    value: Value


DataflowNode = Union[ArgumentValue, CallNodeValue, CallNode, Value]


class DataflowEdge(NamedTuple):
    """`src` came from `dest`; a `dest` of None is an origin (given by the caller)."""

    src: DataflowNode
    dest: DataflowNode | None


class DataflowAssign(NamedTuple):
    """A section's first line: ``var_name <-- prefix node_display``."""

    var_name: str
    prefix: str
    node_display: str
    node: DataflowNode | None


class DataflowRouting(NamedTuple):
    """A following ``<-- prefix node_display`` line of a section."""

    prefix: str
    node_display: str
    node: DataflowNode | None


class DataflowArg(NamedTuple):
    """An argument line of a section: ``var_name = <hash> value``."""

    var_name: str
    value: Value


class DataflowSectionDOM(NamedTuple):
    """One paragraph of a dataflow."""

    assign: DataflowAssign
    routing: list[DataflowRouting]
    args: list[DataflowArg]


DataflowDOM = Iterable[DataflowSectionDOM]


# -- walking the call graph upstream -------------------------------------------------------


def _is_internal(call_node: CallNode) -> bool:
    return call_node.task.fullname in REDUN_INTERNAL_TASKS


def _contains(container: Value, value: Value) -> bool:
    """Whether `value` is `container` or one of its recorded subvalues."""
    return container.value_hash == value.value_hash or any(
        child.value_hash == value.value_hash for child in container.children
    )


def _latest_start(call_node: CallNode) -> Any:
    return max((job.start_time for job in call_node.jobs), default=call_node.timestamp)


def _ancestors(call_node: CallNode) -> set[CallNode]:
    seen: set[CallNode] = set()
    stack = list(call_node.parents)
    while stack:
        parent = stack.pop()
        if parent not in seen:
            seen.add(parent)
            stack.extend(parent.parents)
    return seen


def _from_value(value: Value) -> Iterator[DataflowEdge]:
    """The call that computed `value` (or a value holding it), not those that passed it up."""
    producers = {
        call_node
        for holder in (value, *value.parents)
        for call_node in holder.results
        if not _is_internal(call_node)
    }
    routing = {ancestor for call_node in producers for ancestor in _ancestors(call_node)}
    computing = producers - routing or producers
    latest = max(computing, key=lambda cn: (_latest_start(cn), cn.call_hash), default=None)
    yield DataflowEdge(value, latest)


def call_node_arguments(call_node: CallNode) -> list[Argument]:
    """A call's arguments: positional ones in order, then keywords by name."""
    positional = sorted(
        (arg for arg in call_node.arguments if arg.arg_position is not None),
        key=lambda arg: arg.arg_position or 0,
    )
    keywords = sorted(
        (arg for arg in call_node.arguments if arg.arg_position is None),
        key=lambda arg: arg.arg_key or "",
    )
    return positional + keywords


def _from_call_node(call_node: CallNode) -> Iterator[DataflowEdge]:
    arguments = call_node_arguments(call_node)
    if not arguments:
        yield DataflowEdge(call_node, None)
    for argument in arguments:
        yield DataflowEdge(call_node, ArgumentValue(argument, argument.value))


def _from_call_node_value(node: CallNodeValue) -> Iterator[DataflowEdge]:
    """Into the one child call that returned the value, else the call itself computed it."""
    call_node, value = node
    children = list(
        dict.fromkeys(
            child
            for child in call_node.children
            if not _is_internal(child) and _contains(child.value, value)
        )
    )
    if len(children) == 1:
        yield DataflowEdge(node, CallNodeValue(children[0], value))
    else:
        yield DataflowEdge(node, call_node)


def _call_order(call_node: CallNode, siblings_of: CallNode) -> tuple[int, str]:
    """Where `call_node` was called among the children of the argument's caller."""
    parents = set(siblings_of.parents)
    orders = [edge.call_order for edge in call_node.parent_edges if edge.parent_node in parents]
    return (min(orders, default=0), call_node.call_hash)


def _prefetch(call_nodes: list[CallNode]) -> None:
    """Load what the walk reads of many sibling calls in a few queries, not a few per call."""
    if len(call_nodes) < 2:
        return
    session = object_session(call_nodes[0])
    if session is None:
        return
    for hashes in chunks(sorted({cn.call_hash for cn in call_nodes})):
        _load_for_walk(session, hashes)


def _load_for_walk(session: Any, call_hashes: list[str]) -> None:
    session.scalars(
        select(CallNode)
        .where(CallNode.call_hash.in_(call_hashes))
        .options(
            selectinload(CallNode.value).selectinload(Value.children),
            selectinload(CallNode.parent_edges).selectinload(CallEdge.parent_node),
            selectinload(CallNode.child_edges),
            selectinload(CallNode.jobs),
            selectinload(CallNode.task),
            selectinload(CallNode.arguments).selectinload(Argument.value),
            selectinload(CallNode.arguments).selectinload(Argument.upstream),
        )
    ).all()


def _from_argument_value(node: ArgumentValue) -> Iterator[DataflowEdge]:
    """The results that flowed into the argument, or the caller's own argument, else origin."""
    argument, value = node
    found = False
    _prefetch(argument.upstream)
    upstream = sorted(
        dict.fromkeys(argument.upstream), key=lambda cn: _call_order(cn, argument.call_node)
    )
    for call_node in upstream:
        found = True
        # The result itself or a part of it; else a result this argument was built from.
        source = value if _contains(call_node.value, value) else call_node.value
        yield DataflowEdge(node, CallNodeValue(call_node, source))
    parents = sorted(argument.call_node.parents, key=lambda cn: cn.timestamp, reverse=True)
    for parent in parents[:1]:
        for parent_argument in call_node_arguments(parent):
            if _contains(parent_argument.value, value):
                found = True
                yield DataflowEdge(node, ArgumentValue(parent_argument, value))
    if not found:
        yield DataflowEdge(node, None)


def walk_dataflow_node(backend: Any, node: DataflowNode) -> Iterator[DataflowEdge]:
    """The edges from one node to where its value came from (`backend` as in redun)."""
    if isinstance(node, ArgumentValue):
        return _from_argument_value(node)
    if isinstance(node, CallNodeValue):
        return _from_call_node_value(node)
    if isinstance(node, CallNode):
        return _from_call_node(node)
    return _from_value(node)


def walk_dataflow(backend: Any, init_node: DataflowNode) -> Iterator[DataflowEdge]:
    """Every edge of the upstream dataflow of `init_node` (a Value, usually), depth first.

    `backend` is accepted for redun's signature; the records' session is read.
    """
    stack: list[DataflowNode] = [init_node]
    seen = {init_node}
    while stack:
        edges = list(walk_dataflow_node(backend, stack.pop()))
        yield from edges
        for edge in reversed(edges):
            if edge.dest is not None and edge.dest not in seen:
                seen.add(edge.dest)
                stack.append(edge.dest)


# -- grouping edges into sections ----------------------------------------------------------


def get_task_args(task: Task) -> list[str]:
    """A task's parameter names, read from its recorded source (SyntaxError if unreadable)."""
    params = _source_params(task.source or "")
    if params is None:
        raise SyntaxError(f"the source of {task.fullname} is not a function")
    return list(params)


@functools.lru_cache(maxsize=512)
def _source_params(source: str) -> tuple[str, ...] | None:
    """Parameter names of the function `source` defines (None: not a function)."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return None
    function = tree.body[0] if tree.body else None
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    params = function.args
    return tuple(arg.arg for arg in (*params.posonlyargs, *params.args, *params.kwonlyargs))


def get_default_arg_name(position: int) -> str:
    return f"arg{position}"


def _task_args(task: Task, count: int) -> list[str]:
    try:
        names = get_task_args(task)
    except SyntaxError:
        names = []
    return names + [get_default_arg_name(i) for i in range(len(names), count)]


def _is_data_edge(edge: DataflowEdge) -> bool:
    """An argument built from a result, rather than being that result (or one of its parts)."""
    return (
        isinstance(edge.src, ArgumentValue)
        and isinstance(edge.dest, CallNodeValue)
        and edge.src.value.value_hash != edge.dest.value.value_hash
    )


class _Names:
    """Unique variable names for nodes (``ref_genome``, then ``ref_genome_2``, ...)."""

    def __init__(self) -> None:
        self.of: dict[DataflowNode, str] = {}
        self.taken: set[str] = set()
        self.next_suffix: dict[str, int] = {}

    def new(self, node: DataflowNode, base: str) -> str:
        if node in self.of:
            return self.of[node]
        base = re.sub(r"_\d+$", "", base) or "value"
        name, suffix = base, self.next_suffix.get(base, 2)
        while name in self.taken:
            name, suffix = f"{base}_{suffix}", suffix + 1
        self.next_suffix[base] = suffix
        self.of[node] = name
        self.taken.add(name)
        return name

    @staticmethod
    def base_of_argument(argument: Argument) -> str:
        """The parameter an argument was passed as (``argN`` when the source is unreadable)."""
        if argument.arg_key:
            return argument.arg_key
        position = argument.arg_position or 0
        return _task_args(argument.call_node.task, position + 1)[position]

    def for_argument(self, node: ArgumentValue) -> str:
        return self.new(node, self.base_of_argument(node.argument))


class _Graph:
    def __init__(self, edges: Iterable[DataflowEdge]) -> None:
        self.out: dict[DataflowNode, list[DataflowNode | None]] = defaultdict(list)
        sources: dict[DataflowNode, set[DataflowNode]] = defaultdict(set)
        self.root: DataflowNode | None = None
        for edge in edges:
            if self.root is None:
                self.root = edge.src
            if edge.dest not in self.out[edge.src]:
                self.out[edge.src].append(edge.dest)
            if edge.dest is not None:
                sources[edge.dest].add(edge.src)
        # Reached along several paths: such a node is named once and referred to.
        self.merges = {
            node for node, srcs in sources.items() if len(srcs) > 1 and node != self.root
        }


def _shown_call(node: DataflowNode | None) -> CallNode | None:
    if isinstance(node, CallNode):
        return node
    if isinstance(node, CallNodeValue):
        return node.call_node
    if isinstance(node, ArgumentValue):
        return node.argument.call_node
    return None


def _call_display(call_node: CallNode, renames: dict[str, str]) -> str:
    names = _task_args(call_node.task, len(call_node.arguments))
    return f"{call_node.task.name}({', '.join(renames.get(name, name) for name in names)})"


def _clause(node: DataflowNode | None, renames: dict[str, str]) -> tuple[str, str]:
    """(prefix, display) of a line naming where a value came from."""
    if node is None:
        return "", "origin"
    if isinstance(node, Value):
        return "", display_value(node)
    call_node = _shown_call(node)
    assert call_node is not None
    prefix = "argument of" if isinstance(node, ArgumentValue) else ""
    return prefix, _call_display(call_node, renames)


class _Reference(NamedTuple):
    """A line that names another section's variable instead of repeating its paragraph."""

    name: str
    node: DataflowNode


def make_dataflow_dom(
    dataflow_edges: Iterable[DataflowEdge], new_varname: str = "value"
) -> Iterator[DataflowSectionDOM]:
    """The sections of a dataflow (from `walk_dataflow`), the start named `new_varname`."""
    graph = _Graph(dataflow_edges)
    if graph.root is None:
        return
    names = _Names()
    # Sections to write: (node, its name, whether the node is shown as the first line).
    pending: list[tuple[DataflowNode, str, bool]] = [
        (graph.root, names.new(graph.root, new_varname), False)
    ]
    done: set[DataflowNode] = set()
    while pending:
        node, var_name, show_start = pending.pop(0)
        if node in done:
            continue
        done.add(node)
        dests = graph.out[node]
        if (
            not show_start
            and dests
            and all(_is_data_edge(DataflowEdge(node, dest)) for dest in dests)
        ):
            section, more = _data_section(node, var_name, dests, names)
        else:
            section, more = _call_section(graph, node, var_name, show_start, names)
        yield section
        pending[:0] = more


def _data_section(
    node: DataflowNode, var_name: str, dests: list[DataflowNode | None], names: _Names
) -> tuple[DataflowSectionDOM, list[tuple[DataflowNode, str, bool]]]:
    """``x <-- derives from`` and the results it was built from."""
    args, more = [], []
    for dest in dests:
        assert isinstance(dest, CallNodeValue)
        name = names.new(dest, f"{dest.call_node.task.name}_result")
        args.append(DataflowArg(name, dest.value))
        more.append((dest, name, False))
    assign = DataflowAssign(var_name, "", "derives from", None)
    return DataflowSectionDOM(assign, [], args), more


def _call_section(
    graph: _Graph, start: DataflowNode, var_name: str, show_start: bool, names: _Names
) -> tuple[DataflowSectionDOM, list[tuple[DataflowNode, str, bool]]]:
    """Follow `start` upstream to the call that computed it, an origin or a named value."""
    lines: list[DataflowNode | _Reference | None] = [start] if show_start else []
    more: list[tuple[DataflowNode, str, bool]] = []
    current = start
    computing: CallNode | None = None
    while True:
        if isinstance(current, CallNode):
            computing = current
            break
        dests = graph.out[current]
        if lines and dests and all(_is_data_edge(DataflowEdge(current, d)) for d in dests):
            # Built from several results: its own paragraph says so.
            name = names.new(current, var_name)
            lines.append(_Reference(name, current))
            more.append((current, name, False))
            break
        dest = dests[0] if dests else None
        if dest is None:
            lines.append(None)
            break
        if dest in graph.merges:
            name = names.new(dest, var_name)
            lines.append(_Reference(name, dest))
            more.append((dest, name, True))
            break
        if not (lines and isinstance(current, CallNodeValue) and isinstance(dest, CallNode)):
            lines.append(dest)
        current = dest

    args: list[DataflowArg] = []
    renames: dict[str, str] = {}
    if computing is not None:
        for dest in graph.out[computing]:
            if dest is None:
                lines.append(None)
                continue
            assert isinstance(dest, ArgumentValue)
            name = names.for_argument(dest)
            base = names.base_of_argument(dest.argument)
            if base != name:
                renames[base] = name
            args.append(DataflowArg(name, dest.value))
            more.append((dest, name, False))

    rendered: list[tuple[str, str, DataflowNode | None]] = []
    last_call_line = max(
        (i for i, line in enumerate(lines) if _shown_call(_node_of(line)) is computing),
        default=-1,
    )
    for i, line in enumerate(lines):
        if isinstance(line, _Reference):
            rendered.append(("", line.name, None))
        else:
            prefix, text = _clause(line, renames if i == last_call_line else {})
            rendered.append((prefix, text, line))
    first, rest = rendered[0], rendered[1:]
    assign = DataflowAssign(var_name, *first)
    routing = [DataflowRouting(*line) for line in rest]
    return DataflowSectionDOM(assign, routing, args), more


def _node_of(line: DataflowNode | _Reference | None) -> DataflowNode | None:
    return line.node if isinstance(line, _Reference) else line


# -- rendering ---------------------------------------------------------------------------------


def display_value(value: Value) -> str:
    return trim_string(repr(value.preview))


def get_node_hash(node: DataflowNode | None) -> str | None:
    """The id shown for a node: a value's hash, else its call's."""
    if isinstance(node, Value):
        return node.value_hash
    call_node = _shown_call(node)
    return call_node.call_hash if call_node is not None else None


def display_hash(node: DataflowNode | None) -> str:
    node_hash = get_node_hash(node)
    return f"<{node_hash[:8]}> " if node_hash else ""


def display_section(dom: DataflowSectionDOM) -> Iterator[str]:
    """The lines of one section."""
    assign = dom.assign
    prefix = f"{assign.prefix} " if assign.prefix else ""
    yield f"{assign.var_name} <-- {prefix}{display_hash(assign.node)}{assign.node_display}"
    indent = " " * (len(assign.var_name) + 1)
    for routing in dom.routing:
        prefix = f"{routing.prefix} " if routing.prefix else ""
        yield f"{indent}<-- {prefix}{display_hash(routing.node)}{routing.node_display}"
    width = max((len(arg.var_name) for arg in dom.args), default=0)
    for arg in dom.args:
        yield (
            f"  {arg.var_name.ljust(width)} = <{arg.value.value_hash[:8]}> "
            f"{display_value(arg.value)}"
        )


def display_dataflow(dom: DataflowDOM) -> Iterator[str]:
    """The lines of a dataflow, a blank line after each section."""
    for section in dom:
        yield from display_section(section)
        yield ""


def _latest_job(node: DataflowNode | None) -> tuple[str | None, str | None]:
    call_node = _shown_call(node)
    if call_node is None or not call_node.jobs:
        return None, None
    job = max(call_node.jobs, key=lambda job: job.start_time)
    return job.id, job.execution_id


def serialize_section(dom: DataflowSectionDOM) -> dict:
    """One section as JSON-ready data (with the latest job of each call shown)."""
    assign_job, assign_execution = _latest_job(dom.assign.node)
    return {
        "assign": {
            "var_name": dom.assign.var_name,
            "prefix": dom.assign.prefix,
            "display": dom.assign.node_display,
            "hash": get_node_hash(dom.assign.node),
            "job_id": assign_job,
            "execution_id": assign_execution,
        },
        "routing": [
            {
                "prefix": routing.prefix,
                "display": routing.node_display,
                "hash": get_node_hash(routing.node),
                "job_id": _latest_job(routing.node)[0],
                "execution_id": _latest_job(routing.node)[1],
            }
            for routing in dom.routing
        ],
        "args": [
            {
                "var_name": arg.var_name,
                "hash": arg.value.value_hash,
                "value_display": display_value(arg.value),
            }
            for arg in dom.args
        ],
    }


def serialize_dataflow(dom: DataflowDOM) -> Iterator[dict]:
    for section in dom:
        yield serialize_section(section)


def upstream_dataflow_lines(session: Any, value_hash: str, value_name: str = "value") -> list[str]:
    """The displayed upstream dataflow of a recorded value ([] if there is no such value)."""
    value = session.get(Value, value_hash)
    if value is None:
        return []
    dom = make_dataflow_dom(walk_dataflow(session.backend, value), new_varname=value_name)
    return list(display_dataflow(dom))
