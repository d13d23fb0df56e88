import asyncio

import pytest
from redun import Handle, merge_handles, task
from redun.executors.alias import AliasExecutor
from redun.scheduler import SchedulerError

redun_namespace = "async_test"

ran: list = []


def setup_function() -> None:
    ran.clear()


@task
def square(x: int) -> int:
    return x * x


@task(cache=False)
async def async_sum(n: int) -> int:
    values = await asyncio.gather(*(square(i) for i in range(n)))
    await asyncio.sleep(0)
    return sum(values)


@task(cache=True, check_valid="shallow")
async def async_cached(x: int) -> int:
    ran.append(("async_cached", x))
    return await square(x) + 1


def test_async_tasks_await_expressions(scheduler):
    assert scheduler.run(async_sum(4)) == 0 + 1 + 4 + 9


def test_async_tasks_with_shallow_caching_hit_the_cache(repo):
    assert repo().run(async_cached(3)) == 10
    assert repo().run(async_cached(3)) == 10
    assert ran == [("async_cached", 3)]


def test_awaiting_outside_an_async_task_fails():
    async def outside():
        return await square(2)

    with pytest.raises(RuntimeError, match="Can only await on an Expression"):
        asyncio.run(outside())


def test_executors_without_async_support_reject_async_tasks(scheduler):
    class ThreadsOnly(AliasExecutor):
        def supports_async(self) -> bool:
            return False

    scheduler.add_executor(ThreadsOnly("threads_only", target="default"))
    with pytest.raises(SchedulerError, match='Executor "threads_only" does not support async'):
        scheduler.run(async_sum.options(executor="threads_only")(2))


class Counter(Handle):
    def __init__(self, name: str, start: int = 0) -> None:
        self.start = start
        self.events: list = []


@task
def bump(counter: Counter, step: int) -> Counter:
    ran.append(("bump", step))
    counter.events.append(step)
    return counter


@task
def pipeline(counter: Counter) -> Counter:
    return bump(bump(counter, 1), 2)


@task
def fan_out(counter: Counter) -> Counter:
    return merge_handles([bump(counter, 10), bump(counter, 20)])


def test_handle_hashes_follow_the_calls_they_pass_through(repo):
    counter = Counter("counter", start=5)
    initial_hash = counter.get_hash()
    result = repo().run(pipeline(counter))
    assert isinstance(result, Counter)
    assert result.__handle__.fullname == "async_test.counter"
    assert result.get_hash() != initial_hash
    assert result.__handle__.call_hash
    ran.clear()
    again = repo().run(pipeline(Counter("counter", start=5)))
    assert ran == []
    assert again.get_hash() == result.get_hash()


def test_forked_handles_merge(repo):
    result = repo().run(fan_out(Counter("merged")))
    assert isinstance(result, Counter)
    assert sorted(step for _, step in ran) == [10, 20]


def test_handle_states_after_a_rerun_from_an_earlier_state_are_invalid(repo):
    scheduler = repo()
    first = scheduler.run(bump(Counter("rollback"), 1))
    scheduler.run(bump(first, 2))
    ran.clear()
    scheduler.run(bump(first, 2))
    assert ran == []
    # A new call on the initial state rolls back every state derived from it...
    scheduler.run(bump(Counter("rollback"), 3))
    # ...so the cached result of the later call is no longer valid.
    scheduler.run(bump(first, 2))
    assert ran == [("bump", 3), ("bump", 2)]
