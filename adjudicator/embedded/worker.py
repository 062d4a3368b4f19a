"""A thread that works on the items handed to it, one at a time, in order (``Worker``)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any


class Worker:
    """Calls ``work`` on each item handed to it, in order, on a thread of its own.

    ``put`` waits while the previous item is still at work, so one item is
    held at a time (the driver works on the next batch meanwhile: two batches
    in memory, not three); ``close`` drains the queue, joins the thread and
    re-raises the first error ``work`` met (later items are then skipped).
    """

    def __init__(self, work: Callable[[Any], None], name: str) -> None:
        self._work = work
        self._queue: queue.Queue[tuple[Any] | None] = queue.Queue()
        self._free = threading.BoundedSemaphore(1)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self.error is None:
                try:
                    self._work(item[0])
                except BaseException as exc:  # re-raised in the driver's thread by put/close
                    self.error = exc
            del item
            self._free.release()

    def put(self, item: Any) -> None:
        self._free.acquire()
        if self.error is not None:
            self._free.release()
            raise self.error
        self._queue.put((item,))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error


__all__ = ["Worker"]
