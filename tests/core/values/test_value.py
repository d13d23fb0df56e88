"""The type registry: hashes bit-identical to redun 0.44.1 and redun's dispatch rules."""

import datetime
import enum
import pickle

import pytest
from redun.hashing import hash_eval, hash_tag_bytes
from redun.plugins import ValueTypeSpec, hookimpl
from redun.plugins.manager import RedunPluginManager, reset_plugin_manager
from redun.utils import pickle_dumps
from redun.value import (
    MIME_TYPE_PICKLE,
    Bool,
    DatetimeType,
    EnumType,
    Function,
    InvalidValueError,
    ProxyValue,
    Value,
    get_type_registry,
    make_unknown_function,
)
from redun.value import TypeError as RedunTypeError

GOLDEN_HASHES = {
    "int": "a8396c89067d71e5ec296e67c248cbf07f5669f0",
    "zero": "8106e76113e476483805f6a4185aab9daf283419",
    "neg": "a81af9771f9afb8094e93034fa1b3258f845a76f",
    "big": "e619e1658b41ee11f2b698fa4943b92172aee604",
    "str": "9186dc8464e0b6c116435b9007329f2a1c925705",
    "empty_str": "adbf050187c626a8a9dcc17abe2f2829da2d6620",
    "bytes": "8dc6cd1f14c189ba7012e9fa749d52825bbbbb64",
    "float": "84e28f90daab6b7d40eab86a673cc2a1c9a6c6af",
    "none": "8ca852f0d79ba0485e9ac2c9c175853adf296425",
    "true": "4ea83061d616c782dfc446a993f359ae97cac6c8",
    "false": "4b0801b82e09ef3af7a2be73506b07fe7a7d5924",
    "list": "e7d06e9958da58a4162eff3ccbfc83f58b7fb71a",
    "tuple": "b0569e530c1780c5d5475ee885a6fb02c834b0dd",
    "dict": "96cc64962c85beba8a1bc3e0de2c3cdc96423784",
    "set": "0141c474b340215635cbff413fd50b019f3d6244",
    "strset": "860d4d21fba1090bc5ec0b2148c5a4c832676fae",
    "frozenset": "c8bad7af966748278674a7c86cf1b7876367b7f4",
    "datetime": "5fd030ca52a9a53d12a64d904a0f8c3a61a9c33d",
    "datetime_utc": "f7aa0633edf8d9c538906762bc052bf1e832aae6",
    "date": "7c369da1076c570c2010cdea514df9b4a1389fea",
    "timedelta": "cbfacc7572f6b57280ff8cfa80ccd6470d9778ef",
    "enum": "dd97ee5fc3fa096e7cefffd90ec2d12411ceb6a5",
    "enum_str": "0cfdb56039098c4ae1ed2406fa26adb5e3aca88a",
    "intenum": "4ce909e6666f6cdaf66c2346928d2793184b94ee",
    "dataclass": "cc9e844e387e873f63bde32f62279c7cafbfd2aa",
    "namedtuple": "754d9e9d5d18e0306bebd0e5f01858fb893a221d",
    "nested": "8b638adac5007a6cb2694b909639b00ecd5a07db",
    "function": "92b62c576d7d7fd33e8b7e87625f6d54491eff50",
    "lambda": "4c60d0738ebd9efbbc50f239210af1a699c2da91",
    # Decorator lines are stripped from the hashed source, but only above a
    # plain `def` (redun's rule; an `async def` keeps them).
    "decorated": "16154ff3f28337b8a94b14cd10e2fda9654e3613",
    "decorated_async": "e93eb0a2af6f598991599f1e3110c0c837da92fb",
}

GOLDEN_TYPE_NAMES = {
    "int": "builtins.int",
    "bytes": "builtins.bytes",
    "float": "builtins.float",
    "none": "builtins.NoneType",
    "true": "builtins.bool",
    "set": "builtins.set",
    "frozenset": "builtins.frozenset",
    "datetime": "datetime.datetime",
    "date": "datetime.date",
    "enum": "enum.Enum",
    "intenum": "enum.Enum",
    "dataclass": "redun_golden_mod.Point",
    "namedtuple": "redun_golden_mod.Pair",
    "nested": "builtins.list",
    "function": "builtins.function",
    "lambda": "builtins.function",
}


