"""A task's result is serialized once by the scheduler, however large it is."""

from __future__ import annotations

from pathlib import Path

from redun import Scheduler, task
from redun.config import Config

redun_namespace = "test_large_values"

pickled: list[int] = []


class Payload:
    """A result that counts how often it is pickled."""

    def __init__(self, size: int) -> None:
        self.data = b"x" * size

    def __reduce__(self) -> tuple:
        pickled.append(len(self.data))
        return (Payload, (len(self.data),))


@task()
def produce(size: int) -> Payload:
    return Payload(size)


def test_result_is_pickled_once_to_hash_and_record(tmp_path: Path) -> None:
    pickled.clear()
    scheduler = Scheduler(config=Config({"backend": {"db_uri": f"sqlite:///{tmp_path}/r.db"}}))
    scheduler.load()
    result = scheduler.run(produce(1_000_000))
    assert len(result.data) == 1_000_000
    assert pickled == [1_000_000], "hashing and recording must share one serialization"


def test_cached_result_is_not_pickled_again(tmp_path: Path) -> None:
    """A cache hit knows its stored hash: the loaded result is not serialized to hash it."""
    config = Config({"backend": {"db_uri": f"sqlite:///{tmp_path}/r.db"}})
    first = Scheduler(config=config)
    first.load()
    first.run(produce(1_000_000))
    pickled.clear()
    second = Scheduler(config=config)
    second.load()
    result = second.run(produce(1_000_000))
    assert len(result.data) == 1_000_000
    assert pickled == [], "a cached result must not be pickled again"
