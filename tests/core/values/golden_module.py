"""A module written to disk by tests, so hashes that include module names and source code
match golden values computed with redun 0.44.1 from the very same module."""

GOLDEN_MODULE_SOURCE = """\
import collections
import dataclasses
import enum


class Color(enum.Enum):
    RED = 1
    GREEN = "g"


class Level(enum.IntEnum):
    LOW = 1


@dataclasses.dataclass
class Point:
    x: int
    y: float = 0.5


Pair = collections.namedtuple("Pair", ["a", "b"])


def double(x):
    return 2 * x


triple = lambda x: 3 * x  # noqa: E731


def decorate(func):
    return func


@decorate
def decorated(x):
    return x + 1


@decorate
async def decorated_async(x):
    return x
"""