def golden_values(mod):
    return {
        "int": 1,
        "zero": 0,
        "neg": -5,
        "big": 2**70,
        "str": "hello",
        "empty_str": "",
        "bytes": b"bytes",
        "float": 1.5,
        "none": None,
        "true": True,
        "false": False,
        "list": [1, 2, 3],
        "tuple": (1, "a"),
        "dict": {"a": 1, "b": [2]},
        "set": {3, 1, 2},
        "strset": {"b", "a"},
        "frozenset": frozenset({1}),
        "datetime": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "datetime_utc": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "date": datetime.date(2024, 1, 2),
        "timedelta": datetime.timedelta(seconds=90),
        "enum": mod.Color.RED,
        "enum_str": mod.Color.GREEN,
        "intenum": mod.Level.LOW,
        "dataclass": mod.Point(1),
        "namedtuple": mod.Pair(1, "b"),
        "nested": [mod.Point(2, 1.0), {"k": (mod.Pair(None, True),)}],
        "function": mod.double,
        "lambda": mod.triple,
        "decorated": mod.decorated,
        "decorated_async": mod.decorated_async,
    }


@pytest.mark.parametrize("name", sorted(GOLDEN_HASHES))
def test_value_hashes_match_redun(golden_mod, name):
    registry = get_type_registry()
    value = golden_values(golden_mod)[name]
    assert registry.get_hash(value) == GOLDEN_HASHES[name]
    # The memoized path (second lookup of the same class) gives the same hash.
    assert registry.get_hash(value) == GOLDEN_HASHES[name]
    assert registry.get_value(value).get_hash() == GOLDEN_HASHES[name]


@pytest.mark.parametrize("name", sorted(GOLDEN_TYPE_NAMES))
def test_type_names_match_redun(golden_mod, name):
    value = golden_values(golden_mod)[name]
    assert get_type_registry().get_type_name(type(value)) == GOLDEN_TYPE_NAMES[name]


def test_eval_hash_matches_redun():
    assert hash_eval(get_type_registry(), "f" * 40, [1, "two"], {"x": 3.5}) == (
        "fd64c299d583abd773e3ccbe6961c456978d59a4",
        "e95c8c9b706d2e8df429a6de26b13888e5062ca4",
    )


def test_set_hash_ignores_insertion_order():
    registry = get_type_registry()
    assert registry.get_hash({1, 2, 3}) == registry.get_hash({3, 2, 1})
    assert registry.get_hash({1, 2, 3}) != registry.get_hash([1, 2, 3])


def test_set_of_unorderable_members_hashes_stably():
    registry = get_type_registry()
    mixed = {1, "a", None, (2, "b")}
    assert registry.get_hash(mixed) == registry.get_hash(set(reversed(list(mixed))))
    assert registry.get_hash(mixed) != registry.get_hash({1, "a", None})


@pytest.mark.parametrize(
    "value", [1, "x", None, [1, {"a": (2, 3)}], {4, 5}, datetime.datetime(2020, 5, 6)]
)
def test_serialize_round_trip(value):
    registry = get_type_registry()
    data = registry.serialize(value)
    assert data == pickle.dumps(value, protocol=3)
    type_name = registry.get_type_name(type(value))
    assert registry.deserialize(type_name, data) == value
    assert registry.get_serialization_format(value) == MIME_TYPE_PICKLE


def test_unknown_type_name_falls_back_to_pickle():
    registry = get_type_registry()
    assert registry.deserialize("no_such_module.Thing", pickle_dumps([1, 2])) == [1, 2]
    with pytest.raises(RedunTypeError, match='Unable to import type "no_such_module.Thing"'):
        registry.parse_type_name("no_such_module.Thing")


