"""Large results are written once FLUSH_BYTES of them are buffered, not at the deadline."""

from __future__ import annotations

from redun import Scheduler, task
from redun.backends.db import RedunBackendDb
from redun.scheduler.scheduler import FLUSH_BYTES

from tests.core.engine.helpers import memory_config

redun_namespace = "flush_bytes_test"

CHUNK = 512 * 1024


@task()
def blob(i: int) -> bytes:
    return bytes([i % 256]) * CHUNK


@task()
def blobs(n: int) -> list:
    return [blob(i) for i in range(n)]


def test_buffered_bytes_counts_serialized_values_until_written(tmp_path) -> None:
    backend = RedunBackendDb(db_uri=f"sqlite:///{tmp_path / 'redun.db'}")
    backend.load()
    assert backend.buffered_bytes == 0
    backend.record_value(b"x" * 1000)
    backend.record_value(b"y" * 3000)
    # Pickled bytes: the payload plus a few bytes of framing each.
    assert 4000 <= backend.buffered_bytes < 4100
    backend.flush()
    assert backend.buffered_bytes == 0


def test_a_run_of_large_results_is_written_in_pieces_of_flush_bytes() -> None:
    scheduler = Scheduler(config=memory_config())
    held: list[int] = []
    try_flush = scheduler.backend.try_flush

    def noted() -> bool:
        held.append(scheduler.backend.buffered_bytes)
        return try_flush()

    scheduler.backend.try_flush = noted  # type: ignore[method-assign]
    n = 48  # 24 MB of results
    result = scheduler.run(blobs(n))
    assert [value[:1] for value in result] == [bytes([i]) for i in range(n)]
    # While the blobs finish, never much more than the limit waits; the last write
    # holds the parent's result, the list of all of them (one 24 MB value).
    during, last = held[:-1], held[-1]
    assert max(during) < FLUSH_BYTES + 2 * CHUNK, held
    assert sum(1 for size in during if size >= FLUSH_BYTES) >= 4, held
    assert last >= n * CHUNK
