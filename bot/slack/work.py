"""Where a request's work runs: not on the thread that acks it.

Bolt runs each listener's ack function on the request's own thread and its lazy functions on the listener
executor (process_before_response=True), so an ack never waits behind a database or Slack call. The executor here
counts what is queued, so that when the server truly cannot keep up it says so at once instead of acking work it
would do minutes later (bot.slack.middleware.admit)."""

from __future__ import annotations

import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor


class WorkPool(ThreadPoolExecutor):
    """Bolt's listener executor, with a bound on the work waiting or running."""

    def __init__(self, threads: int, limit: int):
        super().__init__(max_workers=threads, thread_name_prefix="work")
        self.limit = limit
        self._pending = 0
        self._room = threading.Condition()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._room:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future) -> None:
        with self._room:
            self._pending -= 1
            self._room.notify()

    @property
    def pending(self) -> int:
        return self._pending

    def admit(self, wait: float) -> bool:
        """Whether there is room for one more piece of work, waiting up to `wait` seconds for some."""
        with self._room:
            return self._room.wait_for(lambda: self._pending < self.limit, timeout=wait)


class Inline(Executor):
    """Runs work at once on the caller's thread: the console and the tests see a request's whole effect as soon as
    it returns."""

    pending = 0

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - a Future carries whatever the work raised
            future.set_exception(exc)
        return future

    def admit(self, wait: float) -> bool:
        return True