def test_missing_module_inside_pickle_is_invalid_value():
    registry = get_type_registry()
    data = pickle_dumps(datetime.date(2020, 1, 1)).replace(b"datetime", b"nomodule")
    with pytest.raises(InvalidValueError, match="Error parsing value"):
        registry.deserialize("builtins.list", data)


def test_value_subclass_registers_and_round_trips():
    class Celsius(Value):
        type_name = "tests.Celsius"

        def __init__(self, degrees):
            self.degrees = degrees

        def get_hash(self, data=None):
            return f"celsius{self.degrees}".ljust(40, "0")

    registry = get_type_registry()
    value = Celsius(21)
    assert registry.parse_type_name("tests.Celsius") is Celsius
    assert registry.get_type_name(Celsius) == "tests.Celsius"
    assert registry.get_hash(value) == "celsius21".ljust(40, "0")
    assert registry.get_value(value) is value
    assert registry.preprocess(value, {}) is value


def test_value_default_type_name_and_register_opt_out():
    class Plain(Value):
        def __init__(self, x=0):
            self.x = x

    class Hidden(Value):
        register = False

    registry = get_type_registry()
    assert Plain.type_name == f"{__name__}.Plain"
    assert registry.parse_type_name(Plain.type_name) is Plain
    assert Plain(3).get_hash() == hash_tag_bytes("Value", pickle_dumps(Plain(3)))
    with pytest.raises(RedunTypeError):
        registry.parse_type_name(Hidden.type_name)


def test_proxy_value_registration_changes_hash_and_parsing():
    class Meters:
        def __init__(self, value):
            self.value = value

    registry = get_type_registry()
    before = registry.get_hash(Meters(1))

    class MetersProxy(ProxyValue):
        type = Meters

        def get_hash(self, data=None):
            return "m" * 40

        @classmethod
        def parse_arg(cls, raw_type, arg):
            return Meters(float(arg.rstrip("m")))

    assert MetersProxy.type_name == f"{__name__}.Meters"
    assert before != "m" * 40
    assert registry.get_hash(Meters(1)) == "m" * 40
    assert registry.parse_arg(Meters, "2.5m").value == 2.5
    assert registry.get_type_name(Meters) == MetersProxy.type_name


def test_parse_arg_builtin_proxies(golden_mod):
    registry = get_type_registry()
    assert registry.parse_arg(bool, "TRUE") is True
    assert registry.parse_arg(bool, "false") is False
    with pytest.raises(ValueError, match='Unknown bool "maybe"'):
        registry.parse_arg(bool, "maybe")
    assert registry.parse_arg(int, "12") == 12
    assert registry.parse_arg(golden_mod.Color, "GREEN") is golden_mod.Color.GREEN
    assert registry.parse_arg(golden_mod.Color, "Color.RED") is golden_mod.Color.RED
    with pytest.raises(ValueError, match="Other.RED is not a valid Color"):
        registry.parse_arg(golden_mod.Color, "Other.RED")
    assert registry.parse_arg(datetime.datetime, "2024-01-02T03:04:05") == datetime.datetime(
        2024, 1, 2, 3, 4, 5
    )
    assert registry.parse_arg(datetime.datetime, "2024/01/02") == datetime.datetime(2024, 1, 2)
    with pytest.raises(ValueError, match="Cannot parse datetime 'soon'"):
        registry.parse_arg(datetime.datetime, "soon")
    assert registry.parse_arg(type(golden_mod.double), "redun_golden_mod.double") is (
        golden_mod.double
    )
    with pytest.raises(ValueError, match="Function not found"):
        registry.parse_arg(type(golden_mod.double), "redun_golden_mod.nope")
    assert registry.get_type(bool) is Bool
    assert registry.get_type(golden_mod.Level) is EnumType
    assert registry.get_type(datetime.datetime) is DatetimeType


def test_typing_constructs_have_no_proxy():
    registry = get_type_registry()
    assert registry.get_type(list[int], use_default=False) is None
    assert registry.parse_arg(list[int], "12") == ["1", "2"]


