"""A single-threaded Promise whose callbacks never nest.

Settling a promise queues its callbacks on a per-thread trampoline instead of
calling them from inside ``do_resolve``, so a chain of 10,000 promises that
settle one another (a deeply recursive workflow) uses constant stack depth.
Callbacks of a promise settled outside any callback still run before
``do_resolve`` returns.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
S = TypeVar("S")

_PENDING = 0
_FULFILLED = 1
_REJECTED = 2
# A settled promise's callback lists: nothing is added once it settled (see _listen).
_SETTLED: tuple = ()


class _Trampoline(threading.local):
    def __init__(self) -> None:
        self.queue: deque[tuple[list[Callable[[Any], Any]], Any]] = deque()
        self.running = False


_trampoline = _Trampoline()


def _schedule(callbacks: list[Callable[[Any], Any]], arg: Any) -> None:
    state = _trampoline
    state.queue.append((callbacks, arg))
    if state.running:
        return
    state.running = True
    try:
        queue = state.queue
        while queue:
            funcs, value = queue.popleft()
            for func in funcs:
                func(value)
    finally:
        state.running = False


class Promise(Generic[T]):
    """A value that will exist later; settles once, callbacks run at most once."""

    __slots__ = ("_state", "_value", "_resolvers", "_rejectors")

    def __init__(self, func: Callable[[Callable, Callable], Any] | None = None) -> None:
        self._state = _PENDING
        self._value: Any = None
        self._resolvers: list[Callable[[Any], Any]] = []
        self._rejectors: list[Callable[[Any], Any]] = []
        if func is not None:
            try:
                func(self.do_resolve, self.do_reject)
            except Exception as error:
                self.do_reject(error)

    @property
    def is_pending(self) -> bool:
        return self._state == _PENDING

    @property
    def is_fulfilled(self) -> bool:
        return self._state == _FULFILLED

    @property
    def is_rejected(self) -> bool:
        return self._state == _REJECTED

    @property
    def value(self) -> T:
        """The result, or the error of a rejected promise (redun's legacy behaviour)."""
        if self._state == _PENDING:
            raise ValueError("Promise is still pending.")
        return self._value

    @property
    def error(self) -> Exception:
        if self._state != _REJECTED:
            raise ValueError("Promise is not rejected.")
        return self._value

    def do_resolve(self, result: T) -> T:
        if self._state != _PENDING:
            return result
        self._state = _FULFILLED
        self._value = result
        callbacks = self._resolvers
        self._resolvers = _SETTLED  # type: ignore[assignment]
        self._rejectors = _SETTLED  # type: ignore[assignment]
        if callbacks:
            _schedule(callbacks, result)
        return result

    def do_reject(self, error: Exception) -> Exception:
        if self._state != _PENDING:
            return error
        self._state = _REJECTED
        self._value = error
        callbacks = self._rejectors
        self._resolvers = _SETTLED  # type: ignore[assignment]
        self._rejectors = _SETTLED  # type: ignore[assignment]
        if callbacks:
            _schedule(callbacks, error)
        return error

    def _listen(self, on_resolve: Callable[[Any], Any], on_reject: Callable[[Any], Any]) -> None:
        state = self._state
        if state == _PENDING:
            self._resolvers.append(on_resolve)
            self._rejectors.append(on_reject)
        elif state == _FULFILLED:
            _schedule([on_resolve], self._value)
        else:
            _schedule([on_reject], self._value)

    def then(
        self,
        resolver: Callable[[T], Any] | None = None,
        rejector: Callable[[Exception], Any] | None = None,
    ) -> Promise[Any]:
        """A promise of `resolver(value)` (or `rejector(error)`); returned promises flatten."""
        promise: Promise[Any] = Promise()
        self._listen(
            _wrap(resolver, promise) if resolver else promise.do_resolve,
            _wrap(rejector, promise) if rejector else promise.do_reject,
        )
        return promise

    def catch(self, rejector: Callable[[Exception], S]) -> Promise[S]:
        return self.then(None, rejector)

    @classmethod
    def all(cls, subpromises: Sequence[Promise[Any]]) -> Promise[list[Any]]:
        """Resolve with every result in order, or reject with the first error."""
        promise: Promise[list[Any]] = Promise()
        count = len(subpromises)
        if count == 0:
            promise.do_resolve([])
            return promise
        results: list[Any] = [None] * count
        remaining = [count]

        def make_then(i: int) -> Callable[[Any], None]:
            def then(result: Any) -> None:
                results[i] = result
                remaining[0] -= 1
                if remaining[0] == 0:
                    promise.do_resolve(results)

            return then

        for i, subpromise in enumerate(subpromises):
            subpromise._listen(make_then(i), promise.do_reject)
        return promise


def _wrap(func: Callable[[Any], Any], promise: Promise[Any]) -> Callable[[Any], None]:
    def callback(arg: Any) -> None:
        try:
            result = func(arg)
        except Exception as error:
            promise.do_reject(error)
            return
        if isinstance(result, Promise):
            result._listen(promise.do_resolve, promise.do_reject)
        else:
            promise.do_resolve(result)

    return callback


def wait_promises(subpromises: list[Promise[T]]) -> Promise[list[Promise[T]]]:
    """Resolve with `subpromises` once every one of them has settled either way."""
    promise: Promise[list[Promise[T]]] = Promise()
    remaining = [len(subpromises)]
    if not subpromises:
        promise.do_resolve([])
        return promise

    def done(_: Any) -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            promise.do_resolve(subpromises)

    for subpromise in subpromises:
        subpromise._listen(done, done)
    return promise
