import pickle
import sys
import uuid
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from redun.utils import (
    MultiMap,
    PreviewUnpicklable,
    add_import_path,
    clear_import_paths,
    format_table,
    format_timedelta,
    format_timestamp,
    get_func_source,
    get_import_paths,
    iter_nested_value,
    json_dumps,
    map_nested_value,
    merge_dicts,
    new_uuid4,
    pickle_dump,
    pickle_dumps,
    pickle_loads,
    pickle_preview,
    str2bool,
    trim_string,
    with_pickle_preview,
)

Point = namedtuple("Point", ["x", "y"])


@dataclass
class Pair:
    left: object
    right: object
    tag: str = field(default="t", init=False)


@dataclass(frozen=True)
class Frozen:
    value: object


def test_pickle_dumps_uses_protocol_3_bytes_of_plain_pickle():
    value = {"a": [1, 2.5, None], "b": ("x", b"y")}
    assert pickle_dumps(value) == pickle.dumps(value, protocol=3)
    assert pickle_dumps(value)[:2] == b"\x80\x03"
    assert pickle_loads(pickle_dumps(value)) == value


def test_pickle_dumps_falls_back_to_cloudpickle_for_lambdas_closures_local_classes():
    offset = 10

    def closure(x):
        return x + offset

    class Local:
        def __init__(self, v):
            self.v = v

    assert pickle_loads(pickle_dumps(lambda x: x * 2))(4) == 8
    assert pickle_loads(pickle_dumps(closure))(1) == 11
    assert pickle_loads(pickle_dumps([Local(3)]))[0].v == 3


def test_pickle_dumps_reports_values_nothing_can_pickle():
    import threading

    with pytest.raises(pickle.PicklingError, match="Cannot serialize"):
        pickle_dumps(threading.Lock())


def test_pickle_dump_writes_same_bytes(tmp_path):
    path = tmp_path / "x.pkl"
    with open(path, "wb") as out:
        pickle_dump([1, 2], out)
    assert path.read_bytes() == pickle.dumps([1, 2], protocol=3)


def test_pickle_preview_loads_unknown_classes():
    data = pickle_dumps(Pair(1, 2)).replace(b"test_utils", b"gone_mod__")
    with pytest.raises(ModuleNotFoundError):
        pickle_loads(data)
    with with_pickle_preview():
        preview = pickle_loads(data)
    assert preview.left == 1 and preview.right == 2
    assert repr(preview).startswith("Pair(")
    assert isinstance(pickle_preview(b"not a pickle"), PreviewUnpicklable)
    with pytest.raises(pickle.UnpicklingError):
        pickle_preview(b"not a pickle", raise_error=True)


def test_iter_nested_value_visits_every_container_kind():
    value = [1, (2, {"k": 3}), {4}, Point(5, 6), Pair(7, [8])]
    assert list(iter_nested_value(value)) == [1, 2, "k", 3, 4, 5, 6, 7, 8, "t"]
    assert list(iter_nested_value("leaf")) == ["leaf"]


def test_iter_nested_value_handles_deep_nesting():
    value: list = [1]
    for _ in range(5000):
        value = [value]
    assert list(iter_nested_value(value)) == [1]


def test_map_nested_value_rebuilds_containers():
    value = [1, (2, {"k": 3}), {4}, Point(5, 6), Pair(7, [8]), Frozen(9)]
    mapped = map_nested_value(lambda x: x * 10 if isinstance(x, int) else x, value)
    assert mapped[:4] == [10, (20, {"k": 30}), {40}, Point(50, 60)]
    assert isinstance(mapped[3], Point)
    assert (mapped[4].left, mapped[4].right, mapped[4].tag) == (70, [80], "t")
    assert mapped[5] == Frozen(90)