def test_function_values_pickle_by_reference(golden_mod):
    registry = get_type_registry()
    data = registry.serialize(golden_mod.double)
    assert b"def double" not in data
    assert registry.deserialize("builtins.function", data) is golden_mod.double
    assert registry.is_valid(golden_mod.double)


def test_function_that_disappeared_is_invalid(golden_mod):
    registry = get_type_registry()
    data = registry.serialize(golden_mod.double).replace(b"double", b"halves")
    func = registry.deserialize("builtins.function", data)
    assert not registry.is_valid(func)
    with pytest.raises(ValueError, match="redun_golden_mod.halves' cannot be found"):
        func(1)
    assert not Function(make_unknown_function("m.f")).is_valid()


def test_local_function_is_rejected():
    def local(x):
        return x

    with pytest.raises(InvalidValueError, match="must be defined at module level"):
        get_type_registry().get_hash(local)


def test_lambdas_nested_in_values_serialize_via_cloudpickle():
    registry = get_type_registry()
    value = {"f": lambda x: x + 1}
    restored = registry.deserialize("builtins.dict", registry.serialize(value))
    assert restored["f"](1) == 2
    assert len(registry.get_hash(value)) == 40


class Tracked(Value):
    """A Value whose validity and processing can be observed."""

    def __init__(self, name, valid=True):
        self.name = name
        self.valid = valid

    def is_valid(self):
        return self.valid

    def preprocess(self, preprocess_args):
        return Tracked(self.name + "-pre", self.valid)

    def postprocess(self, postprocess_args):
        return Tracked(self.name + "-post", self.valid)


def test_validity_and_processing_of_nested_values():
    registry = get_type_registry()
    good, bad = Tracked("a"), Tracked("b", valid=False)
    assert registry.is_valid_nested([1, {"k": good}, (good,)])
    assert not registry.is_valid_nested([1, {"k": (good, bad)}])
    assert registry.preprocess(good, {}).name == "a-pre"
    assert registry.postprocess(good, {}).name == "a-post"
    assert registry.preprocess(5, {}) == 5
    assert list(registry.iter_subvalues([good, 1, {"x": bad}])) == [good, bad]
    assert list(registry.iter_subvalues(good)) == []


def test_plugin_value_types_are_imported_on_demand(tmp_path, monkeypatch):
    module = tmp_path / "plugin_values_mod.py"
    module.write_text(
        "from redun.value import Value\n\n\n"
        "class Sample(Value):\n"
        "    type_name = 'plugin_pkg.Sample'\n\n"
        "    def __init__(self, x):\n"
        "        self.x = x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    class Plugin:
        @hookimpl
        def redun_value_types(self):
            return [ValueTypeSpec("plugin_pkg.Sample", "plugin_values_mod")]

    manager = RedunPluginManager(strict=True)
    manager.load(autoload=False)
    manager.register_plugin(Plugin(), "sample", "sample-dist", "1.0")
    reset_plugin_manager(manager)

    registry = get_type_registry()
    value_type = registry.parse_type_name("plugin_pkg.Sample")
    assert value_type.__module__ == "plugin_values_mod"
    assert value_type.type_name == "plugin_pkg.Sample"


def test_plugin_value_type_whose_module_is_gone_is_a_clear_error():
    class Plugin:
        @hookimpl
        def redun_value_types(self):
            return [ValueTypeSpec("gone_pkg.Thing", "gone_pkg_module_xyz")]

    manager = RedunPluginManager(strict=True)
    manager.load(autoload=False)
    manager.register_plugin(Plugin(), "gone", "gone-dist", "1.0")
    reset_plugin_manager(manager)

    registry = get_type_registry()
    with pytest.raises(RedunTypeError, match="its module gone_pkg_module_xyz failed to import"):
        registry.parse_type_name("gone_pkg.Thing")
    assert registry.deserialize("gone_pkg.Thing", pickle_dumps([3])) == [3]


def test_enum_subclass_members_use_enum_proxy():
    class Mode(enum.Enum):
        FAST = "fast"

    assert isinstance(get_type_registry().get_value(Mode.FAST), EnumType)
