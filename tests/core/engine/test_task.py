import json
import pickle
import sys
import types
from pathlib import Path

import pytest
from redun import PartialTask, Task, get_task_registry, namespace, task
from redun.cache import CacheCheckValid, CacheScope
from redun.expression import SchedulerExpression
from redun.scheduler import scheduler_task
from redun.task import wraps_task

from tests.core.engine import golden_workflow as gw

GOLDEN = json.loads((Path(__file__).parent / "data" / "golden.json").read_text())

redun_namespace = "task_test"


def test_task_hashes_match_redun():
    registry = get_task_registry()
    for fullname, task_hash in GOLDEN["tasks"].items():
        assert registry.get(fullname).hash == task_hash
    assert gw.add.options(cache=False, memory=4).hash == GOLDEN["options_task_hash"]
    assert gw.add.partial(1).hash == GOLDEN["partial_hash"]


def test_bare_and_called_decorator_register_tasks():
    @task
    def bare(x):
        return x

    @task(name="renamed", namespace="other_ns", version="3", memory=2)
    def called(x):
        return x

    assert isinstance(bare, Task) and bare.fullname == "task_test.bare"
    assert called.fullname == "other_ns.renamed"
    assert get_task_registry().get("other_ns.renamed") is called
    assert called.get_task_option("memory") == 2
    assert called.version == "3"


def test_namespace_precedence():
    module = types.ModuleType("ns_module")
    module.redun_namespace = "from_module"
    sys.modules["ns_module"] = module
    try:
        exec("def f(x):\n    return x\n", module.__dict__)
        module.f.__module__ = "ns_module"
        assert task(module.f, source="def f(x): pass").namespace == "from_module"
        assert task(module.f, namespace="", source="def f(x): pass").namespace == ""
        del module.redun_namespace
        namespace("from_call")
        assert task(module.f, source="def f(x): pass").namespace == "from_call"
    finally:
        namespace()
        del sys.modules["ns_module"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "bad-name"}, "Task name must use only"),
        ({"namespace": ".bad"}, "Task namespace must use only"),
        ({"config_args": ["nope"]}, "Invalid config args: nope"),
    ],
)
def test_invalid_definitions_are_rejected(kwargs, message):
    def func(x):
        return x

    with pytest.raises(ValueError, match=message):
        task(func, **kwargs)


def test_nout_must_be_a_non_negative_int():
    def func(x):
        return x

    with pytest.raises(TypeError, match="nout must be an int"):
        task(func, nout="2")
    with pytest.raises(TypeError, match="nout must be non-negative"):
        task(func, nout=-1)


def test_async_tasks_must_choose_a_cache_policy():
    async def fetch(x):
        return x

    with pytest.raises(ValueError, match="must set its cache option explicitly"):
        task(fetch)
    with pytest.raises(ValueError, match="must set its cache option explicitly"):
        task(fetch, cache=True)
    assert task(fetch, cache=False).is_async()
    assert (
        task(fetch, cache=True, check_valid="shallow").get_task_option("check_valid")
        == CacheCheckValid.SHALLOW
    )


def test_legacy_cache_option_becomes_cache_scope():
    @task(cache=False)
    def uncached(x):
        return x

    assert uncached.get_task_option("cache_scope") == CacheScope.CSE
    assert not uncached.has_task_option("cache")
    assert uncached.options(cache=True).get_task_option("cache_scope") == CacheScope.BACKEND


def test_source_version_and_hash_includes_drive_the_hash():
    def make(source, **kwargs):
        def step(x):
            return x

        return task(step, name="hashed", source=source, **kwargs)

    base = make("def step(x): return x")
    assert make("def step(x): return x").hash == base.hash
    assert make("def step(x): return x + 1").hash != base.hash
    versioned = make("def step(x): return x", version="1")
    assert make("def step(x): return 2 * x", version="1").hash == versioned.hash
    assert make("def step(x): return x", hash_includes=[1]).hash != base.hash
    assert make("def step(x): return x", memory=10).hash == base.hash
    assert make("def step(x): return x", compat=["abc"]).hash == "abc"