def test_merge_dicts_is_deep_and_last_wins():
    assert merge_dicts([{"a": 1, "b": 2}, {"b": 3, "c": 4}]) == {"a": 1, "b": 3, "c": 4}
    assert merge_dicts([{"a": {"a1": 1}}, {"a": {"a2": 2}}]) == {"a": {"a1": 1, "a2": 2}}
    assert merge_dicts([{"a": {"x": 1}}, {"a": 5}]) == {"a": 5}


def test_str2bool():
    assert str2bool("TRUE") is True
    assert str2bool("false") is False
    with pytest.raises(ValueError, match="Cannot parse bool: 'yes'"):
        str2bool("yes")


def test_json_dumps_sorted_compact():
    assert json_dumps({"b": [1, 2], "a": {"y": 1, "x": None}}) == '{"a":{"x":null,"y":1},"b":[1,2]}'


def test_formatting_helpers():
    stamp = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert format_timestamp(stamp, timezone.utc) == "2024-01-02 03:04:05"
    assert format_timedelta(timedelta(hours=1, minutes=2, seconds=3, microseconds=456000)) == (
        "1:02:03.45"
    )
    assert trim_string("abcdefghij", 6) == "abc..."
    assert trim_string("abc", 6) == "abc"
    assert list(format_table([["a", "bb"], ["ccc", "d"]], "lr")) == ["a   bb", "", "ccc  d"]


def decorated(func):
    return func


@decorated
def sample_function(x):
    return x + 1


def test_get_func_source_strips_decorators():
    assert get_func_source(sample_function) == "def sample_function(x):\n    return x + 1\n"


def test_import_paths(tmp_path):
    try:
        add_import_path(str(tmp_path))
        assert get_import_paths() == [str(tmp_path)]
        assert sys.path[0] == str(tmp_path)
    finally:
        sys.path.remove(str(tmp_path))
        clear_import_paths()
    assert get_import_paths() == []


def test_multimap():
    mm = MultiMap([("a", 1), ("b", 2), ("a", 3)])
    assert len(mm) == 3
    assert mm["a"] == [1, 3]
    assert "b" in mm and "z" not in mm
    assert mm.has_item("a", 3) and not mm.has_item("a", 2)
    assert mm.get("z") == [] and mm.get("z", None) is None
    assert list(mm.keys()) == ["a", "b"]
    assert list(mm.values()) == [1, 3, 2]
    mm.add("c", 4)
    assert mm == {"a": [3, 1], "b": [2], "c": [4]}
    assert mm == MultiMap([("c", 4), ("a", 1), ("a", 3), ("b", 2)])
    assert mm.as_dict()["c"] == [4]


class TupleRecord(tuple):
    """A tuple subclass without namedtuple fields, carrying an attribute."""


def test_tuple_subclasses_are_containers_for_every_walker():
    """iter/map and the scheduler's scan agree: a Task result inside one is evaluated."""
    import time

    from redun import Scheduler, task
    from redun.config import Config
    from redun.scheduler.nested import has_expression

    pair = TupleRecord((1, [2, 3]))
    pair.label = "kept"
    assert list(iter_nested_value(pair)) == [1, 2, 3]
    doubled = map_nested_value(lambda x: x * 2, pair)
    assert type(doubled) is TupleRecord and doubled == (2, [4, 6]) and doubled.label == "kept"
    stamp = time.gmtime(0)
    assert map_nested_value(lambda x: x, stamp) == stamp
    assert type(map_nested_value(lambda x: x, stamp)) is time.struct_time

    @task(name="one", namespace="tuple_subclass_test")
    def one() -> int:
        return 1

    @task(name="make_pair", namespace="tuple_subclass_test")
    def make_pair() -> TupleRecord:
        return TupleRecord((one(), 2))

    assert has_expression(TupleRecord((one(), 2)))
    result = Scheduler(config=Config({"backend": {"db_uri": "sqlite:///:memory:"}})).run(
        make_pair()
    )
    assert type(result) is TupleRecord and result == (1, 2)


def test_new_uuid4_makes_distinct_rfc4122_version_4_ids():
    ids = [new_uuid4() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)
