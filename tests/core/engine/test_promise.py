from redun.promise import Promise, wait_promises


def test_then_chains_values_and_flattens_returned_promises():
    seen = []
    source: Promise = Promise()
    inner: Promise = Promise()
    result = source.then(lambda x: x + 1).then(lambda x: inner).then(seen.append)
    source.do_resolve(1)
    assert seen == [] and result.is_pending
    inner.do_resolve("inner")
    assert seen == ["inner"]
    assert result.is_fulfilled


def test_errors_propagate_to_the_first_rejector_and_callbacks_run_once():
    calls = []
    promise: Promise = Promise()
    caught = promise.then(lambda x: calls.append(("then", x))).catch(
        lambda error: calls.append(("catch", str(error))) or "recovered"
    )
    promise.do_reject(ValueError("bad"))
    promise.do_resolve(5)
    promise.do_reject(KeyError("late"))
    assert calls == [("catch", "bad")]
    assert caught.value == "recovered"
    assert promise.is_rejected and isinstance(promise.value, ValueError)


def test_exception_in_executor_function_rejects():
    def run(resolve, reject):
        raise RuntimeError("in executor")

    assert str(Promise(run).error) == "in executor"


def test_callbacks_added_after_settlement_still_run():
    promise: Promise = Promise(lambda resolve, reject: resolve(3))
    assert promise.then(lambda x: x * 2).value == 6


def test_all_keeps_order_and_rejects_on_first_error():
    a, b = Promise(), Promise()
    combined = Promise.all([a, b])
    b.do_resolve("b")
    a.do_resolve("a")
    assert combined.value == ["a", "b"]
    assert Promise.all([]).value == []

    c, d = Promise(), Promise()
    failing = Promise.all([c, d])
    d.do_reject(KeyError("d"))
    assert failing.is_rejected and c.is_pending


def test_wait_promises_settles_after_all_either_way():
    a, b = Promise(), Promise()
    waited = wait_promises([a, b])
    a.do_reject(ValueError("a"))
    assert waited.is_pending
    b.do_resolve(1)
    assert waited.value == [a, b]


def test_long_chain_of_dependent_promises_uses_no_recursion():
    # Each promise resolves the next from inside a callback: 50,000 levels.
    first: Promise = Promise()
    last = first
    for _ in range(50_000):
        last = last.then(lambda x: x + 1)
    first.do_resolve(0)
    assert last.value == 50_000