def test_options_derive_a_new_task_without_touching_the_registered_one():
    derived = gw.add.options(memory=8)
    assert derived.get_task_option("memory") == 8
    assert gw.add.get_task_option("memory") is None
    assert derived.hash != gw.add.hash
    expr = derived(1, 2)
    assert expr.task_name == "golden.add" and expr._options == {"memory": 8}


def test_export_options_and_update_context():
    exported = gw.add.export_options(cache=False, memory=2)
    assert exported._export_options == {"cache", "cache_scope", "memory"}
    assert exported(1, 2)._export_options == {"cache", "cache_scope", "memory"}
    ctx = gw.add.update_context({"a": {"b": 1}}).update_context(a={"c": 2})
    assert ctx.get_task_option("_context_override") == {"a": {"b": 1, "c": 2}}

    @task(export_options={"memory": 3})
    def exporter(x):
        return x

    assert exporter.get_task_option("memory") == 3
    assert exporter._export_options == {"memory"}


def test_partial_accumulates_and_calls_the_original_task():
    partial = gw.add.partial(1)
    assert isinstance(partial, PartialTask) and partial.type_name == "redun.PartialTask"
    expr = partial(b=2)
    assert expr.task_name == "golden.add" and expr.args == (1,) and expr.kwargs == {"b": 2}
    assert partial.partial(b=5)().kwargs == {"b": 5}
    assert partial.options(memory=1).task.get_task_option("memory") == 1
    assert partial.is_valid()


def test_tasks_pickle_by_name_and_resolve_code_from_the_registry():
    copy = pickle.loads(pickle.dumps(gw.add.options(memory=3), protocol=3))
    assert copy.func is gw.add.func
    assert copy.get_task_option("memory") == 3
    assert copy.is_valid()

    partial = pickle.loads(pickle.dumps(gw.add.partial(4), protocol=3))
    assert partial.hash == gw.add.partial(4).hash

    state = gw.add.__getstate__()
    state["name"] = "not_registered"
    orphan = Task.__new__(Task)
    orphan.__setstate__(state)
    with pytest.raises(ValueError, match="Task golden.not_registered is undefined."):
        orphan.func(1, 2)
    assert not orphan.is_valid()


def test_nout_comes_from_option_or_return_annotation():
    @task
    def two() -> tuple[int, str]:
        return 1, "a"

    @task(nout=4)
    def four():
        return 1, 2, 3, 4

    assert two.nout == 2 and four.nout == 4 and gw.add.nout is None


def test_scheduler_task_builds_scheduler_expressions():
    @scheduler_task(namespace="task_test")
    def passthrough(scheduler, parent_job, sexpr, value):
        return scheduler.evaluate(value, parent_job=parent_job)

    expr = passthrough(1)
    assert isinstance(expr, SchedulerExpression)
    assert passthrough.version == "1"


def test_registry_counts_shared_hashes():
    registry = get_task_registry()

    def same(x):
        return x

    first = task(same, name="same_a", source="def same(x): return x", version="1")
    assert first.hash in registry.task_hashes
    registry.rename("task_test.same_a", "task_test", "same_b")
    assert registry.get("task_test.same_a") is None
    assert registry.get("task_test.same_b") is first
    assert registry.get(hash=first.hash).fullname == "task_test.same_b"


def test_wraps_task_hides_the_inner_task():
    def doubling(inner):
        def wrapper(x):
            return inner(x * 2)

        return wrapper

    doubling = wraps_task(wrapper_name="doubling")(doubling)

    @doubling
    @task
    def wrapped(x):
        return x

    registry = get_task_registry()
    assert wrapped.fullname == "task_test.wrapped"
    assert registry.get("task_test.doubling.wrapped") is not None
    assert wrapped.get_task_option("wrapped_task") == "task_test.doubling.wrapped"
    assert list(wrapped.signature.parameters) == ["x"]


def test_load_module_defaults_to_the_defining_module():
    assert gw.add.load_module == "tests.core.engine.golden_workflow"

    @task(load_module="some.other.module")
    def relocated(x):
        return x

    assert relocated.load_module == "some.other.module"
